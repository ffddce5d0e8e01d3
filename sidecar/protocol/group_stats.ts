// Statistics over groups of runs, as the paper reports them: each curve of a figure is the mean of a
// group's repeats with a ±1σ band, and each row of a table is a group's final (or best) metric as
// mean ± σ over its repeats with the ratio to a reference group. Pure and free of Node modules: the
// compare panel, the CLI and the benchmarks compute the same numbers from it.
//
// Alignment. Runs of one group need not log the same steps (another validation interval, a resume
// that logged a step twice, a run cut short). The curves are aligned on the union of the runs' x
// values: at each x a run contributes its own value where it logged one, and the linear
// interpolation between its two neighbouring points where it did not, but only inside its own range
// [first x, last x]; it is never extrapolated, so a run cut short stops counting where it stopped,
// and n says how many runs stand behind each point. Exact steps only would leave n jumping between
// 1 and the group's size wherever the grids differ, and the band would flicker with it.
//
// Non-finite values (NaN, written as null in metrics.jsonl) are skipped and counted: a run whose
// value at x is NaN, or whose interpolation would use a NaN neighbour, does not enter the mean at x
// and adds one to `nan` there. σ is the sample standard deviation (divisor n − 1), undefined (NaN)
// for fewer than two values.
//
// The ratio of a group's mean to a reference group's mean carries the standard error of a ratio of
// two independent means by first-order propagation:
//   r = μa / μb,   σ_r = (1 / |μb|) · sqrt(σa² / na + r² · σb² / nb)
// which equals |r| · sqrt((σa/μa)² / na + (σb/μb)² / nb) where μa ≠ 0 and stays defined at μa = 0.
// It is the uncertainty of the ratio of the means, not the spread of per-run ratios.

/** Which way a metric improves; its best value over a run is its minimum or its maximum. */
export type MetricDirection = 'min' | 'max';

/** What a metric's best value is: its minimum, its maximum, or nothing worth ranking by ('none'). */
export type MetricBest = MetricDirection | 'none';

// The one declaration, per metric, of what "best" means, which every panel reads. A name matches the
// first pattern that matches it whole. Losses and errors improve downwards, R² and accuracy upwards.
// The rest has no best: the learning rate and the gradient norms follow the schedule and the
// optimiser, throughput and the system's load follow the machine, `windows` counts what a validation
// scored, a σ over windows is a spread, and a coverage is right when it equals its nominal fraction
// (68 %, 95 %), so neither its minimum nor its maximum is its best. A metric not declared here has no
// best either: ranking runs by a quantity of unknown meaning would mislead.
const declaredBest: readonly (readonly [RegExp, MetricBest])[] = [
  [/^(loss|loss_\w+|cfm_loss|nll)$/, 'min'],
  [/^\w*_std$/, 'none'],
  [/^(l1_\w+|\w*mse\w*|\w*crps\w*)$/, 'min'],
  [/^(r2_\w+|accuracy\w*)$/, 'max'],
  [/^(coverage\d+_\w+|lr|steps_per_s|grad_norm_\w+|windows)$/, 'none'],
];

/** The metric's declared best (min, max or none); 'none' for a metric the declaration does not know. */
export function metricBest(metric: string): MetricBest {
  return declaredBest.find(([pattern]) => pattern.test(metric))?.[1] ?? 'none';
}

/** The direction in which the metric's best lies; 'min' for a metric without one (only its final value is shown). */
export function metricDirection(metric: string): MetricDirection {
  return metricBest(metric) === 'max' ? 'max' : 'min';
}

/** Whether a best value of the metric means anything (metricBest is not 'none'). */
export function metricHasBest(metric: string): boolean {
  return metricBest(metric) !== 'none';
}

