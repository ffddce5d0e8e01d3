// A decoder block run through activation recomputation (./ops/recompute.ts): the forward pass keeps only the
// block's input, and the backward pass rebuilds the block's activations from it. Used for training when
// `training.recompute_activations` is on, so that a step holds one block's activations instead of all of them.
import type * as tf from '@tensorflow/tfjs';
import type { AttentionContext } from './qwen2_attention';
import type { Qwen2DecoderLayer } from './qwen2_decoder_layer';
import { recompute } from './ops/recompute';

/** Every variable a block reads: its two norm scales and its projections' weights, biases and adapters. */
export function blockVariables(block: Qwen2DecoderLayer): tf.Variable[] {
  const projections = [...Object.values(block.selfAttn.projections), ...Object.values(block.mlp.projections)];
  return [
    ...block.inputLayernorm.namedWeights(),
    ...block.postAttentionLayernorm.namedWeights(),
    ...projections.flatMap((p) => [...p.namedWeights(), ...p.namedLoraWeights()]),
  ].map(([, v]) => v);
}

/**
 * `block.apply(x, context)` with its activations recomputed in the backward pass; gradients reach `x` and those
 * of the block's variables that are in `trained` (a frozen weight asks for none, so none is held). The rotary
 * tables and the mask go in as saved inputs, because the forward pass's scope disposes them before the backward
 * pass needs them again. Training only: a key/value cache is refused.
 */
export function applyRecomputedBlock(
  block: Qwen2DecoderLayer,
  x: tf.Tensor,
  context: AttentionContext,
  trained: ReadonlySet<tf.Variable>,
): tf.Tensor {
  if (context.cache) {
    throw new Error(
      'Recomputed decoder block: a key/value cache is for inference; recompute activations only in training.',
    );
  }
  const { cos, sin, signedSin } = context.rotary;
  const tensors = [x, cos, sin, signedSin, ...(context.mask ? [context.mask] : [])];
  return recompute(
    (input, cosIn, sinIn, signedSinIn, mask) =>
      block.apply(input, {
        ...context,
        rotary: { cos: cosIn as tf.Tensor2D, sin: sinIn as tf.Tensor2D, signedSin: signedSinIn as tf.Tensor2D },
        mask: mask ?? null,
      }),
    {
      tensors,
      differentiable: tensors.map((_, i) => i === 0),
      variables: blockVariables(block).filter((v) => trained.has(v)),
    },
  );
}
