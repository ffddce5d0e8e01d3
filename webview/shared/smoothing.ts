// Exponential smoothing of a curve, as TensorBoard's scalar dashboard does it (its
// `smoothing` slider, debiased like Adam's moment estimates so that the start is not pulled
// toward zero). Gaps (null, NaN) are carried over as gaps and do not enter the average.

/** weight in [0, 1): 0 returns the values unchanged. */
export function smoothExponential(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array(values.length);
  if (!(weight > 0)) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  const w = Math.min(weight, 0.999);
  let last = 0;
  let power = 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * v;
    power *= w; // w^steps, the debiasing term
    out[i] = last / (1 - power);
  }
  return out;
}
