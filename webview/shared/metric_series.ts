// Metric records → curves for uPlot. A curve is one metric of one split (monitor) or of one run
// (compare), against step, epoch or wall time. Records arrive in write order, which is sorted by
// step except after a resume rewinds; a curve that goes back is sorted once. The charts get each
// curve on its own x (with its smoothed copy) and decimate it there (decimate.ts); merging curves
// on one shared x (uPlot's "aligned data", gaps where a curve has no point) happens only for the
// few thousand points drawn. alignCurves does it at full size for small data and CSV export.
//
// Everything here is Float64Array columns with NaN for a gap (a missing point or a non-finite
// value), end to end: a 100k-point curve as `(number | null)[]` costs boxed numbers, hidden-class
// checks in every loop and a large garbage collection on each rebuild, where a typed column is one
// allocation read by tight loops. uPlot's own gap marker is null, not NaN (NaN passes its
// `!= null` tests and breaks its path), so the conversion to null happens last, in decimate.ts,
// on the points that uPlot actually gets.
import { metricDirection } from '../../sidecar/protocol/group_stats';
import { recordKeys, type MetricRecord, type XAxis } from './panel_protocol';
import { emaStart, smoothInto, type EmaState } from './smoothing';
import { splitNames, type MetricColumns } from './metric_table';

/** A growable pair of columns; x[0, length) and y[0, length) are the points. */
export class Curve {
  x: Float64Array;
  y: Float64Array;
  length = 0;
  private sorted = true;
  /** Non-finite values met (written as null in metrics.jsonl), with the first x where one was. */
  nonFinite = 0;
  firstNonFiniteX: number | null = null;

  constructor(capacity = 64) {
    this.x = new Float64Array(Math.max(capacity, 4));
    this.y = new Float64Array(Math.max(capacity, 4));
  }

  push(x: number, y: number | null): void {
    const n = this.length;
    if (n === this.x.length) this.grow(2 * n);
    if (n > 0 && x < this.x[n - 1]) this.sorted = false;
    const finite = y !== null && y - y === 0;
    if (!finite) {
      this.nonFinite++;
      if (this.firstNonFiniteX === null) this.firstNonFiniteX = x;
    }
    this.x[n] = x;
    this.y[n] = finite ? y : NaN;
    this.length = n + 1;
  }

  /** Counts a non-finite value at x (written as NaN by the caller). */
  noteNonFinite(x: number): void {
    this.nonFinite++;
    if (this.firstNonFiniteX === null) this.firstNonFiniteX = x;
  }

  /** Marks points written directly into the columns as out of x order (ensureSorted sorts them). */
  markUnsorted(): void {
    this.sorted = false;
  }

  /** False after a point went back in x, until ensureSorted. */
  get isSorted(): boolean {
    return this.sorted;
  }

  /** The points as exact-length views (no copy). */
  get xs(): Float64Array {
    return this.x.subarray(0, this.length);
  }
  get ys(): Float64Array {
    return this.y.subarray(0, this.length);
  }

  /** Sorts by x (stable), once, when a resume wrote steps out of order. */
  ensureSorted(): void {
    if (this.sorted) return;
    const n = this.length;
    const xs = this.x;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a] - xs[b] || a - b);
    const x = new Float64Array(this.x.length);
    const y = new Float64Array(this.y.length);
    for (let i = 0; i < n; i++) {
      x[i] = xs[order[i]];
      y[i] = this.y[order[i]];
    }
    this.x = x;
    this.y = y;
    this.sorted = true;
  }

  private grow(capacity: number): void {
    const x = new Float64Array(capacity);
    const y = new Float64Array(capacity);
    x.set(this.x.subarray(0, this.length));
    y.set(this.y.subarray(0, this.length));
    this.x = x;
    this.y = y;
  }
}

/** The metric names (value keys) present in records, loss first, then lr and throughput, then the rest in order of appearance. */
export function metricNames(records: Iterable<MetricRecord>, into: string[] = []): string[] {
  const names: string[] = [];
  for (const r of records) {
    for (const key of Object.keys(r)) {
      if (recordKeys.has(key)) continue;
      const v = r[key];
      if (typeof v === 'number' || v === null) names.push(key);
    }
  }
  return addMetricNames(names, into);
}

