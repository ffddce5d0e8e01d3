// Plain-number maths on the Gaussian the head predicts, for evaluation (Fig. 6) and calibration:
// covariance from the precision's Cholesky factor and sampling, in float64 on 6×6 matrices, which is
// far below the cost of a tensor op. With P = L·Lᵀ the covariance is Σ = P⁻¹ = L⁻ᵀ·L⁻¹, and
// x = μ + L⁻ᵀ·ε with ε ~ N(0, I) has exactly that covariance (the reference draws the same
// distribution through torch's MultivariateNormal(precision_matrix=P), docs/paper-mapping.md#regression-evaluation).

/** Inverse of a lower-triangular d×d matrix (row-major), by forward substitution. */
export function invertLowerTriangular(lower: ArrayLike<number>, d: number): Float64Array {
  const inverse = new Float64Array(d * d);
  for (let col = 0; col < d; col++) {
    for (let row = col; row < d; row++) {
      let sum = row === col ? 1 : 0;
      for (let k = col; k < row; k++) sum -= lower[row * d + k] * inverse[k * d + col];
      const diagonal = lower[row * d + row];
      if (!(diagonal !== 0 && Number.isFinite(diagonal))) {
        throw new Error(
          `Cholesky factor has diagonal entry ${diagonal} at row ${row}; a precision factor needs a positive diagonal.`,
        );
      }
      inverse[row * d + col] = sum / diagonal;
    }
  }
  return inverse;
}

/** Σ = (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, row-major d×d. */
export function covarianceFromPrecisionCholesky(lower: ArrayLike<number>, d: number): Float64Array {
  const inverse = invertLowerTriangular(lower, d);
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let k = Math.max(i, j); k < d; k++) sum += inverse[k * d + i] * inverse[k * d + j];
      covariance[i * d + j] = sum;
    }
  }
  return covariance;
}

/** A standard normal sampler on top of a uniform generator (Box-Muller, both outputs used). */
export function normalSampler(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/**
 * `count` samples of N(mean, (L·Lᵀ)⁻¹), row-major (count, d): x = mean + L⁻ᵀ ε, with L⁻ᵀ ε found by
 * back substitution of Lᵀ z = ε.
 */
export function samplePrecisionGaussian(
  mean: ArrayLike<number>,
  lower: ArrayLike<number>,
  count: number,
  normal: () => number,
): Float64Array {
  const d = mean.length;
  if (lower.length !== d * d)
    throw new Error(
      `samplePrecisionGaussian: the Cholesky factor needs ${d * d} entries for ${d} means, got ${lower.length}.`,
    );
  const samples = new Float64Array(count * d);
  const epsilon = new Float64Array(d);
  const z = new Float64Array(d);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < d; i++) epsilon[i] = normal();
    for (let i = d - 1; i >= 0; i--) {
      let sum = epsilon[i];
      for (let k = i + 1; k < d; k++) sum -= lower[k * d + i] * z[k];
      z[i] = sum / lower[i * d + i];
    }
    for (let i = 0; i < d; i++) samples[s * d + i] = mean[i] + z[i];
  }
  return samples;
}
