// Checks on the fields of a checkpoint's metadata JSON that the readers downstream (resume, sampling,
// evaluation) use as objects: the model config, the LoRA description and the trainer's `extra`. The file
// is ours, but a hand edit, a disk fault or a copy from another tool can leave `"extra": null`, and each
// reader would then fail with a bare TypeError far from the file. Each check names the file, the field,
// what it holds and what was expected. (readCheckpointMetadata checks the file names and the step.)
import { qwen2IntegerKeys, validateQwen2Config, type Qwen2Config } from '../model/qwen2_config';
import type { WrittenFile } from './safetensors_writer';

export interface CheckpointMetadata {
  formatVersion: number;
  /** The backbone architecture; resume takes it from here (docs/conventions.md#checkpoint-config). */
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
  /** Every data file with its sha256 and length; absent in checkpoints of the older layout. */
  contents?: WrittenFile[];
}

export interface CheckpointLora {
  rank: number;
  alpha: number;
  targets: string[];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'missing';
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns `json` as checkpoint metadata, or throws naming the first of these fields that is wrong. */
export function checkCheckpointMetadata(json: unknown, path: string): CheckpointMetadata {
  const fail = (field: string, value: unknown, expected: string): Error =>
    new Error(
      `Checkpoint ${path}: "${field}" is ${describe(value)}; expected ${expected}. The file was edited or damaged; ` +
        'resume from another checkpoint of the run, or train again.',
    );
  if (!isObject(json))
    throw new Error(
      `Checkpoint ${path}: the metadata is ${describe(json)}; expected a JSON object as saveCheckpoint writes.`,
    );
  const { config, lora, extra } = json;
  if (!isObject(config)) throw fail('config', config, 'an object (the model architecture the weights belong to)');
  for (const key of qwen2NumberKeys)
    if (typeof config[key] !== 'number') throw fail(`config.${key}`, config[key], 'a number');
  for (const key of qwen2BooleanKeys)
    if (typeof config[key] !== 'boolean') throw fail(`config.${key}`, config[key], 'true or false');
  if (!isQwen2Config(config)) throw fail('config', config, 'a Qwen2 config');
  validateQwen2Config(config, `Checkpoint ${path}: "config"`);
  if (lora != null && !isCheckpointLora(lora)) throw fail('lora', lora, 'null or {rank, alpha, targets}');
  // A missing "lora" has always been read as none; the readers test it against null.
  if (lora === undefined) json.lora = null;
  if (!isObject(extra))
    throw fail('extra', extra, 'an object (what the trainer saved: its counters and task settings)');
  if (typeof json.savedAt !== 'string') throw fail('savedAt', json.savedAt, 'the time of writing (an ISO 8601 string)');
  if (json.contents !== undefined && !(Array.isArray(json.contents) && json.contents.every(isWrittenFile))) {
    throw fail('contents', json.contents, 'a list of {file, bytes, sha256}');
  }
  if (!isCheckpointMetadata(json)) {
    throw new Error(
      `Checkpoint ${path}: the metadata needs "formatVersion" and "step" (numbers), "weightsFile" (a file name) and ` +
        `"optimizerFile" (a file name or null); found ${describe({ formatVersion: json.formatVersion, step: json.step, weightsFile: json.weightsFile, optimizerFile: json.optimizerFile })}.`,
    );
  }
  return json;
}

// Every field of a Qwen2Config: checkpoints have written all of them since the first format version.
// validateQwen2Config then checks the ranges of those it can check.
const qwen2NumberKeys = [
  ...qwen2IntegerKeys,
  'rmsNormEps',
  'ropeTheta',
  'maxPositionEmbeddings',
  'attentionDropout',
  'initializerRange',
] as const satisfies readonly (keyof Qwen2Config)[];
const qwen2BooleanKeys = ['tieWordEmbeddings', 'causal'] as const satisfies readonly (keyof Qwen2Config)[];

function isQwen2Config(value: Record<string, unknown>): value is Record<string, unknown> & Qwen2Config {
  return (
    qwen2NumberKeys.every((key) => typeof value[key] === 'number') &&
    qwen2BooleanKeys.every((key) => typeof value[key] === 'boolean')
  );
}

function isCheckpointLora(value: unknown): value is CheckpointLora {
  return (
    isObject(value) &&
    typeof value.rank === 'number' &&
    typeof value.alpha === 'number' &&
    Array.isArray(value.targets) &&
    value.targets.every((t) => typeof t === 'string')
  );
}

function isWrittenFile(value: unknown): value is WrittenFile {
  return (
    isObject(value) &&
    typeof value.file === 'string' &&
    typeof value.bytes === 'number' &&
    typeof value.sha256 === 'string'
  );
}

/** The fields checked above, with those readCheckpointMetadata checks before it calls checkCheckpointMetadata. */
function isCheckpointMetadata(value: Record<string, unknown>): value is Record<string, unknown> & CheckpointMetadata {
  const { formatVersion, step, weightsFile, optimizerFile, config, lora, extra, savedAt, contents } = value;
  return (
    typeof formatVersion === 'number' &&
    typeof step === 'number' &&
    typeof weightsFile === 'string' &&
    (optimizerFile === null || typeof optimizerFile === 'string') &&
    isObject(config) &&
    isQwen2Config(config) &&
    (lora === null || isCheckpointLora(lora)) &&
    isObject(extra) &&
    typeof savedAt === 'string' &&
    (contents === undefined || (Array.isArray(contents) && contents.every(isWrittenFile)))
  );
}
