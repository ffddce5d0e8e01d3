// The test evaluation at the end of a run, as a table rather than as charts: the test record is one point
// per metric (r2_*, coverage68_*, coverage95_* of each parameter for a regression run), which as charts
// would be a screenful of cards with one dot each. Metrics that share a kind and differ by parameter
// ("r2_omega_m", "coverage68_omega_m") become one row per parameter with a column per kind; the rest
// (loss, NLL) are listed by name. A value that is undefined for a known reason (R² of one test lightcone)
// says so in its cell; any other NaN is reported by the caller as a problem.
import type { MetricRecord } from '../shared/panel_protocol';
import { recordKeys } from '../shared/panel_protocol';
import { formatValue } from '../shared/chart';
import { splitNames, type MetricColumns } from '../shared/metric_table';

const kindTitles: Record<string, string> = {
  r2: 'R²',
  coverage68: 'coverage 68%',
  coverage95: 'coverage 95%',
  mse: 'MSE',
  crps: 'CRPS',
};

export interface TestValue {
  metric: string;
  value: number | null;
}

/** Rows of a per-parameter table: the kinds (columns) and for each parameter its value of each kind. */
export interface TestTable {
  kinds: string[];
  parameters: { name: string; values: Map<string, number | null> }[];
  /** Metrics that belong to no kind shared by several parameters. */
  others: TestValue[];
}

/** The values of the test record(s), the last one winning, in the record's key order. */
export function testValues(records: readonly MetricRecord[]): TestValue[] {
  const values = new Map<string, number | null>();
  for (const r of records) {
    if (r.split !== 'test') continue;
    for (const key of Object.keys(r)) {
      if (recordKeys.has(key)) continue;
      const v = r[key];
      if (typeof v === 'number') values.set(key, Number.isFinite(v) ? v : null);
      else if (v === null) values.set(key, null);
    }
  }
  return [...values].map(([metric, value]) => ({ metric, value }));
}

/** Groups "<kind>_<parameter>" names whose kind has at least two parameters into a parameter × kind table. */
export function testTable(values: readonly TestValue[]): TestTable {
  const byKind = new Map<string, TestValue[]>();
  for (const v of values) {
    const at = v.metric.indexOf('_');
    if (at <= 0) continue;
    const kind = v.metric.slice(0, at);
    byKind.set(kind, [...(byKind.get(kind) ?? []), v]);
  }
  const kinds = [...byKind].filter(([, members]) => members.length >= 2).map(([kind]) => kind);
  const parameters = new Map<string, Map<string, number | null>>();
  const grouped = new Set<string>();
  for (const kind of kinds) {
    for (const v of byKind.get(kind) ?? []) {
      const parameter = v.metric.slice(kind.length + 1);
      if (!parameters.has(parameter)) parameters.set(parameter, new Map());
      parameters.get(parameter)?.set(kind, v.value);
      grouped.add(v.metric);
    }
  }
  return {
    kinds,
    parameters: [...parameters].map(([name, map]) => ({ name, values: map })),
    others: values.filter((v) => !grouped.has(v.metric)),
  };
}

/** The test-results section of the monitor; hidden until a test record arrives. */
export class TestResults {
  readonly element = document.createElement('section');
  private records: MetricRecord[] = [];

  constructor(
    parent: HTMLElement,
    /** Why a NaN value of a metric is undefined rather than unreadable, or null when it is not known. */
    private readonly undefinedReason: (metric: string) => string | null,
  ) {
    this.element.className = 'test-results';
    this.element.hidden = true;
    parent.append(this.element);
  }

  clear(): void {
    this.records = [];
    this.render();
  }

  add(records: readonly MetricRecord[]): void {
    const test = records.filter((r) => r.split === 'test');
    if (test.length === 0) return;
    this.records.push(...test);
    this.render();
  }

  /** Test metrics whose value is NaN for no known reason (the caller lists them as problems). */
  unexplained(): string[] {
    return testValues(this.records)
      .filter((v) => v.value === null && this.undefinedReason(v.metric) === null)
      .map((v) => v.metric);
  }

  /** Test metrics whose NaN value has a known reason, as "<metric>: <reason>". */
  explained(): { metric: string; reason: string }[] {
    return testValues(this.records).flatMap((v) => {
      const reason = v.value === null ? this.undefinedReason(v.metric) : null;
      return reason === null ? [] : [{ metric: v.metric, reason }];
    });
  }

  /** The table as the browser tests read it: header cells, then each row's cells. */
  rows(): string[][] {
    return [...this.element.querySelectorAll('tr')].map((tr) =>
      [...tr.querySelectorAll('th, td')].map((c) => c.textContent ?? ''),
    );
  }

  render(): void {
    this.element.replaceChildren();
    const values = testValues(this.records);
    this.element.hidden = values.length === 0;
    if (values.length === 0) return;
    const last = this.records[this.records.length - 1];
    const heading = document.createElement('h3');
    heading.textContent = `Test results (step ${last.step})`;
    this.element.append(heading);
    const table = testTable(values);
    if (table.kinds.length > 0) {
      this.element.append(
        htmlTable(
          ['parameter', ...table.kinds.map((k) => kindTitles[k] ?? k)],
          table.parameters.map((p) => [
            p.name,
            ...table.kinds.map((k) => (p.values.has(k) ? this.cell(`${k}_${p.name}`, p.values.get(k) ?? null) : '–')),
          ]),
        ),
      );
    }
    if (table.others.length > 0)
      this.element.append(
        htmlTable(
          ['metric', 'value'],
          table.others.map((v) => [v.metric, this.cell(v.metric, v.value)]),
        ),
      );
  }

  private cell(metric: string, value: number | null): string {
    if (value !== null) return formatValue(value);
    return this.undefinedReason(metric) ?? 'NaN';
  }
}

function htmlTable(header: string[], rows: string[][]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'data';
  const head = table.createTHead().insertRow();
  for (const h of header) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((text, i) => {
      const cell = i === 0 ? document.createElement('th') : document.createElement('td');
      if (i === 0) cell.scope = 'row';
      cell.textContent = text;
      tr.append(cell);
    });
  }
  return table;
}

/** The rows of received columns that are test records, as records (a run has one or a few). */
export function testRecordsOf(columns: MetricColumns): MetricRecord[] {
  const test = splitNames.indexOf('test');
  const records: MetricRecord[] = [];
  for (let i = 0; i < columns.length; i++) {
    if (columns.split[i] !== test) continue;
    const record: MetricRecord = {
      step: columns.step[i],
      epoch: columns.epoch[i],
      wall_time: columns.wall_time[i],
      split: 'test',
    };
    for (const m of columns.metrics) if (m.present[i]) record[m.name] = Number.isNaN(m.values[i]) ? null : m.values[i];
    records.push(record);
  }
  return records;
}

/** The metrics that have a value in a training or validation row: those get charts; test-only ones go to the table. */
export function chartedMetricNames(columns: MetricColumns): string[] {
  const test = splitNames.indexOf('test');
  return columns.metrics
    .filter((m) => {
      for (let i = 0; i < columns.length; i++) if (m.present[i] && columns.split[i] !== test) return true;
      return false;
    })
    .map((m) => m.name);
}
