// How long a sweep's runs will take, for `l3m sweep plan`, from what this machine has measured. First
// choice: completed earlier runs of the same experiment and shape in the runs folder (their training
// steps/s from metrics.jsonl, and the rest of their wall time — data, evaluation — as overhead).
// Otherwise: a short matmul benchmark of the backend the config asks for, scaled by the config's
// training FLOPs (6 · parameters · tokens per step, the usual dense-transformer count); that ignores
// per-step overheads and the CFM head's convolutions, so it says so and is a rough lower bound.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import type { ConfigFileSystem } from '../../schemas/config_context';
import { resolveConfig } from '../../schemas/resolve_config';
import { sliceCells } from '../../schemas/semantic_checks';
import { runEstimate } from '../../schemas/sweep_estimates';
import type { PlannedRun, SweepPlan } from '../../schemas/sweep_plan';
import { parseMetricsJsonl, parseRunRecord } from '../protocol/run_folder';
import { errorMessage } from '../protocol/error_message';
import { selectRuntime } from '../jobs/select_runtime';

export interface RunTime {
  /** Seconds one run of this config takes, when known. */
  seconds?: number;
  source: 'measured' | 'benchmark' | 'unknown';
  /** What the figure rests on, or why there is none. */
  detail: string;
}

/** The settings that do not change how fast a step runs or how long data and evaluation take. */
function shapeKey(config: ResolvedExperimentConfig): string {
  const { name: _name, training, data, ...rest } = structuredClone(config);
  const { batch_size, gradient_accumulation_steps, train_ds_multiplicity, interleaved } = training;
  const splits = { ...data.splits, seed: 0 };
  const simulator = data.simulator ? { ...data.simulator, seed: 0 } : undefined;
  return JSON.stringify({
    ...rest,
    $schema: undefined,
    data: { ...data, splits, simulator },
    training: { batch_size, gradient_accumulation_steps, train_ds_multiplicity, interleaved },
  });
}

/** The training length of a config in the unit it is written in. */
function lengthInUnits(config: ResolvedExperimentConfig): number {
  return config.training.unit === 'steps' ? config.training.steps : config.training.epochs;
}

interface Measurement {
  stepsPerSecond: number;
  /** Seconds of the run outside the training steps (data, evaluation, checkpoints). */
  overhead: number;
  totalSteps: number;
  config: ResolvedExperimentConfig;
  runDir: string;
}

/** Completed runs of `experiment` in `runsDir` with their measured throughput, newest first. */
function measuredRuns(runsDir: string, experiment: string): Measurement[] {
  const folder = join(runsDir, experiment);
  let names: string[];
  try {
    names = readdirSync(folder).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  const found: Measurement[] = [];
  for (const name of names.sort().reverse()) {
    const runDir = join(folder, name);
    try {
      const parsed = parseRunRecord(readFileSync(join(runDir, 'run.json'), 'utf8'));
      if ('error' in parsed) continue;
      const record = parsed.record;
      if (record.status !== 'completed' || !record.progress || !record.startedAt || !record.endedAt) continue;
      const config = resolveConfig(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')));
      const metrics = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records;
      const last = metrics.filter((m) => m.split === 'train' && typeof m.steps_per_s === 'number').pop();
      const stepsPerSecond = typeof last?.steps_per_s === 'number' ? last.steps_per_s : 0;
      if (!(stepsPerSecond > 0)) continue;
      const wall = (Date.parse(record.endedAt) - Date.parse(record.startedAt)) / 1000;
      const totalSteps = record.progress.totalSteps;
      found.push({
        stepsPerSecond,
        overhead: Math.max(0, wall - totalSteps / stepsPerSecond),
        totalSteps,
        config,
        runDir,
      });
    } catch {
      // A run folder being written or damaged is no measurement; the others still are.
    }
  }
  return found;
}

/** Seconds of a run of `config` from earlier runs of the same shape, or undefined when none fits. */
function fromEarlierRuns(config: ResolvedExperimentConfig, earlier: Measurement[]): RunTime | undefined {
  const key = shapeKey(config);
  const same = earlier.filter((m) => shapeKey(m.config) === key && m.config.training.unit === config.training.unit);
  if (same.length === 0) return undefined;
  const newest = same.slice(0, 5);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  // Same data and batch size, so steps per unit (epoch or step) are the same as the earlier runs'.
  const stepsPerUnit = mean(newest.map((m) => m.totalSteps / lengthInUnits(m.config)));
  const steps = Math.round(stepsPerUnit * lengthInUnits(config));
  const stepsPerSecond = mean(newest.map((m) => m.stepsPerSecond));
  const overhead = mean(newest.map((m) => m.overhead));
  return {
    seconds: steps / stepsPerSecond + overhead,
    source: 'measured',
    detail: `${steps} steps at ${stepsPerSecond.toPrecision(3)} steps/s + ${overhead.toFixed(0)} s data and evaluation, measured on ${newest.length} completed run${newest.length === 1 ? '' : 's'} of the same shape (newest ${newest[0].runDir})`,
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

/** Optimizer steps of a run, when the config says enough to count them. */
function plannedSteps(config: ResolvedExperimentConfig): number | undefined {
  const t = config.training;
  if (t.unit === 'steps') return t.steps;
  const data = config.data;
  if (config.task !== 'regression' || data.source !== 'simulator') return undefined;
  const count = data.simulator.count;
  const train =
    count - Math.round(count * data.splits.validation_fraction) - Math.round(count * data.splits.test_fraction);
  const perStep = t.batch_size * t.gradient_accumulation_steps;
  // An epoch is whole batches: the last partial one is dropped, as the training loader does.
  return Math.ceil(t.epochs * Math.max(1, Math.floor((train * t.train_ds_multiplicity) / perStep)));
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
        const once = () => tf.tidy(() => tf.matMul(a, b)).dataSync();
        once();
        let repetitions = 0;
        const start = performance.now();
        while (performance.now() - start < 500) {
          once();
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
  return {
    seconds: (steps * perStep) / measured.flopsPerSecond,
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

/** 95 → "1 min 35 s", 7300 → "2 h 2 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes - hours * 60} min`;
}
