// The velocity CNN inside the CFM loss with its activations recomputed, a chunk of patches at a time
// (../../model/ops/recompute.ts). At the paper's shapes (64 channels, 6 residual blocks, 14 × 14 patches, 1000
// patches per window) the CNN keeps about 4100 floats per pixel for its backward pass, 3.2 GB a window; in
// chunks it holds one chunk's, about 64 MB.
import type * as tf from '@tensorflow/tfjs';
import { recompute } from '../../model/ops/recompute';
import type { VelocityCnn } from './velocity_cnn';

/** Floats per chunk of patches whose activations the backward pass holds at once (64 MB). */
const chunkFloats = 2 ** 24;

/** Patches per chunk: the CNN's saved floats per pixel are (3·factor + 4)·C per block and about 4·C more. */
export function velocityChunkRows(
  shape: Pick<VelocityCnn['options'], 'patchSize' | 'channels' | 'blocks' | 'residualFactor'>,
): number {
  const { patchSize, channels, blocks, residualFactor } = shape;
  const perPatch = patchSize * patchSize * channels * (blocks * (3 * residualFactor + 4) + 4);
  return Math.max(1, Math.floor(chunkFloats / perPatch));
}

/**
 * v(x, τ | cond) as `cnn.apply`, recomputed in the backward pass. The gradient reaches `cond` (the backbone's
 * output) and the CNN's weights; x_τ and τ come from data and noise and get none.
 */
export function recomputedVelocity(cnn: VelocityCnn, x: tf.Tensor, tau: tf.Tensor, cond: tf.Tensor): tf.Tensor {
  return recompute(
    (xChunk, tauChunk, condChunk) => cnn.apply(xChunk, tauChunk, condChunk),
    { tensors: [x, tau, cond], differentiable: [false, false, true], variables: cnn.namedWeights().map(([, v]) => v) },
    velocityChunkRows(cnn.options),
  );
}
