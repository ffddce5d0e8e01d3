// The training job, behind `l3m train`, `l3m resume` and the RPC server's run/start and run/resume:
// `prepareRun` validates a config in run mode and creates the run folder (status queued, config.json =
// the resolved config), `prepareConfiguredRun` the same for a config held in memory (a sweep's run);
// `runTraining` trains the run in a folder — from scratch, or resumed from its
// last checkpoint — writing metrics, checkpoints, the final evaluation and run.json as it goes, and
// streaming the same through `events`. A failure marks run.json failed with the reason before it throws.
// The run's task (tasks/registry.ts) supplies data, model and evaluation; everything else is here, once.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { ConfigInvalidError, loadConfigFile } from '../../schemas/load_config';
import { hasErrors, validateConfig } from '../../schemas/validate_config';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { resolveConfig } from '../../schemas/resolve_config';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import type { ProgressParams } from '../protocol/messages';
import type { RunStageName } from '../protocol/run_stage';
import { progressReporter, type RunProgress } from './progress_reporter';
import { RunWallClock, processSampler, startSystemMetrics, systemMetricsInterval } from './system_metrics';
import type { MetricRecord, RunRecord } from '../protocol/run_folder';
import {
  appendMetrics,
  createRun,
  experimentNameOf,
  failRun,
  readRun,
  rewindMetrics,
  updateRun,
} from '../runs/run_store';
import { readRunConfig, writeEvaluation } from '../runs/run_access';
import { bestCheckpointName, checkpointsDir } from '../runs/checkpoint_names';
import { removeTemporaryFiles } from '../runs/run_cleanup';
import { readCheckpointMetadata, removeUnreferencedCheckpointFiles } from '../checkpoint/checkpoint';
import { datasetCacheRoot, removeAbandonedTemporaryFolders } from '../data/dataset_cache';
import type { DatasetProgress } from '../data/simulated_dataset';
import { DatasetCancelledError } from '../data/simulated_dataset';
import { runLoop, type LoopResult } from '../train/training_loop';
import { loopSettingsFor } from '../train/loop_settings';
import { readCheckpointWeights } from '../train/trainer_checkpoints';
import { taskDefinition } from '../tasks/registry';
import type { TaskData, TaskDefinition, TaskModel } from '../tasks/task_definition';
import { checkRuntimeAvailable, selectRuntime } from './select_runtime';
import { checkTrainingMemory } from './memory_check';
import { describeWorkerCount, runWorkerCount, startTrainingWorkers } from './training_workers';
import { errorMessage } from '../protocol/error_message';

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

/** What the shared skeleton needs of the run it trains. */
interface RunContext {
  runDir: string;
  config: ResolvedExperimentConfig;
  record: RunRecord;
  signal: AbortSignal;
  events: TrainingEvents;
  /** Data-parallel workers that share each step, the training thread included (./training_workers.ts). */
  workers: number;
  /** The backend the workers select (only wasm and cpu runs have more than one). */
  backend: string;
  /** Appends to metrics.jsonl and forwards to events.metrics. */
  writeMetrics(records: MetricRecord[]): Promise<void>;
  /** Forwards progress with the run's stage and keeps run.json's progress field current (progress_reporter.ts). */
  reportProgress(p: Omit<ProgressParams, 'runDir'>, stage?: RunStageName): void;
}

type TaskOutcome = { kind: 'completed' | 'cancelled'; progress: RunProgress };

/**
 * Validates `configPath` in run mode (missing data or checkpoint paths are errors) and creates the run
 * folder with status queued. Throws ConfigInvalidError (with the diagnostics) when the config has errors,
 * BackendUnavailableError (the probe's reason and the fix) when it names a backend this machine lacks, and
 * MemoryEstimateExceededError (the estimate, the limit, what to lower) when it would not fit in memory.
 */
