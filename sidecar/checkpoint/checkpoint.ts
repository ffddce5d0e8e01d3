// L3M Studio's own checkpoints: the trainable state as safetensors (F32) that Python's `safetensors` library
// loads unchanged, the optimizer state in a second safetensors file, and a JSON file with the format
// version, the model config, the step and whatever the trainer adds.
//   <dir>/<name>.<sha256 prefix>.safetensors            weights by key (HF keys for the backbone, peft keys for LoRA, ...)
//   <dir>/<name>.<sha256 prefix>.optimizer.safetensors  optimizer slots by name (omitted when none)
//   <dir>/<name>.json                                   CheckpointMetadata, the checkpoint's manifest
// A checkpoint is one atomic unit although it spans several files. The data files are named by their
// content, so writing a new version of `best` never touches the files the current `best.json` names;
// the JSON, naming the files with their hashes, is renamed into place last, and that one rename switches
// from the old checkpoint to the new one. A process killed at any moment leaves the old checkpoint or
// the new one, never a mixture; the files of the old one (or of a write that never finished) are removed
// afterwards. Loading checks every file against the manifest (length, sha256, the step in its header),
// so a checkpoint of the older layout (`<name>.safetensors`, replaced in place) that a kill tore is
// refused rather than used.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomicSync } from '../runs/atomic_write';
import { confinedPathSync } from '../protocol/confined_path';
import type { Qwen2Config } from '../model/qwen2_config';
import { checkRegularFileSync, readRegularFileSync, regularFileNames } from '../runtime/regular_file';
import { isRecord } from '../../schemas/json_value';
import { checkCheckpointMetadata, type CheckpointLora, type CheckpointMetadata } from './checkpoint_metadata';
import { SafetensorsFile } from './safetensors_reader';
import { writeSafetensorsByContent, type TensorToRead } from './safetensors_writer';
import { errorMessage } from '../protocol/error_message';

/** Bumped when the layout changes incompatibly; readers refuse newer versions. */
export const checkpointFormatVersion = 1;

export type { CheckpointLora, CheckpointMetadata };

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
  /**
   * Called once every tensor has been read and written, before the metadata that switches to the new
   * checkpoint: a throw leaves the previous checkpoint of this name as it was (the GPU device's errors are
   * checked here, since they arrive only after reads).
   */
  beforeCommit?: () => void;
}

/** Each tensor is read when its turn to be written comes, asynchronously: webgpu has no synchronous read under Node. */
function toRead(tensors: NamedTensors): TensorToRead[] {
  return tensors.map(([name, tensor]) => ({
    name,
    shape: tensor.shape,
    values: async () => {
      const values = await tensor.data();
      return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    },
  }));
}

/** The first 16 hex digits of the hash name a data file: enough to never meet another version of the same checkpoint. */
const hashInName = (sha256: string) => sha256.slice(0, 16);

/** Writes a checkpoint as one atomic unit (see the top of this file); returns the path of its metadata JSON. */
export async function saveCheckpoint(args: SaveCheckpointArgs): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(args.name)) {
    throw new Error(`Checkpoint name "${args.name}" must be a plain file stem (letters, digits, '.', '_', '-').`);
  }
  mkdirSync(args.dir, { recursive: true });
  const previous = referencedFiles(args.dir, args.name);
  const fileMetadata = { format: 'pt', l3m_format_version: String(checkpointFormatVersion), step: String(args.step) };
  const weights = await writeSafetensorsByContent(
    args.dir,
    (hash) => `${args.name}.${hashInName(hash)}.safetensors`,
    toRead(args.weights),
    fileMetadata,
  );
  const optimizer =
    args.optimizerState && args.optimizerState.length > 0
      ? await writeSafetensorsByContent(
          args.dir,
          (hash) => `${args.name}.${hashInName(hash)}.optimizer.safetensors`,
          toRead(args.optimizerState),
          fileMetadata,
        )
      : null;
  // A refusal here leaves the data files just written unnamed by any metadata, as a kill would; the
  // owner's next start removes them (removeUnreferencedCheckpointFiles).
  args.beforeCommit?.();
  // The data files' renames must be on disk before the manifest that names them.
  syncDirectory(args.dir);
  const metadata: CheckpointMetadata = {
    formatVersion: checkpointFormatVersion,
    config: args.config,
    step: args.step,
    savedAt: new Date().toISOString(),
    weightsFile: weights.file,
    optimizerFile: optimizer?.file ?? null,
    lora: args.lora ?? null,
    extra: args.extra ?? {},
    contents: optimizer ? [weights, optimizer] : [weights],
  };
  const metadataPath = join(args.dir, `${args.name}.json`);
  writeFileAtomicSync(metadataPath, JSON.stringify(metadata, null, 2) + '\n');
  const current = new Set(metadata.contents!.map((c) => c.file));
  for (const file of previous) if (!current.has(file)) rmSync(join(args.dir, file), { force: true });
  return metadataPath;
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems (and Windows) refuse fsync on a directory; the renames are still atomic there.
  }
}

