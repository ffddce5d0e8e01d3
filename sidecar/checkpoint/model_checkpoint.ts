// Saving and restoring a whole backbone state through our checkpoint format: the Qwen2 weights (HF keys),
// LoRA adapters (peft keys), special-token vectors (`special_tokens.<name>`) and whatever else the trainer
// adds (connectors, heads) under its own keys. Restoring builds the model straight from the file, tensor by
// tensor (no second copy of the weights), with the architecture and adapters recorded in the metadata.
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model, type LoraTarget } from '../model/qwen2_model';
import { SpecialTokens } from '../model/special_tokens';
import { qwen2WeightShapes } from '../model/qwen2_model';
import { SafetensorsFile } from './safetensors_reader';
import {
  checkpointFilePath, readCheckpointMetadata, saveCheckpoint, type CheckpointLora, type CheckpointMetadata, type NamedTensors,
} from './checkpoint';

export interface SaveModelCheckpointArgs {
  dir: string;
  name: string;
  model: Qwen2Model;
  step: number;
  /** LoRA settings used to create the adapters (rank, alpha, targets), required when the model has adapters. */
  lora?: CheckpointLora;
  specialTokens?: SpecialTokens;
  /** Further trainable tensors (connectors, heads) under keys that do not clash with the backbone's. */
  otherWeights?: NamedTensors;
  optimizerState?: NamedTensors;
  extra?: Record<string, unknown>;
}

export function saveModelCheckpoint(args: SaveModelCheckpointArgs): string {
  if (args.model.hasLora && !args.lora) {
    throw new Error('saveModelCheckpoint: the model has LoRA adapters; pass lora { rank, alpha, targets } so they can be rebuilt.');
  }
  const weights: (readonly [string, tf.Tensor])[] = [
    ...args.model.namedWeights(), ...args.model.namedLoraWeights(),
    ...(args.specialTokens?.namedWeights() ?? []), ...(args.otherWeights ?? []),
  ];
  return saveCheckpoint({
    dir: args.dir, name: args.name, config: args.model.config, step: args.step, weights,
    optimizerState: args.optimizerState, lora: args.model.hasLora ? args.lora : null, extra: args.extra,
  });
}

export interface RestoredModel {
  metadata: CheckpointMetadata;
  model: Qwen2Model;
  /** Present when the checkpoint has `special_tokens.*` tensors. */
  specialTokens: SpecialTokens | null;
  /** Every other tensor (connectors, heads), owned by the caller. */
  otherWeights: Map<string, tf.Tensor>;
  /** The optimizer slots by name (load with optimizer.setWeights), owned by the caller. */
  optimizerState: Map<string, tf.Tensor>;
}

/** Rebuilds model, adapters, special tokens and the rest from a checkpoint written by saveModelCheckpoint. */
export function loadModelCheckpoint(dir: string, name: string): RestoredModel {
  const metadata = readCheckpointMetadata(dir, name);
  const file = new SafetensorsFile(checkpointFilePath(dir, name, 'weightsFile', metadata.weightsFile));
  const created: { dispose(): void }[] = [];
  try {
    const backboneShapes = qwen2WeightShapes(metadata.config);
    const backboneKeys = new Set(backboneShapes.keys());
    // Check every backbone tensor before allocating anything, so a bad file never leaves a half-built model.
    for (const [key, shape] of backboneShapes) {
      const found = file.has(key) ? file.info(key).shape : null;
      if (!found || found.join(',') !== shape.join(',')) {
        throw new Error(`Checkpoint ${file.path}: tensor "${key}" expected shape [${shape.join(', ')}], found ` +
          `${found ? `[${found.join(', ')}]` : 'nothing'}; the file does not match the config in its metadata.`);
      }
    }
    const model = new Qwen2Model(metadata.config, (key) => file.readTensor(key));
    created.push(model);
    if (metadata.lora) {
      model.addLora({ rank: metadata.lora.rank, alpha: metadata.lora.alpha, targets: metadata.lora.targets as LoraTarget[] });
      for (const [key, variable] of model.namedLoraWeights()) {
        const tensor = file.readTensor(key);
        if (tensor.shape.join(',') !== variable.shape.join(',')) {
          throw new Error(`Checkpoint tensor "${key}": expected shape [${variable.shape.join(', ')}], found [${tensor.shape.join(', ')}].`);
        }
        variable.assign(tensor);
        tensor.dispose();
      }
    }
    const loraKeys = new Set(model.namedLoraWeights().map(([key]) => key));
    const prefix = 'special_tokens.';
    const tokenNames = [...file.tensors.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
    let specialTokens: SpecialTokens | null = null;
    if (tokenNames.length > 0) {
      specialTokens = new SpecialTokens(metadata.config.hiddenSize, tokenNames);
      created.push(specialTokens);
      for (const token of tokenNames) {
        const tensor = file.readTensor(prefix + token);
        specialTokens.get(token).assign(tensor.reshape([metadata.config.hiddenSize]));
        tensor.dispose();
      }
    }
    const otherWeights = new Map<string, tf.Tensor>();
    for (const key of file.tensors.keys()) {
      if (!backboneKeys.has(key) && !loraKeys.has(key) && !key.startsWith(prefix)) otherWeights.set(key, file.readTensor(key));
    }
    const optimizerState = new Map<string, tf.Tensor>();
    if (metadata.optimizerFile) {
      const optimizerFile = new SafetensorsFile(checkpointFilePath(dir, name, 'optimizerFile', metadata.optimizerFile));
      try {
        for (const key of optimizerFile.tensors.keys()) optimizerState.set(key, optimizerFile.readTensor(key));
      } finally {
        optimizerFile.close();
      }
    }
    return { metadata, model, specialTokens, otherWeights, optimizerState };
  } catch (error) {
    for (const object of created) object.dispose();
    throw error;
  } finally {
    file.close();
  }
}