export async function prepareRun(configPath: string, runsDir: string): Promise<{ runId: string; runDir: string }> {
  const loaded = await loadConfigFile(configPath, 'run');
  if (!loaded.config) throw new ConfigInvalidError(loaded.path, loaded.diagnostics);
  await checkRuntimeAvailable(loaded.config.runtime);
  checkTrainingMemory(loaded.config, loaded.path);
  const created = await createRun({
    runsDir,
    experiment: experimentNameOf(loaded.path),
    task: loaded.config.task,
    config: loaded.config,
    configPath: loaded.path,
    status: 'queued',
    labels: { seed: loaded.config.training.seed },
  });
  return { runId: created.runId, runDir: created.runDir };
}

export interface PrepareConfiguredRunOptions {
  /** The run's own config: a base config with overrides applied, as JSON (not resolved). */
  config: Record<string, unknown>;
  /** The base config file it came from: relative paths in `config` resolve against its folder, and run.json names it. */
  configPath: string;
  runsDir: string;
  /** The experiment folder; default the base file's experiment name. */
  experiment?: string;
  /** Labels for run.json: a sweep's place and executor (the seed is always recorded). */
  labels?: Pick<RunRecord, 'sweep' | 'executor'>;
  /** Whether this process owns the queued run (default true); a sweep's runs are trained by other processes. */
  ownedByThisProcess?: boolean;
}

/**
 * Like prepareRun for a config held in memory rather than in a file (a sweep's overridden copy of a base
 * config): validated in run mode as if it were the base file, so its relative data and checkpoint paths
 * mean the same, and a run folder created with status queued (config.json = the resolved config,
 * configPath = the base file). Throws ConfigInvalidError naming the base file when it has errors.
 */
export async function prepareConfiguredRun(
  options: PrepareConfiguredRunOptions,
): Promise<{ runId: string; runDir: string; record: RunRecord }> {
  const text = JSON.stringify(options.config, null, 2);
  const diagnostics = await validateConfig(text, {
    configPath: options.configPath,
    mode: 'run',
    fileSystem: nodeFileSystem,
  });
  if (hasErrors(diagnostics)) throw new ConfigInvalidError(options.configPath, diagnostics);
  const config = resolveConfig(options.config);
  checkTrainingMemory(config, options.configPath);
  return createRun({
    runsDir: options.runsDir,
    experiment: options.experiment ?? experimentNameOf(options.configPath),
    task: config.task,
    config,
    configPath: options.configPath,
    status: 'queued',
    labels: { seed: config.training.seed, ...options.labels },
    ownedByThisProcess: options.ownedByThisProcess,
  });
}

/**
 * Trains the run in `runDir` until it completes, is cancelled through `signal` (resolves 'cancelled'
 * within one step, leaving a resumable run), or fails (run.json failed with the reason; throws).
 * A cancelled or failed run resumes from its last checkpoint.
 */
