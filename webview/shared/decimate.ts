// Min/max decimation of chart data, so that a chart of 100k points per curve hands uPlot a few
// thousand: per bucket of x (about a pixel column) each series keeps its minimum and maximum, which
// draws the same envelope as every point would. Buckets are fine over the visible x range and
// coarse outside it, so that zoom-out (double-click) still finds the whole extent.
//
// A chart's data is a list of groups, each a set of series that share one x column (a training
// curve with its smoothed copy; one run in compare). Each group is decimated on its own x first and
// only the few thousand surviving points are merged on x into uPlot's aligned layout, so nothing of
// the size of the whole run is ever built for the chart: merging 100k-point curves of different
// splits on x first would cost more than everything else on the first paint.
//
// Input columns are Float64Array with NaN for a gap (metric_series.ts). Output is what uPlot draws,
// with uPlot's gap marker null in place of NaN: uPlot treats only null/undefined as missing, and a
// NaN would enter its path as a point. The conversion runs here, on the decimated points only.

/** Series that share one x column; NaN in a y column is a gap. */
export interface SeriesGroup {
  x: Float64Array;
  ys: Float64Array[];
}
/** uPlot's aligned data: x, then series with null for a gap. */
export type PlotData = [number[], ...(number | null)[][]];
/** A group after decimation: plain arrays, null for a gap. */
export interface PlotGroup {
  x: number[];
  ys: (number | null)[][];
}

/** A group with at most this many points goes to uPlot whole (gaps converted to null). */
export const decimationThreshold = 8000;

function lowerBound(x: Float64Array, value: number): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A column with null for NaN (and, on a log axis, for values ≤ 0, which it cannot show). */
function toPlotColumn(column: Float64Array, positiveOnly: boolean): (number | null)[] {
  const out = new Array<number | null>(column.length);
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    out[i] = v !== v || (positiveOnly && !(v > 0)) ? null : v;
  }
  return out;
}

/**
 * Appends the min/max of each bucket of x[from, to) over [a, b) in `count` buckets. The buckets'
 * bounds are found once and then each series is scanned on its own, bucket after bucket: a chart of
 * twenty runs decimates sixty series on a freshly loaded page, where per-bucket bookkeeping across
 * series costs more than the scan.
 */
function decimateSegment(
  group: SeriesGroup,
  from: number,
  to: number,
  a: number,
  b: number,
  count: number,
  positiveOnly: boolean,
  out: PlotGroup,
): void {
  if (to <= from) return;
  const { x, ys } = group;
  const outX = out.x;
  const width = (b - a) / count || 1;
  // Bucket k holds the points [ends[k - 1], ends[k]) (ends[-1] being `from`).
  const ends: number[] = [];
  let i = from;
  while (i < to) {
    // One bucket: the run of points whose x falls into the same bucket as x[i].
    const bucket = Math.min(Math.floor((x[i] - a) / width), count - 1);
    const bucketEnd = bucket >= count - 1 ? Infinity : a + (bucket + 1) * width;
    const start = i;
    while (i < to && x[i] < bucketEnd) i++;
    if (i === start) i++; // round-off at a boundary: take the point anyway
    ends.push(i);
    outX.push(x[start]);
    if (i - start > 1) outX.push(x[i - 1]);
  }
  for (let s = 0; s < ys.length; s++) {
    const y = ys[s];
    const column = out.ys[s];
    let start = from;
    for (const end of ends) {
      let mn = Infinity;
      let mx = -Infinity;
      let n = 0;
      for (let k = start; k < end; k++) {
        const v = y[k];
        // NaN fails every comparison, so gaps never count.
        if (positiveOnly ? !(v > 0) : v !== v) continue;
        n++;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      column.push(n > 0 ? mn : null);
      // A series with one value in the bucket shows it once (a sparse validation curve stays sparse).
      if (end - start > 1) column.push(n > 1 ? mx : null);
      start = end;
    }
  }
}

/**
 * One group decimated. `range`: the visible x range (null: everything); `buckets`: buckets across
 * it; `positiveOnly`: drop values ≤ 0 (a log axis cannot show them). x must be sorted.
 */
export function decimateGroup(
  group: SeriesGroup,
  range: { min: number; max: number } | null,
  buckets: number,
  positiveOnly: boolean,
): PlotGroup {
  const x = group.x;
  if (x.length <= decimationThreshold)
    return { x: Array.from(x), ys: group.ys.map((c) => toPlotColumn(c, positiveOnly)) };
  const out: PlotGroup = { x: [], ys: group.ys.map(() => []) };
  const first = x[0];
  const last = x[x.length - 1];
  const lo = Math.max(first, range?.min ?? first);
  const hi = Math.min(last, range?.max ?? last);
  const iLo = lowerBound(x, lo);
  const iHi = lowerBound(x, hi + Number.EPSILON * Math.abs(hi));
  const end = Math.min(Math.max(iHi, x[iHi] === hi ? iHi + 1 : iHi), x.length);
  decimateSegment(group, 0, iLo, first, lo, 64, positiveOnly, out);
  decimateSegment(group, iLo, end, lo, hi, buckets, positiveOnly, out);
  decimateSegment(group, end, x.length, hi, last, 64, positiveOnly, out);
  return out;
}

/**
 * Merges groups (each sorted on its own x) into one aligned table: the union of x, each series
 * with null where its group has no point. A k-way merge; equal x values share a row.
 */
export function mergeGroups(groups: { x: ArrayLike<number>; ys: ArrayLike<number | null>[] }[]): PlotData {
  const x: number[] = [];
  const ys: (number | null)[][] = groups.flatMap((g) => g.ys.map(() => []));
  if (groups.length === 1)
    return [
      Array.from(groups[0].x),
      ...groups[0].ys.map((y) => Array.from(y, (v) => (v === null || v !== v ? null : v))),
    ];
  const at = groups.map(() => 0);
  for (;;) {
    let next = Infinity;
    for (let g = 0; g < groups.length; g++)
      if (at[g] < groups[g].x.length && groups[g].x[at[g]] < next) next = groups[g].x[at[g]];
    if (next === Infinity) return [x, ...ys];
    x.push(next);
    let column = 0;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g];
      const here = at[g] < group.x.length && group.x[at[g]] === next;
      for (const y of group.ys) {
        const v = here ? y[at[g]] : null;
        ys[column++].push(v === null || v !== v ? null : v);
      }
      if (here) at[g]++;
    }
  }
}

/** Every group decimated on its own x, then merged: what uPlot gets. */
export function decimate(
  groups: SeriesGroup[],
  range: { min: number; max: number } | null,
  buckets: number,
  positiveOnly: boolean,
): PlotData {
  const decimated = groups.map((g) => decimateGroup(g, range, buckets, positiveOnly));
  return onSharedX(decimated) ?? mergeGroups(decimated);
}

/**
 * The decimated groups side by side when they all kept the same x (runs logged at the same steps
 * decimate to the same points), or null. Then no merge is needed: the columns are used as they are,
 * their gaps being null already.
 */
function onSharedX(groups: PlotGroup[]): PlotData | null {
  if (groups.length === 0) return null;
  const x = groups[0].x;
  for (let g = 1; g < groups.length; g++) {
    const other = groups[g].x;
    if (other.length !== x.length) return null;
    for (let i = 0; i < x.length; i++) if (other[i] !== x[i]) return null;
  }
  return [x, ...groups.flatMap((g) => g.ys)];
}
