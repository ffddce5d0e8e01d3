// How long a sweep's runs will take, for `l3m sweep plan`, from what this machine has measured. First
// choice: completed earlier runs of the same experiment and shape in the runs folder (their training
// steps/s from metrics.jsonl, and the rest of their wall time — data, evaluation — as overhead).
// Otherwise: a short matmul benchmark of the backend the config asks for, scaled by the config's
// training FLOPs (6 · parameters · tokens per step, the usual dense-transformer count); that ignores
// per-step overheads and the CFM head's convolutions, so it says so and is a rough lower bound.
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import type { ConfigFileSystem } from '../../schemas/config_context';
import { resolveConfig } from '../../schemas/resolve_config';
import { sliceCells } from '../../schemas/semantic_checks';
import { simulatorPresets } from '../../schemas/simulator_presets';
import { runEstimate } from '../../schemas/sweep_estimates';
import type { PlannedRun, SweepPlan } from '../../schemas/sweep_plan';
import { measuredRuns, timeFromEarlierRuns, type Measurement } from '../protocol/measured_step_rate';
import { errorMessage } from '../protocol/error_message';
import { selectRuntime } from '../jobs/select_runtime';

export interface RunTime {
  /** Seconds one run of this config takes, when known. */
  seconds?: number;
  /** Seconds of one epoch's training steps, when the number of steps per epoch is known. */
  epochSeconds?: number;
  source: 'measured' | 'benchmark' | 'unknown';
  /** What the figure rests on, or why there is none. */
  detail: string;
}

/** Seconds of a run of `config` from earlier runs of the same shape, or undefined when none fits. */
function fromEarlierRuns(config: ResolvedExperimentConfig, earlier: Measurement[]): RunTime | undefined {
  const measured = timeFromEarlierRuns(config, earlier);
  if (!measured) return undefined;
  return {
    seconds: measured.seconds,
    epochSeconds: measured.epochSeconds,
    source: 'measured',
    detail: `${measured.steps} steps at ${measured.stepsPerSecond.toPrecision(3)} steps/s + ${measured.overhead.toFixed(0)} s data and evaluation, measured on ${measured.runs} completed run${measured.runs === 1 ? '' : 's'} of the same shape (newest ${measured.newestRunDir})`,
  };
}

/** Tokens one training sample feeds the backbone, when the config says enough to count them. */
function tokensPerSample(config: ResolvedExperimentConfig): number | undefined {
  if (config.task === 'regression') {
    // Lightcone tokens plus the summary token and a few prompt tokens.
    return config.data.preprocessing.tokens === 'global_signal'
      ? config.data.preprocessing.global_signal_tokens + 8
      : undefined;
  }
  const slice = sliceCells(config);
  if (!slice) return undefined;
  const side = slice.cells / config.data.patch_size;
  // Per slice [patch × Y, <|nl_2|>] × X, <|nl_1|>, plus the prompt: as the context-length check counts.
  return config.data.sublightcone.length * (side * side + side + 1) + 32;
}

/**
 * Optimizer steps of one epoch, when the config says enough to count them: the built-in simulator's training
 * cones (and for generation their windows, before trimming drops the late, ionised end: an upper bound).
 */
function stepsPerEpoch(config: ResolvedExperimentConfig): number | undefined {
  const t = config.training;
  const data = config.data;
  if (data.source !== 'simulator') return undefined;
  const count = data.simulator.count;
  const train =
    count - Math.round(count * data.splits.validation_fraction) - Math.round(count * data.splits.test_fraction);
  let samples = train * t.train_ds_multiplicity;
  if (config.task === 'generation') {
    const nLos = simulatorPresets[data.simulator.preset]?.nLos;
    if (nLos === undefined) return undefined;
    const { length, context, stride } = data.sublightcone;
    samples *= Math.max(0, Math.floor((nLos - length) / (stride ?? length - context)) + 1);
  }
  // An epoch is whole batches: the last partial one is dropped, as the training loader does.
  return Math.max(1, Math.floor(samples / (t.batch_size * t.gradient_accumulation_steps)));
}

/** Optimizer steps of a run, when the config says enough to count them. */
function plannedSteps(config: ResolvedExperimentConfig): number | undefined {
  const t = config.training;
  if (t.unit === 'steps') return t.steps;
  const perEpoch = stepsPerEpoch(config);
  return perEpoch === undefined ? undefined : Math.ceil(t.epochs * perEpoch);
}