/** One run's curve: x (e.g. step) and y, NaN for a value that was not finite. */
export interface RunSeries {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** A group's curves aligned on x; every column has one entry per x. */
export interface AlignedStats {
  /** The union of the runs' x values, ascending. */
  x: Float64Array;
  /** Mean over the contributing runs; NaN where none contributes. */
  mean: Float64Array;
  /** Sample standard deviation (n − 1); NaN where fewer than two runs contribute. */
  sd: Float64Array;
  /** How many runs contribute at each x. */
  n: Uint32Array;
  /** How many runs were skipped at each x because their value there was not finite. */
  nan: Uint32Array;
}

/** A run's points sorted by x, finite x only, one point per x (the last one logged wins, as a resume's rewrite does). */
function cleanSeries(run: RunSeries): { x: Float64Array; y: Float64Array } {
  // The common case, a run logged in step order without repeats, needs no sorting (long runs have 100k points).
  let increasing = true;
  for (let i = 0; i < run.x.length && increasing; i++)
    increasing = Number.isFinite(run.x[i]) && (i === 0 || run.x[i] > run.x[i - 1]);
  if (increasing) {
    const y = Float64Array.from(run.y);
    for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) y[i] = NaN;
    return { x: Float64Array.from(run.x), y };
  }
  const order: number[] = [];
  for (let i = 0; i < run.x.length; i++) if (Number.isFinite(run.x[i])) order.push(i);
  order.sort((a, b) => run.x[a] - run.x[b] || a - b);
  const x: number[] = [];
  const y: number[] = [];
  for (const i of order) {
    const v = Number.isFinite(run.y[i]) ? run.y[i] : NaN;
    if (x.length > 0 && x[x.length - 1] === run.x[i]) y[y.length - 1] = v;
    else {
      x.push(run.x[i]);
      y.push(v);
    }
  }
  return { x: Float64Array.from(x), y: Float64Array.from(y) };
}

/** Mean and sample σ of values[0, n), two passes for accuracy. */
function meanAndSd(values: Float64Array, n: number): { mean: number; sd: number } {
  if (n === 0) return { mean: NaN, sd: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n < 2) return { mean, sd: NaN };
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(squares / (n - 1)) };
}

/** Mean, σ and n per x over the runs, aligned as the header of this file says. */
export function alignedStats(runs: readonly RunSeries[]): AlignedStats {
  const clean = runs.map(cleanSeries);
  // The union of the x values: all of them sorted (a typed array sorts numerically, natively), repeats dropped.
  const all = new Float64Array(clean.reduce((sum, c) => sum + c.x.length, 0));
  let filled = 0;
  for (const c of clean) {
    all.set(c.x, filled);
    filled += c.x.length;
  }
  all.sort();
  let distinct = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[distinct++] = all[i];
  const x = all.slice(0, distinct);
  const mean = new Float64Array(x.length);
  const sd = new Float64Array(x.length);
  const n = new Uint32Array(x.length);
  const nan = new Uint32Array(x.length);
  // One cursor per run: x is swept once in ascending order, so each run's points are walked once.
  const cursor = new Uint32Array(clean.length);
  const values = new Float64Array(clean.length);
  for (let k = 0; k < x.length; k++) {
    const at = x[k];
    let count = 0;
    let skipped = 0;
    for (let r = 0; r < clean.length; r++) {
      const c = clean[r];
      const last = c.x.length - 1;
      if (last < 0 || at < c.x[0] || at > c.x[last]) continue;
      let j = cursor[r];
      while (j < last && c.x[j + 1] <= at) j++;
      cursor[r] = j;
      const v = c.x[j] === at ? c.y[j] : c.y[j] + ((c.y[j + 1] - c.y[j]) * (at - c.x[j])) / (c.x[j + 1] - c.x[j]);
      if (Number.isNaN(v)) skipped++;
      else values[count++] = v;
    }
    const stats = meanAndSd(values, count);
    mean[k] = stats.mean;
    sd[k] = stats.sd;
    n[k] = count;
    nan[k] = skipped;
  }
  return { x, mean, sd, n, nan };
}

/** Mean ± sample σ of one number per run; NaN values are skipped and counted. */
export interface Summary {
  /** NaN when n = 0. */
  mean: number;
  /** NaN when n < 2: σ is undefined for one value. */
  sd: number;
  /** Finite values taken. */
  n: number;
  /** Values skipped because they were not finite. */
  nan: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const finite = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite[n++] = values[i];
  return { ...meanAndSd(finite, n), n, nan: values.length - n };
}

/**
 * A run's final value (the value at its last logged x, NaN when that value was not finite: a run
 * that diverged ends in NaN, not in its last good value) and its best finite value in the metric's
 * direction (NaN when it has none).
 */
export function finalAndBest(run: RunSeries, direction: MetricDirection): { final: number; best: number } {
  const { y } = cleanSeries(run);
  let best = NaN;
  for (const v of y) {
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(best) || (direction === 'max' ? v > best : v < best)) best = v;
  }
  return { final: y.length > 0 ? y[y.length - 1] : NaN, best };
}

