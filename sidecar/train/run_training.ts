// The entry points the sidecar's RPC server and the `l3m train` / `l3m resume` commands call:
// `prepareRun` validates a config in run mode and creates the run folder (status queued, config.json =
// the resolved config); `runTraining` trains the run in a folder — from scratch, or resumed from its
// last checkpoint — writing metrics, checkpoints, the final evaluation and run.json as it goes, and
// streaming the same through `events`. A failure marks run.json failed with the reason before it throws.
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigInvalidError, loadConfigFile } from '../../schemas/load_config';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import type { ProgressParams } from '../protocol/messages';
import type { MetricRecord, RunRecord } from '../protocol/run_folder';
import { appendMetrics, createRun, experimentNameOf, failRun, readRun, rewindMetrics, updateRun } from '../runs/run_store';
import { removeTemporaryFiles } from '../runs/run_cleanup';
import { removeUnreferencedCheckpointFiles } from '../checkpoint/checkpoint';
import { datasetCacheRoot, removeAbandonedTemporaryFolders } from '../data/dataset_cache';
import { selectBackend, type BackendRequest } from '../runtime/backends';
import { installFastWasmKernels } from '../model/ops/install_wasm_kernels';
import { runRegression } from '../tasks/regression/regression_run';
import { runGeneration } from '../tasks/generation/generation_run';
import { DatasetCancelledError } from '../data/simulated_dataset';

