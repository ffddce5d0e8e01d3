// The compare page's metrics table on screen: a chooser of its metric columns (a default set,
// run_table.ts, until the user picks), the table sortable by any column with each run's reason for
// showing no values under its status, and its export as CSV or Markdown, to a file or the clipboard.
import { formatValue } from '../shared/chart';
import { checkbox } from '../shared/controls';
import type { PanelBridge } from '../shared/vscode_api';
import { swatch } from './run_legend';
import type { RunStyle } from './run_palette';
import { postTableText, tableExportButtons, type TableFormat } from './table_export';
import {
  cellValue,
  defaultTableMetrics,
  runTableCsv,
  runTableMarkdown,
  sortRows,
  tableColumns,
  type MetricKey,
  type TableColumn,
  type TableRow,
} from './run_table';

export interface RunTableSettings {
  /** The chosen metric keys, or null for the default set. */
  metrics: string[] | null;
  sort: { column: string; descending: boolean };
}

export class RunTableView {
  readonly element: HTMLElement;
  private readonly chooser: HTMLDetailsElement;
  private readonly chooserSummary: HTMLElement;
  private readonly chooserList: HTMLElement;
  private readonly table: HTMLTableElement;
  private shownColumns: TableColumn[] = [];
  private shownRows: TableRow[] = [];
  private choices: { keys: readonly MetricKey[]; chosen: ReadonlySet<string>; defaults: string[] } = {
    keys: [],
    chosen: new Set(),
    defaults: [],
  };

  constructor(
    parent: HTMLElement,
    private readonly bridge: PanelBridge,
    private readonly settings: RunTableSettings,
    private readonly onChange: () => void,
  ) {
    this.element = document.createElement('section');
    this.element.className = 'run-table';
    const heading = document.createElement('h2');
    heading.textContent = 'Metrics';
    const tools = document.createElement('div');
    tools.className = 'toolbar';
    this.chooser = document.createElement('details');
    this.chooser.className = 'metric-chooser';
    this.chooserSummary = document.createElement('summary');
    this.chooserList = document.createElement('div');
    this.chooserList.className = 'metric-choices';
    this.chooser.append(this.chooserSummary, this.chooserList);
    // The choices are built only while the chooser is open: dozens of checkboxes nobody looks at would
    // slow the page's first paint.
    this.chooser.addEventListener('toggle', () => this.renderChooser());
    const exports = document.createElement('span');
    exports.className = 'exports';
    tableExportButtons(exports, (format, copy) => this.export(format, copy));
    tools.append(exports);
    this.table = document.createElement('table');
    this.table.className = 'data metrics';
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent =
      'Best: the best value so far in the metric’s direction (lowest loss or error, highest R²) and the step that logged it; metrics without a meaningful best (learning rate, gradient norms, throughput, coverage) show their final value only.';
    this.element.append(heading, tools, this.chooser, this.table, note);
    parent.append(this.element);
  }

  /** The columns and rows shown, in their order (for the tests and exports). */
  get shown(): { columns: TableColumn[]; rows: TableRow[] } {
    return { columns: this.shownColumns, rows: this.shownRows };
  }

  render(keys: readonly MetricKey[], rows: readonly TableRow[], styleOf: (runDir: string) => RunStyle): void {
    const defaults = defaultTableMetrics(keys);
    const chosen = new Set(this.settings.metrics ?? defaults);
    const metrics = keys.filter((k) => chosen.has(k.key));
    this.choices = { keys, chosen, defaults };
    this.renderChooser();
    const columns = tableColumns(metrics);
    const sorted = sortRows(rows, columns, this.settings.sort);
    this.shownColumns = columns;
    this.shownRows = sorted;
    this.table.replaceChildren();
    this.header(columns);
    const body = this.table.createTBody();
    for (const row of sorted) {
      const tr = body.insertRow();
      tr.dataset.runDir = row.runDir;
      for (const column of columns) {
        const td = tr.insertCell();
        const v = cellValue(row, column);
        if (column.kind === 'run') {
          td.title = row.id;
          td.append(swatch(styleOf(row.runDir)));
        }
        td.append(v === null ? '–' : typeof v === 'number' && column.kind !== 'bestStep' ? formatValue(v) : String(v));
        if (column.kind === 'status' && row.note !== null) {
          const line = document.createElement('div');
          line.className = 'row-note';
          line.textContent = row.note;
          td.append(line);
        }
      }
    }
  }

  private renderChooser(): void {
    const { keys, chosen, defaults } = this.choices;
    const count = keys.filter((k) => chosen.has(k.key)).length;
    this.chooserSummary.textContent = `Metric columns: ${count} of ${keys.length}`;
    this.chooserList.replaceChildren();
    if (!this.chooser.open) return;
    const tools = document.createElement('div');
    tools.className = 'toolbar';
    for (const [label, metrics] of [
      ['Default', null],
      ['All', keys.map((k) => k.key)],
      ['None', []],
    ] as const) {
      const button = document.createElement('vscode-button');
      button.setAttribute('secondary', '');
      button.textContent = label;
      button.addEventListener('click', () => {
        this.settings.metrics = metrics === null ? null : [...metrics];
        this.onChange();
      });
      tools.append(button);
    }
    this.chooserList.append(tools);
    for (const k of keys) {
      const box = checkbox(k.key, chosen.has(k.key), (on) => {
        const next = new Set(this.settings.metrics ?? defaults);
        if (on) next.add(k.key);
        else next.delete(k.key);
        // Kept in the order the charts list the metrics.
        this.settings.metrics = keys.map((m) => m.key).filter((m) => next.has(m));
        this.onChange();
      });
      box.dataset.metric = k.key;
      this.chooserList.append(box);
    }
  }

  private header(columns: readonly TableColumn[]): void {
    const row = this.table.createTHead().insertRow();
    for (const column of columns) {
      const th = document.createElement('th');
      th.textContent = column.header;
      th.scope = 'col';
      th.tabIndex = 0;
      const { sort } = this.settings;
      if (sort.column === column.header) th.setAttribute('aria-sort', sort.descending ? 'descending' : 'ascending');
      const apply = () => {
        this.settings.sort = {
          column: column.header,
          descending: sort.column === column.header ? !sort.descending : false,
        };
        this.onChange();
      };
      th.addEventListener('click', apply);
      th.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          apply();
        }
      });
      row.append(th);
    }
  }

  private export(format: TableFormat, copy: boolean): void {
    const text =
      format === 'csv'
        ? runTableCsv(this.shownColumns, this.shownRows)
        : runTableMarkdown(this.shownColumns, this.shownRows);
    const what = `the metrics table as ${format === 'csv' ? 'CSV' : 'Markdown'}`;
    postTableText(this.bridge, { text, format, copy, what, fileStem: 'compare metrics' });
  }
}