/** A ratio of means with its standard error; NaN where undefined. */
export interface Ratio {
  ratio: number;
  sd: number;
}

/** μa / μb with the propagated standard error of the header; σ_r is NaN unless both groups have a σ. */
export function ratioOfMeans(a: Summary, b: Summary): Ratio {
  if (a.n === 0 || b.n === 0 || b.mean === 0) return { ratio: NaN, sd: NaN };
  const ratio = a.mean / b.mean;
  if (a.n < 2 || b.n < 2) return { ratio, sd: NaN };
  return { ratio, sd: Math.sqrt((a.sd * a.sd) / a.n + (ratio * ratio * b.sd * b.sd) / b.n) / Math.abs(b.mean) };
}

/** Items grouped by key, groups in the order of their first item (a sweep's expansion order). */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): { key: string; items: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const members = groups.get(key);
    if (members) members.push(item);
    else groups.set(key, [item]);
  }
  return [...groups].map(([key, members]) => ({ key, items: members }));
}

// ---- The Table-4 style table ----

export interface GroupRow {
  group: string;
  /** Runs in the group (each cell's own n says how many had a finite value). */
  runs: number;
  final: Summary;
  best: Summary;
  /** Ratios to the reference group's means; null without a reference, and for the reference itself. */
  finalRatio: Ratio | null;
  bestRatio: Ratio | null;
}

export interface GroupTable {
  /** The metric, as the panel names it (e.g. "next_patch_mse · test"). */
  metric: string;
  direction: MetricDirection;
  /** Whether the best columns mean anything for this metric (metricHasBest). */
  hasBest: boolean;
  reference: string | null;
  rows: GroupRow[];
}

/**
 * Per group, the final and best value of each run as mean ± σ, and the ratios to `reference` (a
 * group's key; ignored when no group has it). `metricName` decides the direction (e.g. "r2_zeta").
 */
export function groupTable(
  groups: readonly { group: string; runs: readonly RunSeries[] }[],
  metric: string,
  metricName: string,
  reference: string | null,
): GroupTable {
  const direction = metricDirection(metricName);
  const rows: GroupRow[] = groups.map(({ group, runs }) => {
    const values = runs.map((r) => finalAndBest(r, direction));
    return {
      group,
      runs: runs.length,
      final: summarize(values.map((v) => v.final)),
      best: summarize(values.map((v) => v.best)),
      finalRatio: null,
      bestRatio: null,
    };
  });
  const base = rows.find((r) => r.group === reference);
  for (const row of rows) {
    if (!base || row === base) continue;
    row.finalRatio = ratioOfMeans(row.final, base.final);
    row.bestRatio = ratioOfMeans(row.best, base.best);
  }
  return { metric, direction, hasBest: metricHasBest(metricName), reference: base ? base.group : null, rows };
}

/** x rounded to a multiple of 10^-decimals, written with max(decimals, 0) decimals. */
function fixed(x: number, decimals: number): string {
  if (decimals >= 0) return x.toFixed(Math.min(decimals, 100));
  const unit = 10 ** -decimals;
  return (Math.round(x / unit) * unit).toFixed(0);
}

/** A value alone, to 4 significant digits (exponent form outside [1e-3, 1e5)). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

/**
 * "mean ± σ" with σ to two significant digits and the mean to the same decimal place; in a shared
 * exponent, "(1.235 ± 0.068)e-4", when the mean lies outside [1e-3, 1e5). The mean keeps at most
 * six significant digits, so a σ far below it does not pad it with noise.
 */
export function formatMeanSd(mean: number, sd: number): string {
  if (!Number.isFinite(mean)) return formatNumber(mean);
  if (!Number.isFinite(sd)) return formatNumber(mean);
  const scale = Math.abs(mean) || sd;
  const exponent = scale !== 0 && (scale < 1e-3 || scale >= 1e5) ? Math.floor(Math.log10(scale)) : 0;
  const m = mean / 10 ** exponent;
  const s = sd / 10 ** exponent;
  const sdDecimals = s > 0 ? 1 - Math.floor(Math.log10(s)) : 3;
  const meanDecimals = m !== 0 ? 5 - Math.floor(Math.log10(Math.abs(m))) : sdDecimals;
  const decimals = Math.min(sdDecimals, meanDecimals);
  // A σ too small to show at the mean's decimals keeps its own two digits.
  const sdText = decimals < sdDecimals ? Number(s.toPrecision(2)).toExponential() : fixed(s, decimals);
  const body = `${fixed(m, decimals)} ± ${sdText}`;
  return exponent === 0 ? body : `(${body})e${exponent}`;
}

