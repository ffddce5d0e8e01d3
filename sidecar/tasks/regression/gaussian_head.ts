// The heteroskedastic Gaussian head of the regression task (paper Eq. 34-37; reference
// regression/network/modeling.py `L3MParamHead`, docs/paper-mapping.md#regression). The output connector gives
// 27 numbers per lightcone: 6 means and the 21 entries of a lower-triangular Cholesky factor L of the
// PRECISION matrix P = L·Lᵀ (not of the covariance):
//   μ      = sigmoid(out[0:6])                       (parameters are min-max normalised to [0, 1])
//   L_ii   = softplus(out[6+i]) · s_i                 (a positive diagonal keeps P positive definite)
//   L_ij   = out[12 + k] · s_i for i > j, k running over torch.tril_indices(6, 6, -1) (row-major)
//   s_i    = 1 / sqrt(0.25 · (i + 1)) = [2, 1.414, 1.155, 1, 0.894, 0.816]
// The row scale is the reference code's exact factor: it unbiases the initial covariance (Eq. 36-37)
// so that a freshly initialised head predicts a spread comparable to the prior.
//
// The loss (Eq. 34, as the reference writes it) is per lightcone  (½ (μ−y)ᵀ P (μ−y) − log det L) / d,
// averaged over the batch: the Gaussian negative log-likelihood without its constant (d/2)·log 2π,
// divided by d. log det L = Σ_i log L_ii exactly. The reference instead takes
// log(softplus_β=1e4(∏_i L_ii)), a smooth floor at log(log 2 / 1e4) ≈ −9.6 that keeps the product of
// six small diagonals from underflowing to 0 early in training (its "regulator"). A sum of logs
// cannot underflow, so it needs no floor; and a floor that silently caps log det L makes the loss
// stop rewarding confident, correct predictions once det L is large, which biases the variances.
// log softplus(x) itself is computed stably: for x < −15, softplus(x) = e^x to float32 precision, so
// log softplus(x) = x, and the other branch is fed a clamped input so neither branch makes NaN
// gradients through tf.where.
import * as tf from '@tensorflow/tfjs';

export const paramCount = 6;
/** 6 means + 6 diagonal + 15 off-diagonal entries. */
export const headOutputSize = paramCount + (paramCount * (paramCount + 1)) / 2;
/** 6 means + 6 diagonal entries: the `diagonal` covariance ablation (off-diagonals fixed at 0). */
export const diagonalHeadOutputSize = 2 * paramCount;

export type CovarianceKind = 'full' | 'diagonal';

/** Raw outputs the output connector must produce for a covariance structure. */
export function outputSizeFor(covariance: CovarianceKind): number {
  return covariance === 'full' ? headOutputSize : diagonalHeadOutputSize;
}
/** Row scale of the Cholesky factor, 1/sqrt(0.25·(i+1)) (reference `sigma_scale`). */
export const choleskyRowScale: readonly number[] = Array.from(
  { length: paramCount },
  (_, i) => 1 / Math.sqrt(0.25 * (i + 1)),
);

/** (row, col) of the off-diagonal entries in the order of torch.tril_indices(d, d, -1): row-major. */
export const offDiagonalIndices: readonly (readonly [number, number])[] = (() => {
  const pairs: [number, number][] = [];
  for (let i = 1; i < paramCount; i++) for (let j = 0; j < i; j++) pairs.push([i, j]);
  return pairs;
})();

// The placement of [diag(6), offdiag(15)] into the 36 entries of L (row-major), with the row scale
// folded in, as a (21, 36) matrix: L = packed · placement. A matmul rather than tf.gather because
// gather's gradient needs the UnsortedSegmentSum kernel, which the wasm backend does not have; each
// entry is one product with its scale plus exact zeros, so the values are the same.
const packedSize = paramCount + offDiagonalIndices.length;
const placementValues: Float32Array = (() => {
  const values = new Float32Array(packedSize * paramCount * paramCount);
  for (let i = 0; i < paramCount; i++) values[i * paramCount * paramCount + i * paramCount + i] = choleskyRowScale[i];
  offDiagonalIndices.forEach(([i, j], k) => {
    values[(paramCount + k) * paramCount * paramCount + i * paramCount + j] = choleskyRowScale[i];
  });
  return values;
})();

export interface GaussianOutputs {
  /** (B, 6) means in [0, 1]. */
  mean: tf.Tensor2D;
  /** (B, 6, 6) lower-triangular Cholesky factor of the precision matrix. */
  cholesky: tf.Tensor3D;
  /** (B,) log det L = ½ log det P. */
  logDetL: tf.Tensor1D;
}