/** The data files the checkpoint `name` in `dir` names now; none when it has no readable metadata. */
function referencedFiles(dir: string, name: string): string[] {
  try {
    const metadata: unknown = JSON.parse(readMetadataText(join(dir, `${name}.json`)));
    if (!isRecord(metadata)) return [];
    return [metadata.weightsFile, metadata.optimizerFile].filter(
      (f): f is string => typeof f === 'string' && !f.includes('/') && !f.includes('\\'),
    );
  } catch {
    return [];
  }
}

/** Deletes the checkpoint `name`: its metadata first, so that no half-deleted checkpoint looks complete. */
export function deleteCheckpoint(dir: string, name: string): void {
  const files = referencedFiles(dir, name);
  rmSync(join(dir, `${name}.json`), { force: true });
  for (const file of files) rmSync(join(dir, file), { force: true });
}

/**
 * Removes the data files in `dir` that no checkpoint's metadata names: what a write or a deletion left when
 * its process was killed. Nothing is removed while any metadata file is unreadable, since the files it
 * names cannot be told apart. Returns the names removed. Only the process that owns the run calls this.
 */
export function removeUnreferencedCheckpointFiles(dir: string): string[] {
  const names = regularFileNames(dir);
  const referenced = new Set<string>();
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
    try {
      const metadata: unknown = JSON.parse(readMetadataText(join(dir, name)));
      if (!isRecord(metadata)) return [];
      for (const file of [metadata.weightsFile, metadata.optimizerFile])
        if (typeof file === 'string') referenced.add(file);
    } catch {
      return [];
    }
  }
  const orphans = names.filter((n) => n.endsWith('.safetensors') && !n.startsWith('.') && !referenced.has(n));
  for (const file of orphans) rmSync(join(dir, file), { force: true });
  return orphans;
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
  if (!existsSync(path))
    throw new Error(`Checkpoint ${path} does not exist (or was never completed: the JSON is written last).`);
  const text = readMetadataText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new Error(`Checkpoint ${path}: not valid JSON (${errorMessage(cause)}).`, { cause });
  }
  // Read field by field: a JSON value that is not an object has none of them.
  const metadata = isRecord(json) ? json : {};
  if (typeof metadata.formatVersion !== 'number' || metadata.formatVersion > checkpointFormatVersion) {
    throw new Error(
      `Checkpoint ${path} has format version ${JSON.stringify(metadata.formatVersion)}; this L3M Studio reads ` +
        `up to ${checkpointFormatVersion}. Update L3M Studio to load it.`,
    );
  }
  const plainName = (file: unknown) => typeof file === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(file);
  if (
    !plainName(metadata.weightsFile) ||
    !(metadata.optimizerFile === null || plainName(metadata.optimizerFile)) ||
    typeof metadata.step !== 'number' ||
    !Number.isSafeInteger(metadata.step) ||
    metadata.step < 0
  ) {
    throw new Error(
      `Checkpoint ${path} is not checkpoint metadata: it needs "weightsFile" (a file name in ${dir}), "optimizerFile" ` +
        `(a file name or null) and "step" (an integer ≥ 0); found ${JSON.stringify({ weightsFile: metadata.weightsFile, optimizerFile: metadata.optimizerFile, step: metadata.step })}.`,
    );
  }
  return checkCheckpointMetadata(json, path);
}

/** A metadata file's text; a FIFO or directory in its place is refused instead of blocking or failing bare. */
function readMetadataText(path: string): string {
  return readRegularFileSync(path, 'the metadata JSON of a checkpoint').toString('utf8');
}

/**
 * The real path of a file that a checkpoint's metadata names (`weightsFile`, `optimizerFile`). The
 * metadata travels with copied run folders, so the name must stay inside the checkpoint folder,
 * links followed: otherwise loading would read any file on the machine as weights.
 */
