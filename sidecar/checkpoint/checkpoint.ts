// L3M Studio's own checkpoints: the trainable state as safetensors (F32) that Python's `safetensors` library
// loads unchanged, the optimizer state in a second safetensors file, and a JSON file with the format
// version, the model config, the step and whatever the trainer adds. Each file is written atomically
// (temporary file + rename); the JSON is written last, so its presence means the checkpoint is complete.
//   <dir>/<name>.safetensors            weights by key (HF keys for the backbone, peft keys for LoRA, ...)
//   <dir>/<name>.optimizer.safetensors  optimizer slots by name (omitted when none)
//   <dir>/<name>.json                   CheckpointMetadata
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomicSync } from '../runs/atomic_write';
import { confinedPathSync } from '../protocol/confined_path';
import type { Qwen2Config } from '../model/qwen2_config';
import { SafetensorsFile } from './safetensors_reader';
import { writeSafetensors, type TensorToWrite } from './safetensors_writer';

/** Bumped when the layout changes incompatibly; readers refuse newer versions. */
export const checkpointFormatVersion = 1;

export interface CheckpointMetadata {
  formatVersion: number;
  /** The backbone architecture; resume takes it from here (STYLE.md rule 15). */
  config: Qwen2Config;
  step: number;
  /** ISO time of writing. */
  savedAt: string;
  weightsFile: string;
  optimizerFile: string | null;
  /** The LoRA adapters the weights include (peft keys), so that a model can be rebuilt with them; null when none. */
  lora: CheckpointLora | null;
  /** Anything the trainer adds (epoch, best validation loss, experiment config hash, finetune mode, ...). */
  extra: Record<string, unknown>;
}

export interface CheckpointLora {
  rank: number;
  alpha: number;
  targets: string[];
}

export type NamedTensors = readonly (readonly [string, tf.Tensor])[];

export interface SaveCheckpointArgs {
  dir: string;
  /** File stem, e.g. `step-000100` or `best`. */
  name: string;
  config: Qwen2Config;
  step: number;
  weights: NamedTensors;
  optimizerState?: NamedTensors;
  lora?: CheckpointLora | null;
  extra?: Record<string, unknown>;
}

function toWrite(tensors: NamedTensors): TensorToWrite[] {
  return tensors.map(([name, tensor]) => ({
    name,
    shape: tensor.shape,
    values: () => {
      const values = tensor.dataSync();
      return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    },
  }));
}

/** Writes a checkpoint; returns the path of its metadata JSON. */
export function saveCheckpoint(args: SaveCheckpointArgs): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(args.name)) {
    throw new Error(`Checkpoint name "${args.name}" must be a plain file stem (letters, digits, '.', '_', '-').`);
  }
  mkdirSync(args.dir, { recursive: true });
  const weightsFile = `${args.name}.safetensors`;
  const optimizerFile = args.optimizerState && args.optimizerState.length > 0 ? `${args.name}.optimizer.safetensors` : null;
  const fileMetadata = { format: 'pt', l3m_format_version: String(checkpointFormatVersion), step: String(args.step) };
  writeSafetensors(join(args.dir, weightsFile), toWrite(args.weights), fileMetadata);
  if (optimizerFile) writeSafetensors(join(args.dir, optimizerFile), toWrite(args.optimizerState!), fileMetadata);
  const metadata: CheckpointMetadata = {
    formatVersion: checkpointFormatVersion,
    config: args.config,
    step: args.step,
    savedAt: new Date().toISOString(),
    weightsFile,
    optimizerFile,
    lora: args.lora ?? null,
    extra: args.extra ?? {},
  };
  const metadataPath = join(args.dir, `${args.name}.json`);
  writeFileAtomicSync(metadataPath, JSON.stringify(metadata, null, 2) + '\n');
  return metadataPath;
}

export interface LoadedCheckpoint {
  metadata: CheckpointMetadata;
  /** Float32 tensors by key; the caller owns (and disposes) them. */
  weights: Map<string, tf.Tensor>;
  optimizerState: Map<string, tf.Tensor>;
}

