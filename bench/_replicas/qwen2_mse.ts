// bench/train_step's model as a training task of the engine: the Qwen2 model of a config with random weights
// of a seed, trained on the mean squared error of its final hidden states against a fixed target (the bench's
// loss), with the batch's rows as its training examples. The training thread builds it, and so does each
// data-parallel worker (./qwen2_mse_worker.ts) from the same options.
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import type { Qwen2Config } from '../../sidecar/model/qwen2_config';
import { shardIndices, type TrainingTask } from '../../sidecar/train/training_task';

export interface Qwen2MseOptions {
  config: Qwen2Config;
  seed: number;
  /** (batch, length, hidden) inputs and targets, flattened. */
  input: Float32Array;
  target: Float32Array;
  batch: number;
  length: number;
}

interface MseBatch {
  input: tf.Tensor3D;
  target: tf.Tensor3D;
}

/** The bench loss: mean over features, then over tokens (see bench/train_step.ts). */
export function hiddenMse(model: Qwen2Model, input: tf.Tensor3D, target: tf.Tensor3D): tf.Scalar {
  return tf.mean(
    tf.mean(tf.squaredDifference(model.forward({ inputsEmbeds: input, training: true }).hidden, target), -1),
  );
}

export function qwen2MseTask(options: Qwen2MseOptions): { task: TrainingTask<MseBatch>; dispose: () => void } {
  const model = Qwen2Model.random(options.config, options.seed);
  const trainable = model.namedWeights().filter(([name]) => name !== 'model.embed_tokens.weight');
  const row = options.length * options.config.hiddenSize;
  const rows = (values: Float32Array, indices: Int32Array): tf.Tensor3D => {
    const out = new Float32Array(indices.length * row);
    indices.forEach((r, i) => out.set(values.subarray(r * row, (r + 1) * row), i * row));
    return tf.tensor3d(out, [indices.length, options.length, options.config.hiddenSize]);
  };
  const task: TrainingTask<MseBatch> = {
    trainSize: options.batch,
    phases: [
      {
        name: 'all',
        groups: [{ name: 'all', weights: trainable, lrRatio: 1, weightDecay: 0 }],
        loss: (batch) => hiddenMse(model, batch.input, batch.target),
      },
    ],
    batch: (indices, context) => {
      const mine = shardIndices(indices, context);
      return { input: rows(options.input, mine), target: rows(options.target, mine) };
    },
    disposeBatch: (batch) => tf.dispose([batch.input, batch.target]),
    validate: () => Promise.resolve({ loss: NaN, metrics: {} }),
    namedWeights: () => trainable,
  };
  return { task, dispose: () => model.dispose() };
}
