// Decoder blocks run through activation recomputation (./ops/recompute.ts): the forward pass keeps only the
// inputs of each block's two residual halves (attention, MLP), and the backward pass rebuilds one half's
// activations at a time from its input. Used for training when `training.recompute_activations` is on, so that
// a step holds half a block's activations instead of all the blocks'. The halves are recomputed apart because
// TF.js keeps the gradient of every tensor of a pass until the pass ends: a whole block's pass would hold its
// attention maps and its MLP-wide tensors, with their gradients, at once.
import * as tf from '@tensorflow/tfjs';
import type { AttentionContext } from './qwen2_attention';
import type { Qwen2DecoderLayer } from './qwen2_decoder_layer';
import { recomputeSequence } from './ops/recompute';

function variablesOf(named: [string, tf.Variable][]): tf.Variable[] {
  return named.map(([, v]) => v);
}

/** The variables each half of a block reads: norm scale, projections' weights, biases and adapters. */
export function blockHalfVariables(block: Qwen2DecoderLayer): { attention: tf.Variable[]; mlp: tf.Variable[] } {
  const of = (
    projections: { namedWeights(): [string, tf.Variable][]; namedLoraWeights(): [string, tf.Variable][] }[],
  ) => projections.flatMap((p) => [...variablesOf(p.namedWeights()), ...variablesOf(p.namedLoraWeights())]);
  return {
    attention: [...variablesOf(block.inputLayernorm.namedWeights()), ...of(Object.values(block.selfAttn.projections))],
    mlp: [...variablesOf(block.postAttentionLayernorm.namedWeights()), ...of(Object.values(block.mlp.projections))],
  };
}

/**
 * `blocks` applied to `x` in order, with their activations recomputed in the backward pass half a block at a
 * time (one op for the whole stack, ./ops/recompute.ts#recomputeSequence); gradients reach `x` and those of the
 * blocks' variables that are in `trained` (a frozen weight asks for none, so none is held). The rotary tables
 * and the mask go in as kept constants, because the forward pass's scope disposes them before the backward pass
 * needs them again. Training only: a key/value cache is refused.
 */
export function applyRecomputedBlocks(
  blocks: readonly Qwen2DecoderLayer[],
  x: tf.Tensor,
  context: AttentionContext,
  trained: ReadonlySet<tf.Variable>,
): tf.Tensor {
  if (context.cache) {
    throw new Error(
      'Recomputed decoder blocks: a key/value cache is for inference; recompute activations only in training.',
    );
  }
  const { cos, sin, signedSin } = context.rotary;
  const constants = [cos, sin, signedSin, ...(context.mask ? [context.mask] : [])];
  const stages: ((input: tf.Tensor, ...kept: tf.Tensor[]) => tf.Tensor)[] = [];
  const variables: tf.Variable[][] = [];
  for (const block of blocks) {
    const halves = blockHalfVariables(block);
    stages.push(
      (input, cosIn, sinIn, signedSinIn, mask) =>
        tf.add(
          input,
          block.selfAttn.apply(block.inputLayernorm.apply(input), {
            ...context,
            rotary: { cos: cosIn as tf.Tensor2D, sin: sinIn as tf.Tensor2D, signedSin: signedSinIn as tf.Tensor2D },
            mask: mask ?? null,
          }),
        ), // (B, T, H)
    );
    variables.push(halves.attention.filter((v) => trained.has(v)));
    stages.push((input) => tf.add(input, block.mlp.apply(block.postAttentionLayernorm.apply(input)))); // (B, T, H)
    variables.push(halves.mlp.filter((v) => trained.has(v)));
  }
  return recomputeSequence(stages, x, constants, variables);
}
