// The one interface behind which a sweep's runs execute, on this machine (local_executor.ts) or on a
// Slurm cluster (slurm_executor.ts); choose_executor.ts picks one. Every executor runs
// each run as its own `l3m train-run <run folder>` process and leaves the run's state in its run.json;
// the executor only starts, stops and watches those processes.
import type { RunRecord } from '../protocol/run_folder';

export type ExecutorKind = 'local' | 'slurm';

export const executorKinds: readonly ExecutorKind[] = ['local', 'slurm'];

/** What an executor reports while it runs a sweep. */
export interface SweepEvents {
  /** A run of the sweep changed state; `record` is its run.json now. */
  runState(index: number, runDir: string, record: RunRecord): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface SweepExecutor {
  readonly kind: ExecutorKind;
  /**
   * Starts (local: runs them, and resolves when all are done or cancelled) or submits (slurm: resolves
   * once sbatch accepted them, with job ids in each run.json and in state.json) the given runs of the sweep.
   */
  start(sweepDir: string, runIndexes: number[], events: SweepEvents): Promise<void>;
  /** Cancels every unfinished run of the sweep; they end "cancelled", resumable from their last checkpoint. */
  cancel(sweepDir: string): Promise<void>;
  /** Brings the run.json of the runs it owns up to date with what the executor knows (a lost process or job → failed). */
  refresh(sweepDir: string): Promise<void>;
}

/** Thrown when an executor cannot be used here; the message says why and what to do. */
export class ExecutorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecutorUnavailableError';
  }
}
