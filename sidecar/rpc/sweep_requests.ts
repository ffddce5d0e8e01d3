// The sweep requests of the JSON-RPC server (sweep/run, sweep/cancel, sweep/resume) and the sweep/state
// notification. A local sweep runs as child processes of this sidecar, K at once, beside the server's
// own one-at-a-time queue. The two share the machine this way: the queue's active run takes one of the
// sweep's K places while it runs (K was chosen so that K runs of cores/K threads fill the cores, and a
// run of the queue is one more), but the sweep always keeps at least one run going and the queue never
// waits for the sweep: a run the user starts by hand is the one they are waiting for.
import { ResponseError, type MessageConnection, type NotificationType } from 'vscode-jsonrpc';
import { isAbsolute, resolve } from 'node:path';
import { planSweep, type SweepPlan } from '../../schemas/sweep_plan';
import { ConfigInvalidError } from '../../schemas/load_config';
import * as protocol from '../protocol/messages';
import { ErrorCodes } from '../protocol/messages';
import { errorMessage } from '../protocol/error_message';
import { runsDirOfSweep, sweepSummary, type SweepFile } from '../protocol/sweep_folder';
import { createSweep, readSweep, unfinishedRuns, updateSweepState } from '../sweeps/sweep_store';
import { chooseExecutorKind, createExecutor } from '../sweeps/choose_executor';
import { ExecutorUnavailableError, type ExecutorKind, type SweepExecutor } from '../sweeps/executor';
import { LocalExecutor } from '../sweeps/local_executor';
import { mergeSlurmOptions, slurmDefaultsOf } from '../sweeps/slurm_script';

export interface SweepRequestsOptions {
  notify: <P>(type: NotificationType<P>, params: P) => void;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The runs folder given at initialize, for requests that name none. */
  runsDirDefault: () => string | null;
  /** Runs of the server's own queue that are running now (0 or 1). */
  queueRunning: () => number;
  /** The command prefix that runs `l3m` (default: this process's entry); tests of an in-memory server pass theirs. */
  sidecarCommand?: string[];
}

export interface SweepRequests {
  /** The queue started or ended a run: local sweeps re-count their places. */
  queueChanged(): void;
  /** Cancels every sweep this sidecar runs (shutdown). */
  cancelAll(): Promise<void>;
}

function absolute(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ResponseError(-32602, `${name} must be a non-empty path string, got ${JSON.stringify(value)}.`);
  return isAbsolute(value) ? value : resolve(value);
}

function parallelOf(value: unknown): { value: number; source: string } | null {
  if (value === undefined || value === null || value === 0) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new ResponseError(
      -32602,
      `parallel must be a whole number of runs, 1 or more; got ${JSON.stringify(value)}.`,
    );
  return { value, source: 'the request (parallel)' };
}