export async function runTraining(options: RunTrainingOptions): Promise<'completed' | 'cancelled'> {
  const { runDir, signal, events } = options;
  const progress = progressReporter(runDir, (p) => events.progress(p));
  try {
    const record = await readRun(runDir);
    if (record.status === 'completed')
      throw new Error(`Run ${runDir} is already completed; start a new run instead of resuming it.`);
    const config = await readRunConfig(runDir);
    const definition = taskDefinition(config.task, join(runDir, 'config.json'));
    const runtime = await selectRuntime(config.runtime);
    events.log('info', runtime.description);
    const workerCount = runWorkerCount(config, runtime.backend.name);
    for (const note of workerCount.notes) events.log(note.level, note.message);
    events.log('info', describeWorkerCount(workerCount));
    removeLeftovers(runDir, events);
    await removeAbandonedTemporaryFolders(datasetCacheRoot()).then((removed) => {
      if (removed.length > 0)
        events.log(
          'info',
          `Removed ${removed.length} unfinished dataset folder${removed.length === 1 ? '' : 's'} of killed simulations: ${removed.join(', ')}.`,
        );
    });
    const running = await updateRun(runDir, {
      status: 'running',
      device: {
        backend: runtime.backend.name,
        device: runtime.backend.device,
        requested: runtime.request.backend,
        requestedBy: runtime.request.source,
        workers: workerCount.workers,
      },
      pid: process.pid,
    });
    const clock = new RunWallClock();
    const system = startSystemMetrics({
      runDir,
      intervalMs: systemMetricsInterval(process.env.L3M_SYSTEM_METRICS_INTERVAL_S),
      sampler: processSampler(runtime.backend.name),
      wallTime: () => clock.wallTime(),
      step: () => progress.last()?.step ?? running.progress?.step ?? 0,
      warn: (message) => events.log('warn', message),
    });
    const context: RunContext = {
      runDir,
      config,
      record: running,
      signal,
      events,
      workers: workerCount.workers,
      backend: runtime.backend.name,
      reportProgress: (p, stage) => progress.report(p, stage),
      writeMetrics: async (records) => {
        await appendMetrics(runDir, records);
        clock.saw(records);
        events.metrics(records);
      },
    };
    let outcome: TaskOutcome;
    try {
      outcome = await trainTask(definition, context);
    } catch (error) {
      // Cancelled while the dataset was still being simulated (nothing was trained or cached, and a resume
      // starts from the beginning, simulating again), or during the test evaluation or sampling after training
      // (a resume evaluates again from the last checkpoint): the run ends cancelled, not failed.
      if (!(error instanceof DatasetCancelledError) && !signal.aborted) throw error;
      if (!(error instanceof DatasetCancelledError))
        events.log('info', `Stopped by the cancel: ${errorMessage(error)}`);
      const latest = progress.last() ?? running.progress;
      outcome = { kind: 'cancelled', progress: latest ?? { step: 0, totalSteps: 0, epoch: 0 } };
    } finally {
      await Promise.all([progress.settled(), system.stop()]);
    }
    if (outcome.kind === 'cancelled') {
      await updateRun(runDir, {
        status: 'cancelled',
        progress: outcome.progress,
        error: { message: 'Cancelled; resume to continue from the last checkpoint.', step: outcome.progress.step },
      });
      return 'cancelled';
    }
    await updateRun(runDir, { status: 'completed', progress: outcome.progress });
    return 'completed';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Training errors that happen at a known step (a non-finite loss) carry it.
    const errorStep: unknown = typeof error === 'object' && error !== null && 'step' in error ? error.step : undefined;
    const step = typeof errorStep === 'number' ? errorStep : progress.last()?.step;
    await failRun(runDir, message, step !== undefined ? { step } : {}).catch((writeError: unknown) => {
      events.log('error', `Could not mark ${runDir} failed: ${errorMessage(writeError)}`);
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
  const checkpointDir = checkpointsDir(runDir);
  const removed = [
    ...removeTemporaryFiles(runDir),
    ...removeUnreferencedCheckpointFiles(checkpointDir).map((file) => join(checkpointDir, file)),
  ];
  if (removed.length > 0) {
    events.log(
      'info',
      `Removed ${removed.length} file${removed.length === 1 ? '' : 's'} left by an interrupted process: ${removed.map((path) => relative(runDir, path)).join(', ')}.`,
    );
  }
}

/** A progress report of a phase outside the training steps ("simulating lightcones 3/40"). */
function phaseReport(phase: string): Omit<ProgressParams, 'runDir'> {
  return { step: 0, totalSteps: 0, epoch: 0, loss: null, lr: 0, stepsPerSecond: 0, etaSeconds: null, phase };
}

/** The log lines and progress of a dataset being simulated or found in the cache. */
function datasetEvents(events: TrainingEvents, phase: (text: string) => void): (event: DatasetProgress) => void {
  return (event) => {
    if (event.kind === 'started')
      events.log('info', `Simulating ${event.count} lightcones into ${event.folder} with ${event.workers} workers.`);
    if (event.kind === 'cached')
      events.log('info', `Using the cached dataset ${event.folder} (${event.count} lightcones).`);
    if (event.kind === 'finished-cone') phase(`simulating lightcones ${event.acceptedSoFar}/${event.count}`);
  };
}

/** A task's run end to end: data, model, the loop with checkpoints and validation, then the test evaluation on the best checkpoint. */
async function trainTask(definition: TaskDefinition, run: RunContext): Promise<TaskOutcome> {
  const { config, runDir, events, signal } = run;
  const phase = (text: string) => run.reportProgress(phaseReport(text), 'data');
  // Relative data paths are relative to the config file, as the editor's checks resolve them.
  const configDir = run.record.configPath ? dirname(run.record.configPath) : runDir;
  const data = await definition.loadData(config, {
    configDir,
    signal,
    onDataset: datasetEvents(events, phase),
    onPhase: phase,
  });
  events.log('info', `Data: ${data.description}`);
  const model = data.buildModel(config, { configPath: run.record.configPath, runDir });
  try {
    events.log('info', `Model: ${model.description}`);
    const settings = loopSettingsFor(config, model.training.trainSize);
    const checkpointDir = checkpointsDir(runDir);
    await mkdir(checkpointDir, { recursive: true });
    const workers = await startTrainingWorkers(
      run.workers,
      { runDir, configDir, configPath: run.record.configPath, backend: run.backend === 'wasm' ? 'wasm' : 'cpu' },
      model.training,
      config.training.batch_size,
    );
    let result: LoopResult;
    try {
      result = await runLoop(model.training, settings, {
        signal,
        checkpointDir,
        backboneConfig: model.backboneConfig,
        checkpointExtra: model.checkpointExtra(),
        metrics: (records) => run.writeMetrics(records),
        rewindMetrics: (step) => rewindMetrics(runDir, step),
        progress: (p) => run.reportProgress(p),
        log: (level, message) => events.log(level, message),
        workers,
      });
    } finally {
      await workers?.close();
    }
    const progress = {
      step: result.state.step,
      totalSteps: settings.totalSteps,
      epoch: result.state.step / settings.stepsPerEpoch,
    };
    if (result.outcome === 'cancelled') return { kind: 'cancelled', progress };
    // The test evaluation uses the best checkpoint, as the reference's load_best_model() before evaluation.
    // The samples made after training record the step of the weights that made them: the best checkpoint's when there is one.
    let checkpointStep = result.state.step;
    if (existsSync(join(checkpointDir, `${bestCheckpointName}.json`))) {
      readCheckpointWeights(checkpointDir, bestCheckpointName, model.training.namedWeights());
      checkpointStep = readCheckpointMetadata(checkpointDir, bestCheckpointName).step;
    }
    await evaluateAfterTraining(definition, data, model, run, {
      checkpointStep,
      step: result.state.step,
      epoch: progress.epoch,
      wallTime: result.state.wallTime,
    });
    if (result.outcome === 'early_stopped')
      events.log(
        'info',
        `Stopped early at step ${result.state.step}; best validation loss ${result.state.bestLoss} at step ${result.state.bestStep}.`,
      );
    return { kind: 'completed', progress };
  } finally {
    model.dispose();
  }
}

/** The test evaluation that ends training (eval/<file>, a test record in metrics.jsonl, a summary line), then the task's own finish. */
async function evaluateAfterTraining(
  definition: TaskDefinition,
  data: TaskData,
  model: TaskModel,
  run: RunContext,
  at: { step: number; epoch: number; wallTime: number; checkpointStep: number },
): Promise<void> {
  const { config, runDir, events, signal } = run;
  if (data.testCount === 0) {
    events.log('warn', definition.emptyTestWarning);
    return;
  }
  const onPhase = (text: string) => run.reportProgress(phaseReport(text), 'evaluating');
  if (definition.evaluatesAfterTraining(config)) {
    onPhase('evaluating the test split');
    const evaluation = await model.evaluate({ signal, onPhase });
    await writeEvaluation(runDir, definition.evaluationFile, evaluation.json);
    await run.writeMetrics([
      { step: at.step, epoch: at.epoch, wall_time: at.wallTime, split: 'test', ...evaluation.metrics },
    ]);
    events.log('info', evaluation.summary);
  }
  await model.finishTraining?.({
    runDir,
    checkpointStep: at.checkpointStep,
    signal,
    onPhase: (text) => run.reportProgress(phaseReport(text), 'sampling'),
    log: (level, message) => events.log(level, message),
  });
}
