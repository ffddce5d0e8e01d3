// Checks on the fields of a checkpoint's metadata JSON that the readers downstream (resume, sampling,
// evaluation) use as objects: the model config, the LoRA description and the trainer's `extra`. The file
// is ours, but a hand edit, a disk fault or a copy from another tool can leave `"extra": null`, and each
// reader would then fail with a bare TypeError far from the file. Each check names the file, the field,
// what it holds and what was expected. (readCheckpointMetadata checks the file names and the step.)
import { validateQwen2Config, type Qwen2Config } from '../model/qwen2_config';
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
    new Error(`Checkpoint ${path}: "${field}" is ${describe(value)}; expected ${expected}. The file was edited or damaged; ` +
      'resume from another checkpoint of the run, or train again.');
  if (!isObject(json)) throw new Error(`Checkpoint ${path}: the metadata is ${describe(json)}; expected a JSON object as saveCheckpoint writes.`);
  const { config, lora, extra } = json;
  if (!isObject(config)) throw fail('config', config, 'an object (the model architecture the weights belong to)');
  validateQwen2Config(config as unknown as Qwen2Config, `Checkpoint ${path}: "config"`);
  if (lora != null && !(isObject(lora) && typeof lora.rank === 'number' && typeof lora.alpha === 'number' &&
    Array.isArray(lora.targets) && lora.targets.every((t) => typeof t === 'string'))) {
    throw fail('lora', lora, 'null or {rank, alpha, targets}');
  }
  if (!isObject(extra)) throw fail('extra', extra, 'an object (what the trainer saved: its counters and task settings)');
  return json as unknown as CheckpointMetadata;
}