const benchmarks = new Map<string, Promise<{ flopsPerSecond: number; backend: string } | { error: string }>>();

/** Float32 matmul throughput of the backend a config asks for, measured for about half a second. */
function benchmarkBackend(config: ResolvedExperimentConfig) {
  const key = JSON.stringify(config.runtime);
  let result = benchmarks.get(key);
  if (!result) {
    result = (async () => {
      try {
        const runtime = await selectRuntime(config.runtime);
        const n = 256;
        const a = tf.randomNormal([n, n]);
        const b = tf.randomNormal([n, n]);
        // Read back asynchronously (the webgpu backend has no synchronous read in Node) and freed each time.
        const once = async () => {
          const product = tf.matMul(a, b);
          await product.data();
          product.dispose();
        };
        await once();
        let repetitions = 0;
        const start = performance.now();
        while (performance.now() - start < 500) {
          await once();
          repetitions++;
        }
        const seconds = (performance.now() - start) / 1000;
        tf.dispose([a, b]);
        return { flopsPerSecond: (2 * n ** 3 * repetitions) / seconds, backend: runtime.backend.name };
      } catch (error) {
        return { error: errorMessage(error) };
      }
    })();
    benchmarks.set(key, result);
  }
  return result;
}

/** Seconds of a run of `config` from the backend's measured matmul throughput and the config's FLOPs. */
async function fromBenchmark(
  run: PlannedRun,
  config: ResolvedExperimentConfig,
  fileSystem: ConfigFileSystem,
): Promise<RunTime> {
  const { estimate } = runEstimate(run, fileSystem);
  const tokens = tokensPerSample(config);
  const steps = plannedSteps(config);
  if (!estimate || tokens === undefined || steps === undefined) {
    return {
      source: 'unknown',
      detail: `unknown: no completed run of ${run.experiment} with this shape in the runs folder, and the ${!estimate ? 'model size' : tokens === undefined ? 'tokens per sample' : 'number of steps (epochs of this data)'} cannot be told from the config. Train one run first.`,
    };
  }
  const measured = await benchmarkBackend(config);
  if ('error' in measured)
    return { source: 'unknown', detail: `unknown: the backend benchmark failed (${measured.error})` };
  const perStep =
    6 *
    (estimate.total - estimate.embeddings) *
    tokens *
    config.training.batch_size *
    config.training.gradient_accumulation_steps;
  const perEpoch = stepsPerEpoch(config);
  return {
    seconds: (steps * perStep) / measured.flopsPerSecond,
    epochSeconds: perEpoch === undefined ? undefined : (perEpoch * perStep) / measured.flopsPerSecond,
    source: 'benchmark',
    detail: `${steps} steps × ${(perStep / 1e9).toPrecision(3)} GFLOP at ${(measured.flopsPerSecond / 1e9).toPrecision(3)} GFLOP/s (${measured.backend} matmul benchmark; no completed run of this shape to measure, so steps' overheads are left out: a lower bound)`,
  };
}

/** The run time of each distinct config of the plan (keyed by base and overrides) and their total. */
export async function estimateRunTimes(
  plan: SweepPlan,
  runsDir: string,
  fileSystem: ConfigFileSystem,
): Promise<{ byConfig: Map<string, RunTime>; totalSeconds?: number }> {
  const byConfig = new Map<string, RunTime>();
  const earlier = new Map<string, Measurement[]>();
  let total: number | undefined = 0;
  for (const run of plan.runs) {
    const key = configKey(run);
    let time = byConfig.get(key);
    if (!time) {
      const config = resolveConfig(run.config);
      if (!earlier.has(run.experiment)) earlier.set(run.experiment, measuredRuns(runsDir, run.experiment));
      time =
        fromEarlierRuns(config, earlier.get(run.experiment) ?? []) ?? (await fromBenchmark(run, config, fileSystem));
      byConfig.set(key, time);
    }
    total = time.seconds === undefined || total === undefined ? undefined : total + time.seconds;
  }
  return { byConfig, totalSeconds: total };
}

/** Runs that differ only in their repeat share one config key. */
export function configKey(run: PlannedRun): string {
  return `${run.base}\n${JSON.stringify(run.overrides)}`;
}

export { formatDuration } from '../protocol/measured_step_rate';
