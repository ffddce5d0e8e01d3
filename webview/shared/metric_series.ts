// Metric records → curves for uPlot. A curve is one metric of one split (monitor) or of one run
// (compare), against step, epoch or wall time. uPlot wants all curves of a chart on one shared,
// sorted x array (its "aligned data"), so curves are merged on x with gaps (null) where a curve has
// no point; `spanGaps` then draws each curve through its own points. Records arrive in write order,
// which is sorted by step except after a resume rewinds; a curve that goes back is sorted once.
import { recordKeys, type MetricRecord, type XAxis } from './panel_protocol';

export class Curve {
  readonly x: number[] = [];
  readonly y: (number | null)[] = [];
  private sorted = true;
  /** Non-finite values met (written as null in metrics.jsonl), with the first x where one was. */
  nonFinite = 0;
  firstNonFiniteX: number | null = null;

  push(x: number, y: number | null): void {
    if (this.x.length > 0 && x < this.x[this.x.length - 1]) this.sorted = false;
    const finite = y !== null && Number.isFinite(y);
    if (!finite) {
      this.nonFinite++;
      if (this.firstNonFiniteX === null) this.firstNonFiniteX = x;
    }
    this.x.push(x);
    this.y.push(finite ? y : null);
  }

  /** Sorts by x (stable), once, when a resume wrote steps out of order. */
  ensureSorted(): void {
    if (this.sorted) return;
    const order = this.x.map((_, i) => i).sort((a, b) => this.x[a] - this.x[b] || a - b);
    const x = order.map((i) => this.x[i]);
    const y = order.map((i) => this.y[i]);
    this.x.splice(0, x.length, ...x);
    this.y.splice(0, y.length, ...y);
    this.sorted = true;
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
  curve.push(record[xAxis] as number, v);
}

/**
 * Merges curves on x into uPlot's aligned data: [x, y_0, y_1, …], each y with null where that
 * curve has no point. O(total points) for sorted curves (a k-way merge).
 */
export function alignCurves(curves: Curve[]): { x: number[]; ys: (number | null)[][] } {
  for (const c of curves) c.ensureSorted();
  if (curves.length === 1) return { x: curves[0].x.slice(), ys: [curves[0].y.slice()] };
  const x: number[] = [];
  const ys: (number | null)[][] = curves.map(() => []);
  const at = curves.map(() => 0);
  for (;;) {
    let next = Infinity;
    for (let c = 0; c < curves.length; c++) if (at[c] < curves[c].x.length && curves[c].x[at[c]] < next) next = curves[c].x[at[c]];
    if (next === Infinity) break;
    x.push(next);
    for (let c = 0; c < curves.length; c++) {
      if (at[c] < curves[c].x.length && curves[c].x[at[c]] === next) ys[c].push(curves[c].y[at[c]++]);
      else ys[c].push(null);
    }
  }
  return { x, ys };
}

/** What a person needs to know about non-finite values in the curves, one sentence each. */
export function nonFiniteProblems(curves: { label: string; curve: Curve }[], xAxis: XAxis): string[] {
  return curves
    .filter(({ curve }) => curve.nonFinite > 0)
    .map(({ label, curve }) => `${label}: ${curve.nonFinite} value${curve.nonFinite === 1 ? ' is' : 's are'} NaN or infinite (first at ${xAxis} ${curve.firstNonFiniteX}); shown as gaps`);
}

/** Final and best (minimum, or maximum for r2/coverage/throughput metrics) value of a curve. */
export function finalAndBest(curve: Curve, metric: string): { final: number | null; best: number | null } {
  const higherIsBetter = /^(r2|coverage|steps_per_s|accuracy)/.test(metric);
  let best: number | null = null;
  let final: number | null = null;
  for (const v of curve.y) {
    if (v === null) continue;
    final = v;
    if (best === null || (higherIsBetter ? v > best : v < best)) best = v;
  }
  return { final, best };
}

/**
 * Curves merged on x with their smoothed copies, kept up to date incrementally: a live run appends
 * points at the end, and those are merged and smoothed in O(new points) per frame instead of
 * redoing 100k points. Anything else (a curve that went back in x, a new smoothing weight) rebuilds.
 */
export class AlignedCurves {
  x: number[] = [];
  raw: (number | null)[][] = [];
  smooth: (number | null)[][] = [];
  private consumed: number[] = [];
  private ema: { last: number; power: number }[] = [];

  constructor(private readonly curves: Curve[], private weight: number) {
    this.rebuild();
  }

  setWeight(weight: number): void {
    this.weight = weight;
    this.rebuild();
  }

  /** Takes in the points added to the curves since the last call. */
  update(): void {
    const last = this.x.length > 0 ? this.x[this.x.length - 1] : -Infinity;
    const tails = this.curves.map((c, i) => ({ c, from: this.consumed[i] }));
    // Only appends after the last x can be merged in place; anything else rebuilds.
    if (tails.some(({ c, from }) => c.x.length < from || (c.x.length > from && c.x[from] <= last))) {
      this.rebuild();
      return;
    }
    const at = tails.map((t) => t.from);
    for (;;) {
      let next = Infinity;
      for (let i = 0; i < tails.length; i++) if (at[i] < tails[i].c.x.length && tails[i].c.x[at[i]] < next) next = tails[i].c.x[at[i]];
      if (next === Infinity) break;
      this.x.push(next);
      for (let i = 0; i < tails.length; i++) {
        const c = tails[i].c;
        const v = at[i] < c.x.length && c.x[at[i]] === next ? c.y[at[i]++] : null;
        this.raw[i].push(v);
        this.smooth[i].push(this.smoothOne(i, v));
      }
    }
    this.consumed = at;
  }

  private rebuild(): void {
    const { x, ys } = alignCurves(this.curves);
    this.x = x;
    this.raw = ys;
    this.consumed = this.curves.map((c) => c.x.length);
    // The bulk pass is one tight loop per series; it leaves the EMA state for later appends.
    this.ema = ys.map(() => ({ last: 0, power: 1 }));
    this.smooth = ys.map((y, i) => this.smoothAll(i, y));
  }

  private smoothAll(series: number, y: (number | null)[]): (number | null)[] {
    const out: (number | null)[] = new Array(y.length);
    if (!(this.weight > 0)) {
      for (let i = 0; i < y.length; i++) { const v = y[i]; out[i] = v !== null && Number.isFinite(v) ? v : null; }
      return out;
    }
    const w = Math.min(this.weight, 0.999);
    let last = 0;
    let power = 1;
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      if (v === null || !Number.isFinite(v)) { out[i] = null; continue; }
      last = last * w + (1 - w) * v;
      power *= w;
      out[i] = last / (1 - power);
    }
    this.ema[series] = { last, power };
    return out;
  }

  /** One step of smoothExponential (same formula), carried between calls. */
  private smoothOne(series: number, v: number | null): number | null {
    if (v === null || !Number.isFinite(v)) return null;
    if (!(this.weight > 0)) return v;
    const w = Math.min(this.weight, 0.999);
    const s = this.ema[series];
    s.last = s.last * w + (1 - w) * v;
    s.power *= w;
    return s.last / (1 - s.power);
  }
}