/** Adds names not yet in `into` and puts the well-known metrics first (loss, lr, steps_per_s, grad_norm). */
export function addMetricNames(names: Iterable<string>, into: string[]): string[] {
  const seen = new Set(into);
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    into.push(name);
  }
  const rank = (name: string) => {
    const r = ['loss', 'lr', 'steps_per_s', 'grad_norm'].indexOf(name);
    return r < 0 ? 99 : r;
  };
  // Array.prototype.sort is stable, so the others keep their order of appearance.
  return into.sort((a, b) => rank(a) - rank(b));
}

/** Adds a record's values of `metric` to the curve (skipping records that lack the metric). */
export function appendToCurve(curve: Curve, record: MetricRecord, metric: string, xAxis: XAxis): void {
  if (!(metric in record)) return;
  const v = record[metric];
  if (typeof v !== 'number' && v !== null) return;
  curve.push(record[xAxis], v);
}

/**
 * One curve per split of `metric` from column batches (metric_table.ts), straight from the typed
 * columns into the typed curves; splits in the order train, val, test.
 */
export function splitCurves(batches: readonly MetricColumns[], metric: string, xAxis: XAxis): Map<string, Curve> {
  const counts = new Uint32Array(splitNames.length);
  const found: { batch: MetricColumns; values: Float64Array; present: Uint8Array }[] = [];
  for (const batch of batches) {
    const column = batch.metrics.find((m) => m.name === metric);
    if (!column) continue;
    found.push({ batch, values: column.values, present: column.present });
    for (let i = 0; i < batch.length; i++) if (column.present[i]) counts[batch.split[i]]++;
  }
  // Exact capacities from a counting pass: no regrowth, no over-allocation for a sparse split.
  const curves = new Map<string, Curve>();
  counts.forEach((n, split) => {
    if (n === 0) return;
    const curve = new Curve(n);
    for (const { batch, values, present } of found)
      fillSplit(curve, batch.length, batch[xAxis], values, present, batch.split, split);
    curves.set(splitNames[split], curve);
  });
  return curves;
}

/**
 * Appends one split's present values to a curve that has room for them. The loop writes the typed
 * columns directly rather than calling push per point: the compare page converts 20 runs × 10k
 * steps per metric on first paint, in a freshly loaded page where a call per point costs several
 * times more than the loop itself.
 */
function fillSplit(
  curve: Curve,
  length: number,
  xs: Float64Array,
  values: Float64Array,
  present: Uint8Array,
  splits: Uint8Array,
  split: number,
): void {
  const x = curve.x;
  const y = curve.y;
  let n = curve.length;
  let last = n > 0 ? x[n - 1] : -Infinity;
  let sorted = true;
  for (let i = 0; i < length; i++) {
    if (present[i] === 0 || splits[i] !== split) continue;
    const at = xs[i];
    const v = values[i];
    if (at < last) sorted = false;
    last = at;
    x[n] = at;
    if (v - v === 0) y[n] = v;
    else {
      y[n] = NaN;
      curve.noteNonFinite(at);
    }
    n++;
  }
  curve.length = n;
  if (!sorted) curve.markUnsorted();
}

/** Metric names of column batches, ordered as metricNames orders them. */
export function columnMetricNames(batches: readonly MetricColumns[], into: string[] = []): string[] {
  return addMetricNames(
    batches.flatMap((b) => b.metrics.map((m) => m.name)),
    into,
  );
}

/**
 * Merges curves[c][from[c], length) on x into the columns x and ys[c] starting at `at`; returns the
 * new end. A k-way merge, O(points × curves); the caller has room for every point.
 */
function mergeInto(curves: Curve[], from: number[], x: Float64Array, ys: Float64Array[], at: number): number {
  const k = curves.length;
  if (k === 1) {
    const c = curves[0];
    const n = c.length - from[0];
    x.set(c.x.subarray(from[0], c.length), at);
    ys[0].set(c.y.subarray(from[0], c.length), at);
    from[0] = c.length;
    return at + n;
  }
  for (;;) {
    let next = Infinity;
    for (let c = 0; c < k; c++) {
      const curve = curves[c];
      if (from[c] < curve.length && curve.x[from[c]] < next) next = curve.x[from[c]];
    }
    if (next === Infinity) return at;
    x[at] = next;
    for (let c = 0; c < k; c++) {
      const curve = curves[c];
      const i = from[c];
      if (i < curve.length && curve.x[i] === next) {
        ys[c][at] = curve.y[i];
        from[c] = i + 1;
      } else ys[c][at] = NaN;
    }
    at++;
  }
}