/**
 * log(softplus(x)) without underflow (see the header), with its gradient sigmoid(x)/softplus(x)
 * written out through tf.customGrad: the branch on x < −15 then stays out of the traced graph (TF.js
 * has no gradient for the comparison that tf.where would need), and the gradient → 1 for very
 * negative x without a 0/0.
 */
export const logSoftplus: (x: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(((
  x: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  const threshold = -15;
  const small = tf.less(x, threshold);
  const safeLarge = tf.maximum(x, threshold);
  const value = tf.where(small, tf.minimum(x, threshold), tf.log(tf.softplus(safeLarge)));
  save([x]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [input] = saved;
      const clamped = tf.maximum(input, threshold);
      const slope = tf.where(
        tf.less(input, threshold),
        tf.onesLike(input),
        tf.div(tf.sigmoid(clamped), tf.softplus(clamped)),
      );
      return [tf.mul(dy, slope)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Splits the raw output of the output connector, (B, 27) for a full precision factor or (B, 12) for a
 * diagonal one, into mean, Cholesky factor and log det L.
 */
export function gaussianOutputs(raw: tf.Tensor2D): GaussianOutputs {
  if (raw.rank !== 2 || (raw.shape[1] !== headOutputSize && raw.shape[1] !== diagonalHeadOutputSize)) {
    throw new Error(
      `Gaussian head expects (batch, ${headOutputSize}) outputs (or (batch, ${diagonalHeadOutputSize}) for a diagonal covariance), got [${raw.shape.join(',')}]; the output connector must map to ${headOutputSize} values.`,
    );
  }
  const diagonalOnly = raw.shape[1] === diagonalHeadOutputSize;
  return tf.tidy(() => {
    const batch = raw.shape[0];
    const meanRaw = tf.slice(raw, [0, 0], [batch, paramCount]); // (B, 6)
    const diagRaw = tf.slice(raw, [0, paramCount], [batch, paramCount]); // (B, 6)
    const offRaw = diagonalOnly
      ? tf.zeros([batch, offDiagonalIndices.length]) // (B, 15)
      : tf.slice(raw, [0, 2 * paramCount], [batch, offDiagonalIndices.length]); // (B, 15)
    const packed = tf.concat([tf.softplus(diagRaw), offRaw], 1); // (B, 21)
    const placement = tf.tensor2d(placementValues, [packedSize, paramCount * paramCount]); // (21, 36)
    const entries = tf.matMul(packed, placement); // (B, 36)
    const cholesky = tf.reshape<tf.Rank.R3>(entries, [batch, paramCount, paramCount]); // (B, 6, 6)
    const logScale = choleskyRowScale.reduce((sum, s) => sum + Math.log(s), 0);
    const logDetL = tf.add<tf.Tensor1D>(tf.sum(logSoftplus(diagRaw), 1), logScale); // (B,)
    return { mean: tf.sigmoid<tf.Tensor2D>(meanRaw), cholesky, logDetL };
  });
}

/** Per-lightcone ½ (μ−y)ᵀ P (μ−y) = ½ ‖Lᵀ (μ−y)‖², shape (B,). */
export function halfMahalanobis(outputs: GaussianOutputs, target: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const residual = tf.expandDims(tf.sub(outputs.mean, target), 2); // (B, 6, 1)
    const projected = tf.matMul(outputs.cholesky, residual, true, false); // (B, 6, 1)
    return tf.mul<tf.Tensor1D>(tf.sum(tf.square(projected), [1, 2]), 0.5);
  });
}

/** The training loss of Eq. 34 in the reference's convention: batch mean of (½ rᵀPr − log det L) / d. */
export function gaussianNllLoss(raw: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  checkTarget(raw, target);
  return tf.tidy(() => {
    const outputs = gaussianOutputs(raw);
    return tf.div<tf.Scalar>(tf.mean(tf.sub(halfMahalanobis(outputs, target), outputs.logDetL)), paramCount);
  });
}

/**
 * The full negative log-likelihood of each target in nats (constant included), shape (B,): the number
 * to compare with the prior's, which is 0 for the uniform prior on the normalised unit cube.
 */
export function gaussianNll(raw: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  checkTarget(raw, target);
  return tf.tidy(() => {
    const outputs = gaussianOutputs(raw);
    const constant = 0.5 * paramCount * Math.log(2 * Math.PI);
    return tf.add<tf.Tensor1D>(tf.sub(halfMahalanobis(outputs, target), outputs.logDetL), constant);
  });
}

function checkTarget(raw: tf.Tensor2D, target: tf.Tensor2D): void {
  if (target.rank !== 2 || target.shape[1] !== paramCount || target.shape[0] !== raw.shape[0]) {
    throw new Error(
      `Gaussian NLL: targets must be (batch=${raw.shape[0]}, ${paramCount}) normalised parameters, got [${target.shape.join(',')}].`,
    );
  }
}