export function registerSweepRequests(
  connection: MessageConnection,
  handle: <T>(body: () => Promise<T>) => Promise<T | ResponseError<unknown>>,
  options: SweepRequestsOptions,
): SweepRequests {
  /** Local sweeps running in this process, by sweep folder. */
  const running = new Map<string, LocalExecutor>();

  const executorFor = (kind: ExecutorKind, parallel: { value: number; source: string } | null): SweepExecutor => {
    try {
      return createExecutor(kind, {
        local: { parallel, sidecarCommand: options.sidecarCommand, othersRunning: options.queueRunning },
      });
    } catch (error) {
      if (error instanceof ExecutorUnavailableError)
        throw new ResponseError(ErrorCodes.runStateConflict, error.message);
      throw error;
    }
  };

  const announce = async (sweepDir: string, sweep: SweepFile, ended: boolean) => {
    const summary = await sweepSummary(runsDirOfSweep(sweepDir), sweep).catch(() => null);
    if (summary) options.notify(protocol.sweepState, { sweepDir, summary, ...(ended ? { ended: true } : {}) });
  };

  /**
   * Starts the runs; resolves once a Slurm sweep is submitted, or at once for a local one, which goes
   * on in the background and announces each run's change and its end.
   */
  const begin = async (executor: SweepExecutor, sweepDir: string, sweep: SweepFile, indexes: number[]) => {
    const started = executor.start(sweepDir, indexes, {
      runState: () => void announce(sweepDir, sweep, false),
      log: options.log,
    });
    if (executor instanceof LocalExecutor) {
      running.set(sweepDir, executor);
      void started
        .catch((error: unknown) => options.log('error', `Sweep ${sweep.id}: ${errorMessage(error)}`))
        .finally(() => {
          running.delete(sweepDir);
          void announce(sweepDir, sweep, true);
        });
      return;
    }
    await started;
    await announce(sweepDir, sweep, true);
  };

  const result = (sweepDir: string, sweep: SweepFile, indexes: number[]): protocol.SweepRunResult => ({
    sweepDir,
    sweepId: sweep.id,
    runs: sweep.runs
      .filter((r) => indexes.includes(r.index))
      .map((r) => ({ index: r.index, runDir: resolve(runsDirOfSweep(sweepDir), r.runDir) })),
  });

  connection.onRequest(protocol.runSweep, (params) =>
    handle(async () => {
      const sweepPath = absolute('sweepPath', params?.sweepPath);
      const runsDir = params?.runsDir ? absolute('runsDir', params.runsDir) : options.runsDirDefault();
      if (!runsDir) throw new ResponseError(-32602, 'sweep/run needs runsDir (or a runsDir given at initialize).');
      const parallel = parallelOf(params?.parallel);
      const planned = await planSweep(sweepPath);
      if (!planned.plan) throw new ConfigInvalidError(planned.path, planned.diagnostics);
      const plan = planned.plan;
      if (plan.runs.length > plan.maxRuns && params?.yes !== true) {
        const data: protocol.SweepTooLargeData = {
          kind: 'sweep-too-large',
          file: planned.path,
          runs: plan.runs.length,
          maxRuns: plan.maxRuns,
        };
        throw new ResponseError(
          ErrorCodes.sweepTooLarge,
          `${planned.path} expands to ${plan.runs.length} runs, more than its max_runs (${plan.maxRuns}); confirm with yes, or raise max_runs.`,
          data,
        );
      }
      let kind: ExecutorKind;
      try {
        kind = chooseExecutorKind(plan.executor, params?.executor);
      } catch (error) {
        throw new ResponseError(-32602, errorMessage(error));
      }
      const executor = executorFor(kind, parallel);
      const { sweepDir, sweep } = await createSweep(withSlurmSettings(plan, params?.slurm), {
        runsDir,
        executor: kind,
      });
      options.log('info', `Sweep ${sweep.id}: ${sweep.runs.length} runs on the ${kind} executor, folder ${sweepDir}`);
      const indexes = sweep.runs.map((r) => r.index);
      await begin(executor, sweepDir, sweep, indexes);
      return result(sweepDir, sweep, indexes);
    }),
  );

  connection.onRequest(protocol.cancelSweep, (params) =>
    handle(async () => {
      const sweepDir = absolute('sweepDir', params?.sweepDir);
      const sweep = await readSweep(sweepDir);
      const executor = running.get(sweepDir) ?? executorFor(sweep.executor, null);
      await executor.cancel(sweepDir);
      await executor.refresh(sweepDir);
      return { summary: await sweepSummary(runsDirOfSweep(sweepDir), sweep) };
    }),
  );

  connection.onRequest(protocol.resumeSweep, (params) =>
    handle(async () => {
      const sweepDir = absolute('sweepDir', params?.sweepDir);
      if (running.has(sweepDir))
        throw new ResponseError(ErrorCodes.runStateConflict, `Sweep ${sweepDir} is running in this sidecar already.`);
      const sweep = await readSweep(sweepDir);
      const executor = executorFor(sweep.executor, parallelOf(params?.parallel));
      await executor.refresh(sweepDir);
      const indexes = await unfinishedRuns(sweepDir, sweep);
      if (indexes.length > 0) {
        await updateSweepState(sweepDir, (state) => ({ ...state, cancelled: false }));
        await begin(executor, sweepDir, sweep, indexes);
      }
      return result(sweepDir, sweep, indexes);
    }),
  );

  return {
    queueChanged: () => {
      for (const executor of running.values()) executor.reconsider();
    },
    cancelAll: async () => {
      await Promise.all([...running.values()].map((executor) => executor.cancelAll()));
    },
  };
}

/**
 * The plan with the l3m.slurm setting under the sweep file's slurm options (recorded in sweep.json, so a
 * resume submits the same); a setting that cannot be an #SBATCH line is refused as invalid params.
 */
function withSlurmSettings(plan: SweepPlan, setting: unknown): SweepPlan {
  try {
    return { ...plan, slurm: mergeSlurmOptions(slurmDefaultsOf(setting, 'The l3m.slurm setting'), plan.slurm) };
  } catch (error) {
    throw new ResponseError(-32602, errorMessage(error));
  }
}
