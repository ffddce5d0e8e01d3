// The seam between the protocol server and the training engine (sidecar/train, written separately).
// The server imports the engine lazily so that it builds and serves initialize/status/probe before
// the engine exists; a missing engine is reported as such, never papered over with a fake run.
import type { ProgressParams, SampleParams, SampleResult } from '../protocol/messages';
import type { MetricRecord, SampleEntry } from '../protocol/run_folder';

export interface TrainingEvents {
  progress(p: ProgressParams): void;
  metrics(records: MetricRecord[]): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/**
 * The contract of sidecar/train/run_training.ts. `runTraining` trains (or resumes, when run.json says
 * cancelled or failed) the run in `runDir`, writing run.json and metrics through the run store, and
 * throws on failure. `prepareRun` validates a config in run mode and creates its run folder, queued.
 */
export interface TrainingEngine {
  runTraining(options: { runDir: string; signal: AbortSignal; events: TrainingEvents }): Promise<'completed' | 'cancelled'>;
  prepareRun(configPath: string, runsDir: string): Promise<{ runId: string; runDir: string }>;
}

/** The contract of sidecar/train/sampling.ts and sidecar/train/evaluation.ts. */
/** After each generated slice (the entry already in samples/index.json), so a client can show it at once. */
export interface SamplingHooks { log?: (message: string) => void; onSlice?: (done: number, total: number, entry: SampleEntry) => void }
export interface SamplingEngine { sampleRun(params: SampleParams, signal: AbortSignal, hooks?: SamplingHooks): Promise<SampleResult> }
export interface EvaluationEngine { evaluateRun(runDir: string, signal: AbortSignal): Promise<{ resultFile: string }> }

/** Thrown when a part of the engine has not been built into this sidecar. */
export class EngineMissingError extends Error {
  constructor(readonly part: string, cause: string) {
    super(`The ${part} is not built yet (${cause}); this version of L3M Studio cannot do that.`);
    this.name = 'EngineMissingError';
  }
}

function isModuleMissing(error: unknown, name: string): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && String((error as Error).message).includes(name);
}

// The imports sit inside try blocks: esbuild then bundles the module when it exists and leaves an
// unresolved import (failing at run time, caught here) while it does not. The ts-ignore comments
// serve the same period for tsc; the results are checked against the contracts above.

export async function loadTrainingEngine(): Promise<TrainingEngine> {
  try {
    // @ts-ignore -- the module is written by the training helper; absent until then.
    const module = (await import('../train/run_training')) as Partial<TrainingEngine>;
    if (typeof module.runTraining !== 'function' || typeof module.prepareRun !== 'function') {
      throw new EngineMissingError('training engine', 'sidecar/train/run_training.ts lacks runTraining or prepareRun');
    }
    return module as TrainingEngine;
  } catch (error) {
    if (isModuleMissing(error, 'run_training')) throw new EngineMissingError('training engine', 'sidecar/train/run_training.ts is missing');
    throw error;
  }
}

export async function loadSamplingEngine(): Promise<SamplingEngine> {
  try {
    // @ts-ignore -- the module is written by the generation helper; absent until then.
    const module = (await import('../train/sampling')) as Partial<SamplingEngine>;
    if (typeof module.sampleRun !== 'function') throw new EngineMissingError('sampler', 'sidecar/train/sampling.ts lacks sampleRun');
    return module as SamplingEngine;
  } catch (error) {
    if (isModuleMissing(error, 'sampling')) throw new EngineMissingError('sampler', 'sidecar/train/sampling.ts is missing');
    throw error;
  }
}

export async function loadEvaluationEngine(): Promise<EvaluationEngine> {
  try {
    // @ts-ignore -- the module is written by the generation helper; absent until then.
    const module = (await import('../train/evaluation')) as Partial<EvaluationEngine>;
    if (typeof module.evaluateRun !== 'function') throw new EngineMissingError('evaluator', 'sidecar/train/evaluation.ts lacks evaluateRun');
    return module as EvaluationEngine;
  } catch (error) {
    if (isModuleMissing(error, 'evaluation')) throw new EngineMissingError('evaluator', 'sidecar/train/evaluation.ts is missing');
    throw error;
  }
}
