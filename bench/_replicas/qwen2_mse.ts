// A data-parallel replica for bench/train_step and the data-parallel test: the Qwen2 model of a config with
// random weights of a seed, trained on the mean squared error of its final hidden states (the bench's loss).
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import type { Qwen2Config } from '../../sidecar/model/qwen2_config';
import type { Replica, Shard } from '../../sidecar/train/data_parallel/replica';

export interface Qwen2MseOptions {
  config: Qwen2Config;
  seed: number;
}

/** The bench loss: mean over features, then over tokens (see bench/train_step.ts). */
export function hiddenMse(model: Qwen2Model, input: tf.Tensor3D, target: tf.Tensor3D): tf.Scalar {
  return tf.mean(
    tf.mean(tf.squaredDifference(model.forward({ inputsEmbeds: input, training: true }).hidden, target), -1),
  );
}

export function createReplica(options: unknown): Replica {
  const { config, seed } = options as Qwen2MseOptions;
  const model = Qwen2Model.random(config, seed);
  const variables = model
    .namedWeights()
    .filter(([name]) => name !== 'model.embed_tokens.weight')
    .map(([, v]) => v);
  return {
    variables,
    loss: (shard: Shard) =>
      tf.tidy(() =>
        hiddenMse(
          model,
          tf.tensor3d(shard.input, shard.inputShape as [number, number, number]),
          tf.tensor3d(shard.target, shard.targetShape as [number, number, number]),
        ),
      ),
    dispose: () => model.dispose(),
  };
}
