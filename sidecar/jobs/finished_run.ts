// Opens a trained run for evaluation or sampling, whatever its task. Everything that can be checked
// without reading data or weights is checked first, so a wrong request fails at once with a clear
// message: the run folder and its config, the task, the checkpoint (the best one, else the newest
// step; runs/run_access.ts) and its extra state. Then the runtime is selected as training selects it,
// the data are read with the statistics the checkpoint stored, and the model is built with its weights.
import { dirname, join } from 'node:path';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { readCheckpointMetadata, type CheckpointMetadata } from '../checkpoint/checkpoint';
import type { RunRecord } from '../protocol/run_folder';
import { readRun } from '../runs/run_store';
import { chooseCheckpoint, readRunConfig, type ChosenCheckpoint } from '../runs/run_access';
import { readCheckpointWeights } from '../train/trainer_checkpoints';
import { taskDefinition } from '../tasks/registry';
import type { TaskData, TaskDefinition, TaskModel } from '../tasks/task_definition';
import { selectRuntime } from './select_runtime';

export interface FinishedRun {
  runDir: string;
  record: RunRecord;
  config: ResolvedExperimentConfig;
  definition: TaskDefinition;
  checkpoint: ChosenCheckpoint;
  metadata: CheckpointMetadata;
}

/**
 * Reads and checks a run folder without loading data or weights. `use` ("evaluate", "sample") ends the
 * message of a run without a checkpoint; `checkTask` refuses a task that cannot serve the job, before
 * the checkpoint is looked at.
 */
export async function openFinishedRun(
  runDir: string,
  use: string,
  checkTask?: (definition: TaskDefinition) => void,
): Promise<FinishedRun> {
  // The config first: it says what the run is, so a folder that is no run is named by it.
  const config = await readRunConfig(runDir);
  const definition = taskDefinition(config.task, join(runDir, 'config.json'));
  checkTask?.(definition);
  const record = await readRun(runDir);
  const checkpoint = chooseCheckpoint(runDir, record.status, use);
  const metadata = readCheckpointMetadata(checkpoint.dir, checkpoint.name);
  definition.checkCheckpointExtra(metadata.extra, join(checkpoint.dir, checkpoint.name));
  return { runDir, record, config, definition, checkpoint, metadata };
}

export interface LoadedRun {
  data: TaskData;
  model: TaskModel;
}

export interface LoadOptions {
  log?: (message: string) => void;
  signal?: AbortSignal;
  /** Throws when the data cannot serve the job (an empty test split to evaluate), before the model is built. */
  checkData?: (data: TaskData) => void;
}

/** Selects the runtime, reads the run's data and builds its model with the checkpoint's weights; the caller disposes the model. */
export async function loadFinishedRun(run: FinishedRun, options: LoadOptions = {}): Promise<LoadedRun> {
  const { log, signal } = options;
  const runtime = await selectRuntime(run.config.runtime);
  log?.(runtime.description);
  // Relative data paths are relative to the config file, as in training.
  const configDir = run.record.configPath ? dirname(run.record.configPath) : run.runDir;
  const data = await run.definition.loadData(run.config, { configDir, signal });
  data.restoreFromCheckpoint(run.metadata.extra);
  options.checkData?.(data);
  if (signal?.aborted) throw new Error(`Loading ${run.runDir} was cancelled.`);
  const model = data.buildModel(run.config, { configPath: run.record.configPath, runDir: run.runDir });
  try {
    readCheckpointWeights(run.checkpoint.dir, run.checkpoint.name, model.training.namedWeights());
  } catch (error) {
    model.dispose();
    throw error;
  }
  log?.(`Loaded checkpoint ${run.checkpoint.name} (step ${run.metadata.step}).`);
  return { data, model };
}
