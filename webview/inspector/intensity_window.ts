// The intensity window of the slice views: the value range the colour map spans. A window from the
// data's minimum to maximum lets a single outlier pixel (±200 mK against a typical −5 mK) squeeze
// every other pixel into the middle colour, so the default is set by percentiles (1–99 %) of the
// finite values, and for δT_b on the diverging map it is symmetric about zero so that white still
// means δT_b = 0. A person can then drag either end on the colour bar (dragWindow) and reset to the
// percentiles. The display transform maps values before the colour map: linear, symmetric-log
// (linear within ±1 % of the window's largest end, logarithmic beyond), or sgn·ln(1+|x|), the
// default transform of a generation run's inputs (slice_transform sgn_log1p), so slices look as the
// model sees them.
import type { ColorRange } from '../shared/colormaps';
import type { DisplayTransform } from '../shared/panel_protocol';

/** The percentiles a window spans, in per cent. */
export interface PercentilePair {
  lo: number;
  hi: number;
}

export const defaultPercentiles: PercentilePair = { lo: 1, hi: 99 };

/** The finite values of `values`, sorted ascending: the input of every percentile of one array. */
export function sortedFinite(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n).sort();
}

/** Two ascending arrays as one ascending array (for a window shared by true and generated slices). */
export function mergeSorted(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

/**
 * The p-th percentile (0 … 100) of ascending values, interpolated linearly between the two nearest
 * ranks (NumPy's default, so a window can be checked against `np.percentile`); NaN when empty.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const position = (Math.min(Math.max(p, 0), 100) / 100) * (n - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, n - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/**
 * The window over the percentiles of ascending finite values: symmetric about zero (±the larger
 * |end|) when `symmetric`, never empty (a constant slice gets ±1 around its value); null when no value
 * is finite.
 */
export function percentileWindow(
  sorted: ArrayLike<number>,
  percentiles: PercentilePair,
  symmetric: boolean,
): ColorRange | null {
  if (sorted.length === 0) return null;
  const lo = percentileOfSorted(sorted, percentiles.lo);
  const hi = percentileOfSorted(sorted, percentiles.hi);
  if (symmetric) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return { lo: -m, hi: m };
  }
  return lo === hi ? { lo: lo - 1, hi: hi + 1 } : { lo, hi };
}

/** The transform's linear threshold for a window: symmetric-log is linear within ±1 % of its largest end. */
function linearThreshold(window: ColorRange): number {
  return Math.max(Math.abs(window.lo), Math.abs(window.hi)) / 100 || 1;
}

/** The display transform as a function of a value, for the window it is drawn with. */
export function transformFunction(transform: DisplayTransform, window: ColorRange): (v: number) => number {
  if (transform === 'sgn-ln') return (v) => Math.sign(v) * Math.log1p(Math.abs(v));
  if (transform === 'symlog') {
    const c = linearThreshold(window);
    return (v) => Math.sign(v) * Math.log10(1 + Math.abs(v) / c);
  }
  return (v) => v;
}

/** The inverse of transformFunction: the value a transformed coordinate stands for. */
export function inverseTransformFunction(transform: DisplayTransform, window: ColorRange): (t: number) => number {
  if (transform === 'sgn-ln') return (t) => Math.sign(t) * Math.expm1(Math.abs(t));
  if (transform === 'symlog') {
    const c = linearThreshold(window);
    return (t) => Math.sign(t) * c * (10 ** Math.abs(t) - 1);
  }
  return (t) => t;
}

/**
 * The window after dragging one end on the colour bar to `u`, the pointer's position along the bar
 * (0 at its low end, 1 at its high end; beyond them when the pointer leaves the bar, which widens
 * the window). Positions are read in the display transform of the window the drag started from, so
 * the end follows the pointer over the colours it shows. A symmetric window stays symmetric, and
 * the ends never cross.
 */
export function dragWindow(
  start: ColorRange,
  transform: DisplayTransform,
  end: 'lo' | 'hi',
  u: number,
  symmetric: boolean,
): ColorRange {
  const f = transformFunction(transform, start);
  const inverse = inverseTransformFunction(transform, start);
  const tLo = f(start.lo);
  const tHi = f(start.hi);
  const value = inverse(tLo + u * (tHi - tLo));
  // The smallest width kept: a window cannot close to a point, which would paint everything one colour.
  const minimum = (start.hi - start.lo) * 1e-3 || 1e-6;
  if (symmetric) {
    const m = Math.max(Math.abs(value), minimum / 2);
    return { lo: -m, hi: m };
  }
  if (end === 'lo') return { lo: Math.min(value, start.hi - minimum), hi: start.hi };
  return { lo: start.lo, hi: Math.max(value, start.lo + minimum) };
}
