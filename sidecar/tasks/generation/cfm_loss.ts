// The conditional flow-matching loss of the paper's Eq. 41 with linear interpolation paths (reference
// `L3M_CFM_Head.get_loss`, docs/paper-mapping.md#cfm): for a target patch x₁, noise ε ~ N(0, I) and a
// flow time τ ~ U(0, 1) drawn per patch,
//   x_τ = (1 − τ)·ε + τ·x₁,   v* = x₁ − ε,   L = mean over patches and pixels of (v(x_τ, τ | c) − v*)².
// No σ_min and no time weighting, as the reference. The noise and times are arguments, so that a test
// can compute the loss by hand; `drawCfmNoise` draws them from a seed for training.
import * as tf from '@tensorflow/tfjs';

export type VelocityField = (x: tf.Tensor, tau: tf.Tensor, cond: tf.Tensor) => tf.Tensor;

export interface CfmNoise {
  /** (M, D) standard normal noise ε. */
  noise: tf.Tensor2D;
  /** (M) flow times τ in [0, 1). */
  tau: tf.Tensor1D;
}

/**
 * Draws ε and τ for M patches of D pixels from a seed (deterministic for a seed). With `skip`, the draws
 * of patches skip … skip + M − 1 of the same streams: a data-parallel worker holding the later patches of a
 * batch gets the numbers that one worker drawing the whole batch would give them.
 */
export function drawCfmNoise(patches: number, pixels: number, seed: number, skip = 0): CfmNoise {
  return tf.tidy(() => {
    // Each stream draws its values in order, so the first draws of a longer tensor are a shorter one's.
    const noise = tf.randomNormal<tf.Rank.R2>([skip + patches, pixels], 0, 1, 'float32', seed);
    const tau = tf.randomUniform<tf.Rank.R1>([skip + patches], 0, 1, 'float32', seed + 1);
    if (skip === 0) return { noise, tau };
    return { noise: tf.slice(noise, [skip, 0], [patches, pixels]), tau: tf.slice(tau, [skip], [patches]) };
  });
}

/** The point on the linear path and its target velocity: x_τ = (1−τ)ε + τx₁, v* = x₁ − ε. */
export function linearPath(
  target: tf.Tensor2D,
  { noise, tau }: CfmNoise,
): { xTau: tf.Tensor2D; velocity: tf.Tensor2D } {
  return tf.tidy(() => {
    const t = tf.reshape(tau, [-1, 1]); // (M, 1)
    const xTau = tf.add<tf.Tensor2D>(tf.mul(tf.sub(1, t), noise), tf.mul(t, target)); // (M, D)
    return { xTau, velocity: tf.sub<tf.Tensor2D>(target, noise) };
  });
}

/** Eq. 41: the mean squared error between the predicted and the path velocity, over every patch and pixel. */
export function cfmLoss(field: VelocityField, target: tf.Tensor2D, cond: tf.Tensor, draws: CfmNoise): tf.Scalar {
  if (
    target.rank !== 2 ||
    draws.noise.shape[0] !== target.shape[0] ||
    draws.noise.shape[1] !== target.shape[1] ||
    draws.tau.shape[0] !== target.shape[0]
  ) {
    throw new Error(
      `CFM loss: target [${target.shape.join(',')}], noise [${draws.noise.shape.join(',')}] and τ [${draws.tau.shape.join(',')}] must be (M, D), (M, D) and (M).`,
    );
  }
  return tf.tidy(() => {
    const { xTau, velocity } = linearPath(target, draws);
    return tf.mean<tf.Scalar>(tf.square(tf.sub(field(xTau, draws.tau, cond), velocity)));
  });
}