/** Reads only the metadata JSON of a checkpoint (to build the model before loading weights). */
export function readCheckpointMetadata(dir: string, name: string): CheckpointMetadata {
  const path = join(dir, `${name}.json`);
  if (!existsSync(path)) throw new Error(`Checkpoint ${path} does not exist (or was never completed: the JSON is written last).`);
  let metadata: CheckpointMetadata;
  try {
    metadata = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(`Checkpoint ${path}: not valid JSON (${(cause as Error).message}).`);
  }
  if (typeof metadata.formatVersion !== 'number' || metadata.formatVersion > checkpointFormatVersion) {
    throw new Error(`Checkpoint ${path} has format version ${JSON.stringify(metadata.formatVersion)}; this L3M Studio reads ` +
      `up to ${checkpointFormatVersion}. Update L3M Studio to load it.`);
  }
  return metadata;
}

/**
 * The real path of a file that a checkpoint's metadata names (`weightsFile`, `optimizerFile`). The
 * metadata travels with copied run folders, so the name must stay inside the checkpoint folder,
 * links followed: otherwise loading would read any file on the machine as weights.
 */
export function checkpointFilePath(dir: string, name: string, field: 'weightsFile' | 'optimizerFile', file: unknown): string {
  const metadataPath = join(dir, `${name}.json`);
  if (typeof file !== 'string' || file === '') {
    throw new Error(`Checkpoint ${metadataPath}: ${field} must be a file name, found ${JSON.stringify(file)}. The checkpoint is damaged; resume from another one.`);
  }
  const found = confinedPathSync(dir, file, 'checkpoint folder');
  if (found.kind === 'inside') return found.path;
  if (found.kind === 'missing') throw new Error(`Checkpoint ${metadataPath}: its ${field} "${file}" does not exist in ${dir}.`);
  if (found.kind === 'error') throw new Error(`Checkpoint ${metadataPath}: ${found.problem}`);
  throw new Error(`The ${field} "${file}" of checkpoint ${metadataPath} leads to ${found.target}, outside the checkpoint folder ${dir}; `
    + 'it was not read. A checkpoint reads only files in its own folder: copy the file there and name it without a path.');
}

function readAll(path: string): Map<string, tf.Tensor> {
  const file = new SafetensorsFile(path);
  const out = new Map<string, tf.Tensor>();
  try {
    for (const name of file.tensors.keys()) out.set(name, file.readTensor(name));
  } catch (error) {
    for (const tensor of out.values()) tensor.dispose();
    throw error;
  } finally {
    file.close();
  }
  return out;
}

/** Reads a checkpoint written by saveCheckpoint. */
export function loadCheckpoint(dir: string, name: string): LoadedCheckpoint {
  const metadata = readCheckpointMetadata(dir, name);
  const weights = readAll(checkpointFilePath(dir, name, 'weightsFile', metadata.weightsFile));
  let optimizerState: Map<string, tf.Tensor>;
  try {
    optimizerState = metadata.optimizerFile ? readAll(checkpointFilePath(dir, name, 'optimizerFile', metadata.optimizerFile)) : new Map();
  } catch (error) {
    for (const tensor of weights.values()) tensor.dispose();
    throw error;
  }
  return { metadata, weights, optimizerState };
}

/**
 * Assigns loaded tensors to variables by key, checking every key and shape first so that a mismatch changes
 * nothing. Keys in `tensors` without a variable are returned (e.g. optional parts the caller handles).
 */
export function assignNamedWeights(variables: readonly (readonly [string, tf.Variable])[], tensors: Map<string, tf.Tensor>): string[] {
  for (const [name, variable] of variables) {
    const tensor = tensors.get(name);
    if (!tensor) throw new Error(`Checkpoint has no tensor "${name}" (expected shape [${variable.shape.join(', ')}]).`);
    if (tensor.shape.length !== variable.shape.length || tensor.shape.some((s, i) => s !== variable.shape[i])) {
      throw new Error(`Checkpoint tensor "${name}": expected shape [${variable.shape.join(', ')}], found [${tensor.shape.join(', ')}].`);
    }
  }
  for (const [name, variable] of variables) variable.assign(tensors.get(name)!);
  const used = new Set(variables.map(([name]) => name));
  return [...tensors.keys()].filter((name) => !used.has(name));
}
