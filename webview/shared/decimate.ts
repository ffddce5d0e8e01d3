// Min/max decimation of aligned chart data, so that a chart of 100k points per curve hands uPlot a
// few thousand: per bucket of x (about a pixel column) each series keeps its minimum and maximum,
// which draws the same envelope as every point would. Buckets are fine over the visible x range and
// coarse outside it, so that zoom-out (double-click) still finds the whole extent. Small data passes
// through untouched.

export type Columns = [number[], ...(number | null)[][]];

/** Below this many points the data goes to uPlot as it is. */
export const decimationThreshold = 8000;

function lowerBound(x: number[], value: number): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `range`: the visible x range (null: everything); `buckets`: buckets across it; `positiveOnly`:
 * drop values ≤ 0 (a log axis cannot show them).
 */
export function decimate(data: Columns, range: { min: number; max: number } | null, buckets: number, positiveOnly: boolean): Columns {
  const x = data[0];
  const series = data.length - 1;
  const keep = (v: number | null): number | null => (v === null || (positiveOnly && !(v > 0)) ? null : v);
  if (x.length <= decimationThreshold) {
    return positiveOnly ? (data.map((col, i) => (i === 0 ? col : (col as (number | null)[]).map(keep))) as Columns) : data;
  }
  const out: Columns = [[], ...Array.from({ length: series }, () => [] as (number | null)[])];
  const first = x[0];
  const last = x[x.length - 1];
  const lo = Math.max(first, range?.min ?? first);
  const hi = Math.min(last, range?.max ?? last);
  const segment = (from: number, to: number, a: number, b: number, count: number) => {
    if (to <= from) return;
    const width = (b - a) / count || 1;
    const mins = new Array<number | null>(series);
    const maxs = new Array<number | null>(series);
    const counts = new Array<number>(series).fill(0);
    let bucket = -1;
    let xFirst = 0;
    let xLast = 0;
    let points = 0;
    const flush = () => {
      if (points === 0) return;
      out[0].push(xFirst);
      for (let s = 0; s < series; s++) (out[s + 1] as (number | null)[]).push(mins[s]);
      if (points > 1) {
        // A series with one value in the bucket shows it once (a sparse validation curve stays sparse).
        out[0].push(xLast);
        for (let s = 0; s < series; s++) (out[s + 1] as (number | null)[]).push(counts[s] > 1 ? maxs[s] : null);
      }
    };
    const columns = data.slice(1) as (number | null)[][];
    for (let i = from; i < to; i++) {
      const xi = x[i];
      const b = Math.min(Math.floor((xi - a) / width), count - 1);
      if (b !== bucket) {
        flush();
        bucket = b;
        points = 0;
        xFirst = xi;
        mins.fill(null);
        maxs.fill(null);
        counts.fill(0);
      }
      xLast = xi;
      points++;
      for (let s = 0; s < series; s++) {
        const v = columns[s][i];
        if (v === null || (positiveOnly && !(v > 0))) continue;
        counts[s]++;
        const mn = mins[s];
        if (mn === null || v < mn) mins[s] = v;
        const mx = maxs[s];
        if (mx === null || v > mx) maxs[s] = v;
      }
    }
    flush();
  };
  const iLo = lowerBound(x, lo);
  const iHi = lowerBound(x, hi + Number.EPSILON * Math.abs(hi)) ;
  const end = Math.max(iHi, x[iHi] === hi ? iHi + 1 : iHi);
  segment(0, iLo, first, lo, 64);
  segment(iLo, Math.min(end, x.length), lo, hi, buckets);
  segment(Math.min(end, x.length), x.length, hi, last, 64);
  return out;
}
