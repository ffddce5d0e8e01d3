// Checks on the fields of a checkpoint's metadata JSON that the readers downstream (resume, sampling,
// evaluation) use as objects: the model config, the LoRA description and the trainer's `extra`. The file
// is ours, but a hand edit, a disk fault or a copy from another tool can leave `"extra": null`, and each
// reader would then fail with a bare TypeError far from the file. Each check names the file, the field,
// what it holds and what was expected. (readCheckpointMetadata checks the file names and the step.)
import { validateQwen2Config, type Qwen2Config } from '../model/qwen2_config';
import type { CheckpointMetadata } from './checkpoint';

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
