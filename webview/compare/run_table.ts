// The compare page's table of runs and metrics, as data: which metric columns it shows by default,
// each run's final value, best-so-far value and the step of that best (only for metrics whose best
// means something, as group_stats.ts declares), the sort, and the table as CSV and Markdown. Test
// metrics are one value per run, so they get one column. Pure: no DOM, so the unit tests check it.
import { formatNumber, metricBest, type MetricBest } from '../../sidecar/protocol/group_stats';

/** A metric of one split, as the page keys its charts: "loss · val". */
export interface MetricKey {
  key: string;
  metric: string;
  split: string;
}

export interface RunValues {
  /** The last finite value; null when there is none. */
  final: number | null;
  /** The best finite value so far in the metric's direction; null without a direction or a value. */
  best: number | null;
  /** The step at which `best` was logged (the first such step when it repeats). */
  bestStep: number | null;
}

/** Final and best-so-far of one curve: `steps` and `values` in logging order (NaN: not finite). */
export function bestSoFar(steps: ArrayLike<number>, values: ArrayLike<number>, best: MetricBest): RunValues {
  let final: number | null = null;
  let found: number | null = null;
  let at: number | null = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Not Number.isFinite: a call per point is most of this loop's cost in a freshly loaded page.
    if (!(v - v === 0)) continue;
    final = v;
    if (best === 'none') continue;
    if (found === null || (best === 'max' ? v > found : v < found)) {
      found = v;
      at = steps[i];
    }
  }
  return { final, best: found, bestStep: at };
}

/**
 * The metric columns shown until the user chooses: the loss of training and validation, and the
 * test metrics with a best (the numbers a paper's table reports); the first four metrics when the
 * runs logged none of those. Gradient norms, learning rate, throughput and per-parameter errors
 * stay behind the chooser.
 */
export function defaultTableMetrics(keys: readonly MetricKey[]): string[] {
  const chosen = keys.filter(
    (k) =>
      (k.metric === 'loss' && k.split !== 'test') ||
      (k.split === 'test' && metricBest(k.metric) !== 'none' && !k.metric.startsWith('baseline_')),
  );
  return (chosen.length > 0 ? chosen : keys.slice(0, 4)).map((k) => k.key);
}

export type ColumnKind = 'run' | 'status' | 'final' | 'best' | 'bestStep' | 'value';

export interface TableColumn {
  header: string;
  kind: ColumnKind;
  /** The metric key of a metric column. */
  key?: string;
}

/** Run and status, then per metric: its value (test), or final, best and best step (final only without a best). */
export function tableColumns(metrics: readonly MetricKey[]): TableColumn[] {
  const columns: TableColumn[] = [
    { header: 'run', kind: 'run' },
    { header: 'status', kind: 'status' },
  ];
  for (const { key, metric, split } of metrics) {
    if (split === 'test') columns.push({ header: key, kind: 'value', key });
    else if (metricBest(metric) === 'none') columns.push({ header: `${key} final`, kind: 'final', key });
    else
      columns.push(
        { header: `${key} final`, kind: 'final', key },
        { header: `${key} best`, kind: 'best', key },
        { header: `${key} best step`, kind: 'bestStep', key },
      );
  }
  return columns;
}

export interface TableRow {
  runDir: string;
  name: string;
  /** `<experiment>/<run-id>`. */
  id: string;
  status: string;
  /** Why the run shows no values (received_runs.ts), or null. */
  note: string | null;
  values: Map<string, RunValues>;
}

export function cellValue(row: TableRow, column: TableColumn): string | number | null {
  if (column.kind === 'run') return row.name;
  if (column.kind === 'status') return row.status;
  const v = column.key === undefined ? undefined : row.values.get(column.key);
  if (!v) return null;
  if (column.kind === 'best') return v.best;
  if (column.kind === 'bestStep') return v.bestStep;
  return v.final;
}

/** Rows sorted by a column (by its header); empty cells last either way. */
export function sortRows(
  rows: readonly TableRow[],
  columns: readonly TableColumn[],
  sort: { column: string; descending: boolean },
): TableRow[] {
  const column = columns.find((c) => c.header === sort.column);
  if (!column) return [...rows];
  return [...rows].sort((a, b) => {
    const va = cellValue(a, column);
    const vb = cellValue(b, column);
    if (va === null) return vb === null ? 0 : 1;
    if (vb === null) return -1;
    const order = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return sort.descending ? -order : order;
  });
}

function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV for further analysis: the shown columns at full precision plus each run's id and note; empty cells for no value. */
export function runTableCsv(columns: readonly TableColumn[], rows: readonly TableRow[]): string {
  const header = ['run', 'run_id', ...columns.slice(1).map((c) => c.header), 'note'];
  const lines = rows.map((row) =>
    [row.name, row.id, ...columns.slice(1).map((c) => cellValue(row, c)), row.note ?? ''].map(csvCell).join(','),
  );
  return [header.map(csvCell).join(','), ...lines].join('\n') + '\n';
}

function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub-flavoured Markdown table of the shown columns, values to 4 significant digits, "–" for none. */
export function runTableMarkdown(columns: readonly TableColumn[], rows: readonly TableRow[]): string {
  const shown = (v: string | number | null) => (v === null ? '–' : typeof v === 'number' ? formatNumber(v) : v);
  const lines = [
    `| ${columns.map((c) => markdownCell(c.header)).join(' | ')} |`,
    `| ${columns.map((c) => (c.kind === 'run' || c.kind === 'status' ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((c) => markdownCell(shown(cellValue(row, c)))).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}