/** A table cell: "mean ± σ (n = 3)", with σ marked undefined for n = 1 and skipped NaN values counted. */
export function formatSummary(s: Summary): string {
  const nan = s.nan > 0 ? `, ${s.nan} NaN skipped` : '';
  if (s.n === 0) return `– (n = 0${nan})`;
  if (s.n === 1) return `${formatNumber(s.mean)} (n = 1, σ undefined${nan})`;
  return `${formatMeanSd(s.mean, s.sd)} (n = ${s.n}${nan})`;
}

export function formatRatio(r: Ratio | null, isReference: boolean): string {
  if (isReference) return '1 (reference)';
  if (!r) return '–';
  if (Number.isNaN(r.ratio)) return '– (undefined)';
  if (Number.isNaN(r.sd)) return `${formatNumber(r.ratio)} (σ undefined)`;
  return formatMeanSd(r.ratio, r.sd);
}

/** The table's columns: header text and each row's cell, as the panel, CSV and Markdown show them. */
export function tableColumns(table: GroupTable): { header: string; cell(row: GroupRow): string }[] {
  const ref = table.reference;
  const columns: { header: string; cell(row: GroupRow): string }[] = [
    { header: 'group', cell: (r) => r.group },
    { header: 'runs', cell: (r) => String(r.runs) },
    { header: `${table.metric} final`, cell: (r) => formatSummary(r.final) },
  ];
  if (table.hasBest) columns.push({ header: `${table.metric} best`, cell: (r) => formatSummary(r.best) });
  if (ref !== null) {
    columns.push({ header: `final ÷ ${ref}`, cell: (r) => formatRatio(r.finalRatio, r.group === ref) });
    if (table.hasBest)
      columns.push({ header: `best ÷ ${ref}`, cell: (r) => formatRatio(r.bestRatio, r.group === ref) });
  }
  return columns;
}

/** What the numbers are, for a caption under the Markdown table. */
export const tableCaption =
  'mean ± sample σ over each group’s runs (n runs with a finite value); ratio ± standard error of the ratio of means (first-order propagation)';

function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub-flavoured Markdown table, mean ± σ rounded for reading, with the caption beneath. */
export function tableToMarkdown(table: GroupTable): string {
  const columns = tableColumns(table);
  const lines = [
    `| ${columns.map((c) => markdownCell(c.header)).join(' | ')} |`,
    `| ${columns.map((c) => (c.header === 'runs' ? '---:' : '---')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${columns.map((c) => markdownCell(c.cell(row))).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n\n${tableCaption}.\n`;
}

function csvCell(value: string | number): string {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV for further analysis: one row per group with mean, σ, n and skipped NaN as separate numeric
 * columns at full precision (empty where undefined), and the ratios with their standard errors.
 */
export function tableToCsv(table: GroupTable): string {
  const header = ['metric', 'group', 'runs', 'final_mean', 'final_sd', 'final_n', 'final_nan'];
  if (table.hasBest) header.push('best_mean', 'best_sd', 'best_n', 'best_nan');
  header.push('reference', 'final_ratio', 'final_ratio_sd');
  if (table.hasBest) header.push('best_ratio', 'best_ratio_sd');
  const ratioCells = (r: Ratio | null, isReference: boolean): (string | number)[] =>
    isReference ? [1, 0] : r ? [r.ratio, r.sd] : ['', ''];
  const rows = table.rows.map((row) => {
    const isReference = row.group === table.reference;
    const cells: (string | number)[] = [table.metric, row.group, row.runs];
    cells.push(row.final.mean, row.final.sd, row.final.n, row.final.nan);
    if (table.hasBest) cells.push(row.best.mean, row.best.sd, row.best.n, row.best.nan);
    cells.push(table.reference ?? '', ...ratioCells(row.finalRatio, isReference));
    if (table.hasBest) cells.push(...ratioCells(row.bestRatio, isReference));
    return cells;
  });
  return [header, ...rows].map((cells) => cells.map(csvCell).join(',')).join('\n') + '\n';
}
