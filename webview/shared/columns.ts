// The charts' one data representation: Float64Array columns with NaN for a gap (see
// metric_series.ts for why). Small data built by hand (the inspector's global signal and power
// spectrum, the Fig. 6 bins) may come as plain arrays with null; this converts them once.

/** A Float64Array as it is (no copy); any other array with null/undefined/non-numbers as NaN. */
export function toColumn(values: Float64Array | ArrayLike<number | null>): Float64Array {
  if (values instanceof Float64Array) return values;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = typeof v === 'number' ? v : NaN;
  }
  return out;
}
