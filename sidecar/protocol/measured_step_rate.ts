// How fast runs of a config's shape went on this machine: completed runs of the same experiment in the runs
// folder whose config differs only in what does not change a step (learning rate, seeds, length), their
// training steps per second (metrics.jsonl) and the rest of their wall time (data, evaluation, checkpoints).
// `l3m sweep plan` (sidecar/cli/sweep_run_time.ts) and config hover in the editor both read it; it only reads
// run folders, so the language server can use it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { resolveConfig } from '../../schemas/resolve_config';
import { parseMetricsJsonl, parseRunRecord } from './run_folder';

export interface Measurement {
  stepsPerSecond: number;
  /** Seconds of the run outside the training steps (data, evaluation, checkpoints). */
  overhead: number;
  totalSteps: number;
  config: ResolvedExperimentConfig;
  runDir: string;
}

/** What earlier runs of the same shape say about a config's run. */
export interface MeasuredTime {
  /** Seconds of a whole run of the config. */
  seconds: number;
  /** Seconds of one epoch's training steps, when the earlier runs were measured in epochs. */
  epochSeconds?: number;
  stepsPerSecond: number;
  steps: number;
  overhead: number;
  runs: number;
  newestRunDir: string;
}

/** The settings that do not change how fast a step runs or how long data and evaluation take. */
export function shapeKey(config: ResolvedExperimentConfig): string {
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
export function lengthInUnits(config: ResolvedExperimentConfig): number {
  return config.training.unit === 'steps' ? config.training.steps : config.training.epochs;
}

/** Completed runs of `experiment` in `runsDir` with their measured throughput, newest first (of the newest `limit`). */
export function measuredRuns(runsDir: string, experiment: string, limit = Infinity): Measurement[] {
  const folder = join(runsDir, experiment);
  let names: string[];
  try {
    names = readdirSync(folder).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  const found: Measurement[] = [];
  for (const name of names.sort().reverse().slice(0, limit)) {
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

/** A run of `config` timed by earlier runs of the same shape (the newest five), or undefined when none fits. */
export function timeFromEarlierRuns(
  config: ResolvedExperimentConfig,
  earlier: Measurement[],
): MeasuredTime | undefined {
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
    epochSeconds: config.training.unit === 'epochs' ? stepsPerUnit / stepsPerSecond : undefined,
    stepsPerSecond,
    steps,
    overhead,
    runs: newest.length,
    newestRunDir: newest[0].runDir,
  };
}

/** 95 → "1 min 35 s", 7300 → "2 h 2 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes - hours * 60} min`;
}
