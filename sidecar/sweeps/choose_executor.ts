// Which executor runs a sweep: the sweep file's `executor`, unless the command line (--executor) or the
// editor's l3m.executor setting overrides it; and the executor of that kind.
import { ExecutorUnavailableError, executorKinds, type ExecutorKind, type SweepExecutor } from './executor';
import { LocalExecutor, type LocalExecutorOptions } from './local_executor';
import { SlurmExecutor, type SlurmExecutorOptions } from './slurm_executor';

/**
 * The executor a sweep runs on: `override` (--executor, or the l3m.executor setting) when given, else
 * the sweep file's. An override that names no executor is an error naming what was received.
 */
export function chooseExecutorKind(fromSweep: ExecutorKind, override?: string | null): ExecutorKind {
  if (override === undefined || override === null || override === '') return fromSweep;
  if (override === 'local' || override === 'slurm') return override;
  throw new ExecutorUnavailableError(
    `Unknown executor "${override}"; expected ${executorKinds.map((k) => `"${k}"`).join(' or ')}.`,
  );
}

export interface ExecutorOptions {
  local?: LocalExecutorOptions;
  slurm?: SlurmExecutorOptions;
}

/** An executor of the given kind; the command that starts `l3m` is shared by both when only one names it. */
export function createExecutor(kind: ExecutorKind, options: ExecutorOptions = {}): SweepExecutor {
  if (kind === 'local') return new LocalExecutor(options.local);
  const sidecarCommand = options.slurm?.sidecarCommand ?? options.local?.sidecarCommand;
  return new SlurmExecutor({ ...options.slurm, ...(sidecarCommand ? { sidecarCommand } : {}) });
}
