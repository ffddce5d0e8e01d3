// Metric records as columns (metric_columns.ts says why): the extension turns records into columns,
// and the page keeps what it received as a list of column batches, appending live records as small
// batches. No DOM, no vscode: both sides import it.
import { splitNames, type MetricColumns } from './metric_columns';
import { recordKeys, type MetricRecord } from './panel_protocol';

export { splitNames, type MetricColumns } from './metric_columns';

export function recordsToColumns(records: MetricRecord[]): MetricColumns {
  const n = records.length;
  const columns: MetricColumns = {
    length: n,
    step: new Float64Array(n),
    epoch: new Float64Array(n),
    wall_time: new Float64Array(n),
    split: new Uint8Array(n),
    metrics: [],
  };
  const byName = new Map<string, MetricColumns['metrics'][number]>();
  for (let i = 0; i < n; i++) {
    const r = records[i];
    columns.step[i] = r.step;
    columns.epoch[i] = r.epoch;
    columns.wall_time[i] = r.wall_time;
    columns.split[i] = Math.max(0, splitNames.indexOf(r.split));
    for (const key in r) {
      if (recordKeys.has(key)) continue;
      const v = r[key];
      if (typeof v !== 'number' && v !== null) continue;
      let metric = byName.get(key);
      if (!metric) {
        metric = { name: key, values: new Float64Array(n).fill(NaN), present: new Uint8Array(n) };
        byName.set(key, metric);
        columns.metrics.push(metric);
      }
      metric.values[i] = v === null ? NaN : v;
      metric.present[i] = 1;
    }
  }
  return columns;
}

/** Everything the page received, as column batches in arrival order. */
export class MetricTable {
  readonly batches: MetricColumns[] = [];
  length = 0;

  append(columns: MetricColumns): void {
    if (columns.length === 0) return;
    this.batches.push(columns);
    this.length += columns.length;
  }

  clear(): void {
    this.batches.length = 0;
    this.length = 0;
  }

  /** Metric names in order of first appearance. */
  names(): string[] {
    const seen = new Set<string>();
    for (const b of this.batches) for (const m of b.metrics) seen.add(m.name);
    return [...seen];
  }
}
