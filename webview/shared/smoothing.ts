// Exponential smoothing of a curve, as TensorBoard's scalar dashboard does it (its
// `smoothing` slider, debiased like Adam's moment estimates so that the start is not pulled
// toward zero). Curves are Float64Array columns with NaN for gaps (see metric_series.ts); a gap
// stays a gap and does not enter the average. The state is returned so that points appended
// later continue the same average without redoing the whole curve.

export interface EmaState {
  /** The running (biased) average. */
  last: number;
  /** weight^(points averaged so far), the debiasing term. */
  power: number;
}

export function emaStart(): EmaState {
  return { last: 0, power: 1 };
}

/**
 * Smooths values[from, to) into out[from, to) (out may be a longer buffer), continuing `state`.
 * weight in [0, 1): 0 copies the values (non-finite ones as NaN).
 */
export function smoothInto(
  values: ArrayLike<number>,
  weight: number,
  out: Float64Array,
  from = 0,
  to = values.length,
  state: EmaState = emaStart(),
): EmaState {
  if (!(weight > 0)) {
    for (let i = from; i < to; i++) {
      const v = values[i];
      out[i] = v - v === 0 ? v : NaN;
    }
    return state;
  }
  const w = Math.min(weight, 0.999);
  let last = state.last;
  let power = state.power;
  for (let i = from; i < to; i++) {
    const v = values[i];
    // v - v is 0 exactly for finite v (NaN for NaN and ±Infinity): one test for "is a gap".
    if (v - v !== 0) {
      out[i] = NaN;
      continue;
    }
    last = last * w + (1 - w) * v;
    power *= w;
    out[i] = last / (1 - power);
  }
  state.last = last;
  state.power = power;
  return state;
}

/** The smoothed copy of a whole curve (NaN where the curve has a gap). */
export function smoothExponential(values: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(values.length);
  smoothInto(values, weight, out);
  return out;
}