export function checkpointFilePath(
  dir: string,
  name: string,
  field: 'weightsFile' | 'optimizerFile',
  file: unknown,
): string {
  const metadataPath = join(dir, `${name}.json`);
  if (typeof file !== 'string' || file === '') {
    throw new Error(
      `Checkpoint ${metadataPath}: ${field} must be a file name, found ${JSON.stringify(file)}. The checkpoint is damaged; resume from another one.`,
    );
  }
  const found = confinedPathSync(dir, file, 'checkpoint folder');
  if (found.kind === 'inside') return found.path;
  if (found.kind === 'missing')
    throw new Error(`Checkpoint ${metadataPath}: its ${field} "${file}" does not exist in ${dir}.`);
  if (found.kind === 'error') throw new Error(`Checkpoint ${metadataPath}: ${found.problem}`);
  throw new Error(
    `The ${field} "${file}" of checkpoint ${metadataPath} leads to ${found.target}, outside the checkpoint folder ${dir}; ` +
      'it was not read. A checkpoint reads only files in its own folder: copy the file there and name it without a path.',
  );
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

function sha256Of(path: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Checks that the files of a checkpoint are the ones its metadata was written with: each listed file's
 * length and sha256, and for every checkpoint (the older layout too) the step in each file's header.
 * Throws an error naming the file, what was found and what to do.
 */
export function verifyCheckpointFiles(dir: string, name: string, metadata: CheckpointMetadata): void {
  const files = [metadata.weightsFile, metadata.optimizerFile].filter((f): f is string => f !== null);
  const fix =
    "Resume from (or evaluate) another checkpoint: delete this one's .json to make the run fall back to the one before it.";
  for (const file of files) {
    const path = join(dir, file);
    if (!existsSync(path))
      throw new Error(`Checkpoint ${join(dir, `${name}.json`)} names ${file}, which does not exist. ${fix}`);
    checkRegularFileSync(path, 'a safetensors file of the checkpoint', (message) => new Error(`${message} ${fix}`));
    const listed = metadata.contents?.find((c) => c.file === file);
    if (listed) {
      const bytes = statSync(path).size;
      if (bytes !== listed.bytes)
        throw new Error(
          `Checkpoint file ${path} has ${bytes} bytes; its metadata ${name}.json records ${listed.bytes}. ${fix}`,
        );
      if (sha256Of(path) !== listed.sha256)
        throw new Error(
          `Checkpoint file ${path}: its content does not match the sha256 its metadata records (${listed.sha256}); the file was changed or damaged after it was written. ${fix}`,
        );
    }
    const header = new SafetensorsFile(path);
    const step = header.metadata.step;
    header.close();
    if (step !== undefined && step !== String(metadata.step)) {
      throw new Error(
        `Checkpoint ${name} is torn: ${name}.json records step ${metadata.step} but ${file} holds step ${step} (its header), ` +
          `so the files come from two different writes (an older L3M Studio replaced them one by one and was interrupted). ${fix}`,
      );
    }
  }
}

/** Reads a checkpoint written by saveCheckpoint, after checking its files against its metadata. */
export function loadCheckpoint(dir: string, name: string): LoadedCheckpoint {
  const metadata = readCheckpointMetadata(dir, name);
  verifyCheckpointFiles(dir, name, metadata);
  const weights = readAll(checkpointFilePath(dir, name, 'weightsFile', metadata.weightsFile));
  let optimizerState: Map<string, tf.Tensor>;
  try {
    optimizerState = metadata.optimizerFile
      ? readAll(checkpointFilePath(dir, name, 'optimizerFile', metadata.optimizerFile))
      : new Map<string, tf.Tensor>();
  } catch (error) {
    for (const tensor of weights.values()) tensor.dispose();
    throw error;
  }
  return { metadata, weights, optimizerState };
}

/**
 * Assigns loaded tensors to variables by key, checking every key and shape first so that a mismatch changes
 * nothing. Keys in `tensors` without a variable are returned (e.g. optional parts the caller handles).
 * `source` (the weights file, where known) begins every error message.
 */
export function assignNamedWeights(
  variables: readonly (readonly [string, tf.Variable])[],
  tensors: Map<string, tf.Tensor>,
  source = 'Checkpoint',
): string[] {
  const fix = 'the checkpoint was written for another model configuration.';
  for (const [name, variable] of variables) {
    const tensor = tensors.get(name);
    if (!tensor)
      throw new Error(`${source}: no tensor "${name}" (expected shape [${variable.shape.join(', ')}]); ${fix}`);
    if (tensor.shape.length !== variable.shape.length || tensor.shape.some((s, i) => s !== variable.shape[i])) {
      throw new Error(
        `${source}: tensor "${name}": expected shape [${variable.shape.join(', ')}], found [${tensor.shape.join(', ')}]; ${fix}`,
      );
    }
  }
  for (const [name, variable] of variables) variable.assign(tensors.get(name)!);
  const used = new Set(variables.map(([name]) => name));
  return [...tensors.keys()].filter((name) => !used.has(name));
}