export interface TrainingEvents {
  progress(p: ProgressParams): void;
  metrics(records: MetricRecord[]): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface RunTrainingOptions {
  runDir: string;
  signal: AbortSignal;
  events: TrainingEvents;
}

/** Everything a task's run function gets from the engine. */
export interface TaskRunContext {
  runDir: string;
  config: ResolvedExperimentConfig;
  record: RunRecord;
  signal: AbortSignal;
  events: TrainingEvents;
  /** Appends to metrics.jsonl and forwards to events.metrics. */
  writeMetrics(records: MetricRecord[]): Promise<void>;
  /** Drops the metric records after `step`, where training resumes (the loop's LoopIO.rewindMetrics). */
  rewindMetrics(step: number): Promise<void>;
  /** Forwards progress and keeps run.json's progress field current (throttled). */
  reportProgress(p: Omit<ProgressParams, 'runDir'>): void;
}

/**
 * Validates `configPath` in run mode (missing data or checkpoint paths are errors) and creates the run
 * folder with status queued. Throws ConfigInvalidError (with the diagnostics) when the config has errors.
 */
export async function prepareRun(configPath: string, runsDir: string): Promise<{ runId: string; runDir: string }> {
  const loaded = await loadConfigFile(configPath, 'run');
  if (!loaded.config) throw new ConfigInvalidError(loaded.path, loaded.diagnostics);
  const created = await createRun({
    runsDir, experiment: experimentNameOf(loaded.path), task: loaded.config.task, config: loaded.config, configPath: loaded.path, status: 'queued',
  });
  return { runId: created.runId, runDir: created.runDir };
}

/**
 * Trains the run in `runDir` until it completes, is cancelled through `signal` (resolves 'cancelled'
 * within one step, leaving a resumable run), or fails (run.json failed with the reason; throws).
 */
export async function runTraining(options: RunTrainingOptions): Promise<'completed' | 'cancelled'> {
  const { runDir, signal, events } = options;
  let lastStep: number | undefined;
  try {
    const record = await readRun(runDir);
    if (record.status === 'completed') throw new Error(`Run ${runDir} is already completed; start a new run instead of resuming it.`);
    const config = await readResolvedConfig(runDir);
    const request = backendRequestOf(config.runtime.backend, process.env.L3M_BACKEND);
    const backend = await selectBackend(request.backend);
    // On wasm, route every matmul through XNNPACK and skip the copies of saved tensors (the perf
    // helper's kernels, numerically equal to the stock ones); process-wide, so installed here.
    const fastKernels = backend.name === 'wasm' && installFastWasmKernels();
    events.log('info', `Backend ${backend.name} (${backend.device})${fastKernels ? ', fast wasm kernels' : ''}; requested "${request.backend}" by ${request.source}.`);
    removeLeftovers(runDir, events);
    await removeAbandonedTemporaryFolders(datasetCacheRoot()).then((removed) => {
      if (removed.length > 0) events.log('info', `Removed ${removed.length} unfinished dataset folder${removed.length === 1 ? '' : 's'} of killed simulations: ${removed.join(', ')}.`);
    });
    const running = await updateRun(runDir, {
      status: 'running', device: { backend: backend.name, device: backend.device, requested: request.backend, requestedBy: request.source }, pid: process.pid,
    });
    let lastRunJsonWrite = 0;
    let runJsonWrites: Promise<void> = Promise.resolve();
    const context: TaskRunContext = {
      runDir, config, record: running, signal, events,
      writeMetrics: async (records) => {
        await appendMetrics(runDir, records);
        events.metrics(records);
      },
      rewindMetrics: (step) => rewindMetrics(runDir, step),
      reportProgress: (p) => {
        if (p.phase === undefined) lastStep = p.step;
        events.progress({ runDir, ...p });
        const now = Date.now();
        if (now - lastRunJsonWrite > 2000 && p.phase === undefined) {
          lastRunJsonWrite = now;
          // run.json progress is for readers without the protocol (the Runs view, `l3m runs`); best effort.
          // Writes are chained so that a late progress write can never overwrite the final status.
          const progress = { step: p.step, totalSteps: p.totalSteps, epoch: p.epoch };
          runJsonWrites = runJsonWrites.then(() => updateRun(runDir, { progress })).then(() => undefined, () => undefined);
        }
      },
    };
    let outcome: TaskOutcome;
    try {
      outcome = await runTask(context);
    } catch (error) {
      // Cancelled while the dataset was still being simulated: nothing was trained or cached, and a
      // resume starts from the beginning (simulating again), so the run ends cancelled, not failed.
      if (!(error instanceof DatasetCancelledError)) throw error;
      outcome = { kind: 'cancelled', progress: running.progress ?? { step: 0, totalSteps: 0, epoch: 0 } };
    } finally {
      await runJsonWrites;
    }
    if (outcome.kind === 'cancelled') {
      await updateRun(runDir, { status: 'cancelled', progress: outcome.progress, error: { message: 'Cancelled; resume to continue from the last checkpoint.', step: outcome.progress.step } });
      return 'cancelled';
    }
    await updateRun(runDir, { status: 'completed', progress: outcome.progress });
    return 'completed';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const step = (error as { step?: number }).step ?? lastStep;
    await failRun(runDir, message, step !== undefined ? { step } : {}).catch((writeError: unknown) => {
      events.log('error', `Could not mark ${runDir} failed: ${(writeError as Error).message}`);
    });
    events.log('error', message);
    throw error;
  }
}

/**
 * Removes what a killed process left in the run folder (temporary files, checkpoint files no checkpoint
 * names), before this process, which now owns the run, writes anything.
 */
function removeLeftovers(runDir: string, events: TrainingEvents): void {
  const removed = [...removeTemporaryFiles(runDir), ...removeUnreferencedCheckpointFiles(join(runDir, 'checkpoints')).map((file) => join(runDir, 'checkpoints', file))];
  if (removed.length > 0) {
    events.log('info', `Removed ${removed.length} file${removed.length === 1 ? '' : 's'} left by an interrupted process: ${removed.map((path) => relative(runDir, path)).join(', ')}.`);
  }
}

const backendRequests: readonly BackendRequest[] = ['auto', 'cuda', 'cpu-native', 'webgpu', 'wasm', 'cpu'];

/**
 * The backend to ask for: the editor's `l3m.backend` setting reaches the sidecar as L3M_BACKEND (unset
 * when the setting is "config") and wins over the config's runtime.backend.
 */
export function backendRequestOf(configBackend: string, environment: string | undefined): { backend: BackendRequest; source: 'L3M_BACKEND' | 'runtime.backend' } {
  if (environment !== undefined && environment !== '') {
    if (!backendRequests.includes(environment as BackendRequest)) {
      throw new Error(`L3M_BACKEND is "${environment}", which is not a backend; use one of ${backendRequests.join(', ')} (or unset it, or set l3m.backend to "config", to use runtime.backend).`);
    }
    return { backend: environment as BackendRequest, source: 'L3M_BACKEND' };
  }
  return { backend: configBackend as BackendRequest, source: 'runtime.backend' };
}

export type TaskOutcome = { kind: 'completed' | 'cancelled'; progress: NonNullable<RunRecord['progress']> };

/** Dispatches on config.task; each task trains with the shared engine (sidecar/train/training_loop.ts). */
async function runTask(context: TaskRunContext): Promise<TaskOutcome> {
  switch (context.config.task) {
    case 'regression':
      return runRegression(context);
    case 'generation':
      return runGeneration(context);
  }
}

async function readResolvedConfig(runDir: string): Promise<ResolvedExperimentConfig> {
  const path = join(runDir, 'config.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ResolvedExperimentConfig;
  } catch (error) {
    throw new Error(`Cannot read the run's config ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); a run folder needs the config.json that prepareRun wrote.`);
  }
}
