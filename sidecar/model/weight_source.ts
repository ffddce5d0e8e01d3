// Where a model's weights come from when it is built: a random initialiser (HF's init for `source: random`)
// or a checkpoint reader. Building a model pulls each tensor by its HF name exactly once and wraps it in a
// tf.Variable without a copy, so loading a checkpoint holds at most one extra tensor at a time.
import * as tf from '@tensorflow/tfjs';
import { normalInit, SeedStream } from './init';

/** What a weight is, so that a random source knows how to initialise it. */
export type WeightKind = 'linear' | 'bias' | 'norm' | 'embedding';

/** Returns the float32 tensor for the HF key `name`, of exactly `shape`; the caller owns (and keeps) it. */
export type WeightSource = (name: string, shape: number[], kind: WeightKind) => tf.Tensor;

/** HF `_init_weights`: N(0, std²) for linear and embedding weights, zeros for biases, ones for norm scales. */
export function randomWeightSource(initializerRange: number, seed: number): WeightSource {
  const seeds = new SeedStream(seed);
  return (_name, shape, kind) => {
    switch (kind) {
      case 'linear':
      case 'embedding':
        return normalInit(shape, initializerRange, seeds);
      case 'bias':
        return tf.zeros(shape);
      case 'norm':
        return tf.ones(shape);
    }
  };
}

/** Wraps a tensor from a source as a variable, checking its shape; the tensor's memory is shared, not copied. */
export function variableFrom(
  source: WeightSource,
  name: string,
  shape: number[],
  kind: WeightKind,
  trainable = true,
): tf.Variable {
  const tensor = source(name, shape, kind);
  if (tensor.shape.length !== shape.length || tensor.shape.some((size, i) => size !== shape[i])) {
    const found = `[${tensor.shape.join(', ')}]`;
    tensor.dispose();
    throw new Error(
      `Weight "${name}": expected shape [${shape.join(', ')}], found ${found}; the checkpoint does ` +
        'not match the configured architecture (check config.json).',
    );
  }
  const asFloat = tensor.dtype === 'float32' ? tensor : tf.cast(tensor, 'float32');
  const variable = tf.variable(asFloat, trainable);
  // tf.variable shares the data of its initial value and holds its own reference, so the source tensor
  // can be released now without freeing the weights.
  if (asFloat !== tensor) asFloat.dispose();
  tensor.dispose();
  return variable;
}
