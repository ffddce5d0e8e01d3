// Opens a trained generation run for sampling or evaluation. Everything that can be checked without
// loading data or weights is checked first, so a wrong request fails at once with a clear message:
// the run folder and its config, the task (a regression run cannot sample), and a checkpoint (the
// best one, else the newest step). Then the dataset (cached) and the model are built and the weights
// loaded. The data statistics come from the checkpoint, so sampling uses what training used.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import { readCheckpointMetadata, type CheckpointMetadata } from '../../checkpoint/checkpoint';
import type { RunRecord } from '../../protocol/run_folder';
import { readRun } from '../../runs/run_store';
import { selectBackend, type BackendRequest } from '../../runtime/backends';
import { bestCheckpointName, listStepCheckpoints, readCheckpointWeights, stepCheckpointName } from '../../train/trainer_checkpoints';
import { tokensPerSlice } from '../../data/tokenization';
import { loadGenerationData, type GenerationData } from './generation_data';
import { buildGenerationPrompt, prefixLength } from './generation_prompt';
import type { GenerationModel } from './generation_model';
import { buildGenerationModel } from './generation_setup';
import type { GenerationCheckpointExtra } from './generation_run';

export interface GenerationRunHeader {
  runDir: string;
  record: RunRecord;
  config: ResolvedExperimentConfig;
  checkpointDir: string;
  checkpointName: string;
  metadata: CheckpointMetadata;
  extra: GenerationCheckpointExtra;
  /** Longest sequence in slices the trained model takes (max_position_embeddings). */
  maxSlices: number;
}

/** Reads and checks a run folder without loading data or weights. */
export async function openGenerationRun(runDir: string): Promise<GenerationRunHeader> {
  const record = await readRun(runDir);
  let config: ResolvedExperimentConfig;
  try {
    config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as ResolvedExperimentConfig;
  } catch (error) {
    throw new Error(`Cannot read ${join(runDir, 'config.json')} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is ${runDir} a run folder?`);
  }
  if (config.task !== 'generation') {
    throw new Error(`Run ${runDir} is a ${config.task} run; sampling and next-patch evaluation need a generation run (task "generation").`);
  }
  const checkpointDir = join(runDir, 'checkpoints');
  const steps = listStepCheckpoints(checkpointDir);
  let checkpointName: string;
  try {
    readCheckpointMetadata(checkpointDir, bestCheckpointName);
    checkpointName = bestCheckpointName;
  } catch {
    if (steps.length === 0) {
      throw new Error(`Run ${runDir} has no checkpoint yet (status ${record.status}); train it (or resume it) until it saves one, then sample.`);
    }
    checkpointName = stepCheckpointName(steps[steps.length - 1]);
  }
  const metadata = readCheckpointMetadata(checkpointDir, checkpointName);
  const extra = metadata.extra as unknown as GenerationCheckpointExtra;
  if (extra.task !== 'generation' || !(extra.rows > 0) || !(extra.cols > 0)) {
    throw new Error(`Checkpoint ${join(checkpointDir, checkpointName)} was not written by a generation run (no patch grid in its metadata); retrain the run with this version.`);
  }
  // The prompt's length does not depend on the tokenizer: every chat piece is one token either way.
  const prompt = buildGenerationPrompt({ template: config.prompt.template, systemTokens: config.prompt.trainable_system_tokens, timeStep: config.connectors.t_index.enabled, chatIds: null });
  const maxSlices = Math.floor((metadata.config.maxPositionEmbeddings - prefixLength(prompt)) / tokensPerSlice(extra.rows, extra.cols));
  return { runDir, record, config, checkpointDir, checkpointName, metadata, extra, maxSlices };
}

export interface LoadedGenerationRun {
  header: GenerationRunHeader;
  model: GenerationModel;
  data: GenerationData;
}

/** Selects the run's backend, loads its data and builds the model with the checkpoint's weights. */
export async function loadGenerationRun(header: GenerationRunHeader, log?: (message: string) => void, signal?: AbortSignal): Promise<LoadedGenerationRun> {
  const backend = await selectBackend(header.config.runtime.backend as BackendRequest);
  log?.(`Backend ${backend.name} (${backend.device}).`);
  const configDir = header.record.configPath ? dirname(header.record.configPath) : header.runDir;
  const data = await loadGenerationData(header.config, configDir, undefined, signal);
  // Use the statistics training used (identical unless the data changed since).
  data.transform = header.extra.transform ?? undefined;
  data.sliceScale = header.extra.sliceScale;
  if (data.rows !== header.extra.rows || data.cols !== header.extra.cols) {
    throw new Error(`The run was trained on ${header.extra.rows}×${header.extra.cols} patches per slice but its data now give ${data.rows}×${data.cols}; the dataset changed since training.`);
  }
  const built = buildGenerationModel(header.config, header.record.configPath, header.runDir, data);
  try {
    readCheckpointWeights(header.checkpointDir, header.checkpointName, built.model.namedTrainableWeights());
  } catch (error) {
    built.model.dispose();
    throw error;
  }
  log?.(`Loaded checkpoint ${header.checkpointName} (step ${header.metadata.step}).`);
  return { header, model: built.model, data };
}
