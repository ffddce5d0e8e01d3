// Loads a Hugging Face Qwen2 checkpoint folder (as `Qwen2ForCausalLM.save_pretrained` writes it):
// config.json (normalised by normalizeHfConfig), model.safetensors or model.safetensors.index.json + shards,
// BF16/F16/F32 weights converted to float32. Every tensor is checked (present, right shape, float dtype)
// BEFORE the model is built, so a bad checkpoint gives one clear error and never a half-loaded model; the
// weights are then streamed one tensor at a time into the model's variables (peak memory ≈ the float32 model
// plus one tensor).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFileSync } from '../runtime/regular_file';
import { normalizeHfConfig, type Qwen2Config } from '../model/qwen2_config';
import { Qwen2Model, qwen2WeightShapes } from '../model/qwen2_model';
import type { WeightSource } from '../model/weight_source';
import { SafetensorsFile } from './safetensors_reader';
import { floatDtypes, isFloatDtype } from './safetensors_dtype';
import { errorMessage } from '../protocol/error_message';
import { isRecord } from '../../schemas/json_value';

export const singleWeightsFile = 'model.safetensors';
export const shardIndexFile = 'model.safetensors.index.json';

/** Reads and normalises `<folder>/config.json`. */
export function readHfConfig(folder: string): Qwen2Config {
  const path = join(folder, 'config.json');
  if (!existsSync(path)) {
    throw new Error(
      `Checkpoint folder ${folder} has no config.json; a Hugging Face Qwen2 checkpoint folder holds ` +
        'config.json, model.safetensors (or model.safetensors.index.json + shards) and tokenizer.json.',
    );
  }
  const text = readRegularFileSync(path, 'the config.json of a Hugging Face Qwen2 checkpoint').toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new Error(`${path}: not valid JSON (${errorMessage(cause)}).`, { cause });
  }
  return normalizeHfConfig(json, path);
}

/** The checkpoint's tensors by name, across one file or the shards of an index; close() when done. */
export class SafetensorsCollection {
  private readonly byName = new Map<string, SafetensorsFile>();
  private readonly files: SafetensorsFile[] = [];

  constructor(folder: string) {
    const single = join(folder, singleWeightsFile);
    const index = join(folder, shardIndexFile);
    try {
      if (existsSync(index)) this.openSharded(folder, index);
      else if (existsSync(single)) this.add(new SafetensorsFile(single));
      else {
        throw new Error(
          `Checkpoint folder ${folder} has neither ${singleWeightsFile} nor ${shardIndexFile}; ` +
            'only safetensors checkpoints are supported (convert .bin files with save_pretrained(safe_serialization=True)).',
        );
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private openSharded(folder: string, indexPath: string): void {
    const text = readRegularFileSync(
      indexPath,
      'the shard index of a Hugging Face checkpoint (tensor name → shard file)',
    ).toString('utf8');
    let index: unknown;
    try {
      index = JSON.parse(text);
    } catch (cause) {
      throw new Error(`${indexPath}: not valid JSON (${errorMessage(cause)}).`, { cause });
    }
    const weightMap = isRecord(index) ? index.weight_map : undefined;
    if (!isRecord(weightMap)) {
      throw new Error(`${indexPath}: no "weight_map" object; a shard index maps each tensor name to its shard file.`);
    }
    const opened = new Map<string, SafetensorsFile>();
    for (const [name, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
        throw new Error(
          `${indexPath}: tensor "${name}" maps to ${JSON.stringify(shard)}, which is not a file name in the folder.`,
        );
      }
      let file = opened.get(shard);
      if (!file) {
        const shardPath = join(folder, shard);
        if (!existsSync(shardPath))
          throw new Error(`${indexPath}: shard ${shard} (holding "${name}") does not exist in ${folder}.`);
        file = new SafetensorsFile(shardPath);
        opened.set(shard, file);
        this.files.push(file);
      }
      if (!file.has(name))
        throw new Error(`${indexPath}: says "${name}" is in ${shard}, but that file has no such tensor.`);
      this.byName.set(name, file);
    }
  }

  private add(file: SafetensorsFile): void {
    this.files.push(file);
    for (const name of file.tensors.keys()) this.byName.set(name, file);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  file(name: string): SafetensorsFile | undefined {
    return this.byName.get(name);
  }

  close(): void {
    for (const file of this.files) file.close();
  }
}

export interface LoadedHfCheckpoint {
  config: Qwen2Config;
  model: Qwen2Model;
  /** Tensors in the files that the model has no place for (e.g. lm_head.weight of a tied model). */
  unusedKeys: string[];
}

export interface LoadHfOptions {
  /** Overrides applied to the normalised config (e.g. attentionDropout for training). Shape fields must match the files. */
  configOverrides?: Partial<Pick<Qwen2Config, 'attentionDropout' | 'causal'>>;
}

/**
 * Checks that `tensors` hold every weight of `config` with the right shape and a float dtype; the error names the
 * tensor, the expected and the found shape, and the file.
 */
export function checkCheckpointTensors(tensors: SafetensorsCollection, config: Qwen2Config): void {
  for (const [name, expected] of qwen2WeightShapes(config)) {
    const file = tensors.file(name);
    if (!file) {
      throw new Error(
        `Checkpoint is missing tensor "${name}" (expected shape [${expected.join(', ')}]); the weights do not ` +
          'belong to this config.json.',
      );
    }
    const info = file.info(name);
    if (info.shape.length !== expected.length || info.shape.some((s, i) => s !== expected[i])) {
      throw new Error(
        `Checkpoint tensor "${name}" in ${file.path}: expected shape [${expected.join(', ')}], found ` +
          `[${info.shape.join(', ')}]; the weights do not match config.json.`,
      );
    }
    if (!isFloatDtype(info.dtype)) {
      throw new Error(
        `Checkpoint tensor "${name}" in ${file.path} has dtype ${info.dtype}; supported: ${floatDtypes.join(', ')}.`,
      );
    }
  }
}

/** A WeightSource that streams each named tensor from the files, converted to float32. */
export function safetensorsWeightSource(tensors: SafetensorsCollection): WeightSource {
  return (name) => {
    const file = tensors.file(name);
    if (!file) throw new Error(`Checkpoint is missing tensor "${name}".`);
    return file.readTensor(name);
  };
}

/** Loads config and weights of the HF checkpoint in `folder`. */
export function loadHfCheckpoint(folder: string, options: LoadHfOptions = {}): LoadedHfCheckpoint {
  const config = { ...readHfConfig(folder), ...options.configOverrides };
  const tensors = new SafetensorsCollection(folder);
  try {
    checkCheckpointTensors(tensors, config);
    const expected = qwen2WeightShapes(config);
    const unusedKeys = tensors.names.filter((name) => !expected.has(name));
    const model = new Qwen2Model(config, safetensorsWeightSource(tensors));
    return { config, model, unusedKeys };
  } finally {
    tensors.close();
  }
}