/** Merges curves on x into uPlot's aligned layout: x and one column per curve, NaN where that curve has no point. */
export function alignCurves(curves: Curve[]): { x: Float64Array; ys: Float64Array[] } {
  for (const c of curves) c.ensureSorted();
  const total = curves.reduce((sum, c) => sum + c.length, 0);
  const x = new Float64Array(total);
  const ys = curves.map(() => new Float64Array(total));
  const n =
    curves.length === 0
      ? 0
      : mergeInto(
          curves,
          curves.map(() => 0),
          x,
          ys,
          0,
        );
  return { x: x.subarray(0, n), ys: ys.map((y) => y.subarray(0, n)) };
}

/** What a person needs to know about non-finite values in the curves, one sentence each. */
export function nonFiniteProblems(curves: { label: string; curve: Curve }[], xAxis: XAxis): string[] {
  return curves
    .filter(({ curve }) => curve.nonFinite > 0)
    .map(
      ({ label, curve }) =>
        `${label}: ${curve.nonFinite} value${curve.nonFinite === 1 ? ' is' : 's are'} NaN or infinite (first at ${xAxis} ${curve.firstNonFiniteX}); shown as gaps`,
    );
}

/**
 * Why a metric's NaN values are a property of the evaluation rather than a fault, or null. R² compares
 * the residuals with the spread of the test values, and one test lightcone has no spread, so the
 * evaluation writes NaN (null in metrics.jsonl) for every R² of a one-lightcone test split.
 */
export function undefinedMetricReason(metric: string, split: string, testLightcones: number | null): string | null {
  return split === 'test' && metric.startsWith('r2_') && testLightcones === 1
    ? 'undefined with one test lightcone'
    : null;
}

/** Final and best value of a curve; best in the metric's direction (group_stats.ts metricDirection). */
export function finalAndBest(curve: Curve, metric: string): { final: number | null; best: number | null } {
  const higherIsBetter = metricDirection(metric) === 'max';
  let best: number | null = null;
  let final: number | null = null;
  for (let i = 0; i < curve.length; i++) {
    const v = curve.y[i];
    if (Number.isNaN(v)) continue;
    final = v;
    if (best === null || (higherIsBetter ? v > best : v < best)) best = v;
  }
  return { final, best };
}

/**
 * A curve with its smoothed copy, kept up to date incrementally: a live run appends points at the
 * end, and those are smoothed in O(new points) per frame instead of redoing 100k points. A curve
 * that went back in x (a resume) is sorted and smoothed again whole, as is a new weight. The chart
 * gets the curve's own x with [raw, smoothed] as one series group (decimate.ts): curves of
 * different splits are never merged on x at full size.
 */
export class SmoothedCurve {
  private smooth = new Float64Array(0);
  private consumed = 0;
  private ema: EmaState = emaStart();

  constructor(
    readonly curve: Curve,
    private weight: number,
  ) {
    this.rebuild();
  }

  setWeight(weight: number): void {
    this.weight = weight;
    this.rebuild();
  }

  /** Smooths the points added since the last call. */
  update(): void {
    const c = this.curve;
    if (!c.isSorted || c.length < this.consumed) {
      this.rebuild();
      return;
    }
    if (c.length === this.consumed) return;
    if (c.length > this.smooth.length) {
      const grown = new Float64Array(Math.max(2 * this.smooth.length, c.length));
      grown.set(this.smooth.subarray(0, this.consumed));
      this.smooth = grown;
    }
    smoothInto(c.y, this.weight, this.smooth, this.consumed, c.length, this.ema);
    this.consumed = c.length;
  }

  /** x with [raw, smoothed], exact-length views (no copy). */
  group(): { x: Float64Array; ys: Float64Array[] } {
    this.update();
    const n = this.curve.length;
    return { x: this.curve.xs, ys: [this.curve.ys, this.smooth.subarray(0, n)] };
  }

  private rebuild(): void {
    const c = this.curve;
    c.ensureSorted();
    // Room for live appends before the first reallocation.
    this.smooth = new Float64Array(c.length + Math.max(1024, c.length >> 3));
    this.ema = smoothInto(c.y, this.weight, this.smooth, 0, c.length, emaStart());
    this.consumed = c.length;
  }
}
