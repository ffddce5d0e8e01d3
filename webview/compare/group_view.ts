// The compare page's group views, as the paper draws them: per group a mean curve with a ±1σ band
// over its runs (each run's curve optionally behind it), and a table of each group's final and best
// value of one metric as mean ± σ (n) with the ratio to a reference group, exported as CSV or
// Markdown, to a file or the clipboard. The numbers come from sidecar/protocol/group_stats.ts.
import {
  alignedStats,
  groupTable,
  tableColumns,
  tableToCsv,
  tableToMarkdown,
  type GroupTable,
  type RunSeries,
} from '../../sidecar/protocol/group_stats';
import type { ChartOptions, ChartSeries } from '../shared/chart';
import type { SeriesGroup } from '../shared/decimate';
import { labelled, select } from '../shared/controls';
import { withAlpha } from '../shared/theme';
import type { PanelBridge } from '../shared/vscode_api';
import { postTableText, tableExportButtons, type TableFormat } from './table_export';

/** A group as the charts draw it: its runs' curves (already smoothed as shown) and its colour. */
export interface ChartGroup {
  key: string;
  color: string;
  hidden: boolean;
  runs: { name: string; x: Float64Array; y: Float64Array }[];
}

/**
 * Series, bands and data of one chart: per group its −1σ and +1σ edges (filled between) and its
 * mean, then, with `showRuns`, every run's curve faint in its group's colour. Where fewer than two
 * runs contribute, σ is undefined and the band leaves a gap; the mean goes on.
 */
export function groupChartParts(
  groups: readonly ChartGroup[],
  showRuns: boolean,
): { series: ChartSeries[]; bands: NonNullable<ChartOptions['bands']>; data: SeriesGroup[] } {
  const series: ChartSeries[] = [];
  const bands: NonNullable<ChartOptions['bands']> = [];
  const data: SeriesGroup[] = [];
  for (const g of groups) {
    const stats = alignedStats(g.runs);
    const lower = stats.mean.map((m, i) => m - stats.sd[i]);
    const upper = stats.mean.map((m, i) => m + stats.sd[i]);
    const show = !g.hidden;
    series.push(
      { label: `${g.key} −1σ`, color: withAlpha(g.color, 0.35), faint: true, show },
      { label: `${g.key} +1σ`, color: withAlpha(g.color, 0.35), faint: true, show },
      { label: g.key, color: g.color, width: 2, show },
    );
    bands.push({ upper: series.length - 1, lower: series.length - 2, fill: withAlpha(g.color, 0.18) });
    data.push({ x: stats.x, ys: [lower, upper, stats.mean] });
  }
  if (showRuns)
    for (const g of groups)
      for (const run of g.runs) {
        series.push({ label: run.name, color: withAlpha(g.color, 0.45), faint: true, show: !g.hidden });
        data.push({ x: run.x, ys: [run.y] });
      }
  return { series, bands, data };
}

export interface GroupTableSource {
  /** The metrics the table can show, as "metric · split". */
  metrics: string[];
  /** Groups with their runs' raw curves of `metric` (the table never uses smoothed values). */
  groups(metric: string): { group: string; runs: RunSeries[] }[];
}

/** The table section: metric and reference choice, the table, and its export buttons. */
export class GroupTableView {
  readonly element: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly table: HTMLTableElement;
  private current: GroupTable | null = null;

  constructor(
    parent: HTMLElement,
    private readonly bridge: PanelBridge,
    private readonly onChoice: (choice: { metric: string; reference: string | null }) => void,
  ) {
    this.element = document.createElement('section');
    this.element.className = 'group-table';
    const heading = document.createElement('h2');
    heading.textContent = 'Groups';
    this.controls = document.createElement('div');
    this.controls.className = 'toolbar';
    this.table = document.createElement('table');
    this.table.className = 'data groups';
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent =
      'Mean ± sample σ over each group’s runs, n runs with a finite value (NaN values are skipped and counted); the ratio to the reference group is the ratio of the means ± its standard error (first-order propagation).';
    const exports = document.createElement('div');
    exports.className = 'toolbar';
    tableExportButtons(exports, (format, copy) => this.export(format, copy));
    this.element.append(heading, this.controls, this.table, note, exports);
    parent.append(this.element);
  }

  get shown(): GroupTable | null {
    return this.current;
  }

  /** Shows the table of `metric` (a default when it is not offered) against `reference`. */
  render(source: GroupTableSource, metric: string | null, reference: string | null): void {
    this.controls.replaceChildren();
    this.table.replaceChildren();
    const chosen = metric !== null && source.metrics.includes(metric) ? metric : (source.metrics[0] ?? null);
    if (chosen === null) {
      this.current = null;
      this.table.createTBody().insertRow().insertCell().textContent = 'The runs have logged no metrics yet.';
      return;
    }
    const groups = source.groups(chosen);
    const keys = groups.map((g) => g.group);
    const ref = reference !== null && keys.includes(reference) ? reference : (keys[0] ?? null);
    labelled(
      this.controls,
      'Metric',
      select(
        source.metrics.map((m): [string, string] => [m, m]),
        chosen,
        (m) => this.onChoice({ metric: m, reference: ref }),
      ),
    );
    labelled(
      this.controls,
      'Reference group',
      select(
        keys.map((k): [string, string] => [k, k]),
        ref ?? '',
        (r) => this.onChoice({ metric: chosen, reference: r }),
      ),
    );
    const metricName = chosen.split(' · ')[0];
    const table = groupTable(groups, chosen, metricName, ref);
    this.current = table;
    const columns = tableColumns(table);
    const head = this.table.createTHead().insertRow();
    for (const c of columns) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = c.header;
      head.append(th);
    }
    const body = this.table.createTBody();
    for (const row of table.rows) {
      const tr = body.insertRow();
      tr.dataset.group = row.group;
      for (const c of columns) tr.insertCell().textContent = c.cell(row);
    }
  }

  private export(format: TableFormat, copy: boolean): void {
    const table = this.current;
    if (!table) return;
    const text = format === 'csv' ? tableToCsv(table) : tableToMarkdown(table);
    const what = `the group table of ${table.metric} as ${format === 'csv' ? 'CSV' : 'Markdown'}`;
    postTableText(this.bridge, { text, format, copy, what, fileStem: `groups ${table.metric}` });
  }
}
