// Run comparison: the runs picked in the Runs view, their curves overlaid (one colour per run; the
// legend's checkboxes hide or show a run), a sortable table of each run's final and best metrics,
// and a table of only the config fields that differ. Runs can be added (the host shows a picker)
// or removed in place. Grouped (by their sweep group, or by a config field that differs), the
// charts show each group's mean with a ±1σ band instead, the legend lists groups, and a table gives
// each group's final and best metric as mean ± σ with the ratio to a reference group (group_view.ts).
// A run that could not be read whole keeps its row, which says why (received_runs.ts).
import '@vscode-elements/elements';
import '../shared/panel.css';
import './compare.css';
import { connect } from '../shared/vscode_api';
import { Chart, formatValue, type ChartSeries } from '../shared/chart';
import { Curve, columnMetricNames, finalAndBest, splitCurves } from '../shared/metric_series';
import { splitNames, type MetricColumns } from '../shared/metric_table';
import { smoothExponential } from '../shared/smoothing';
import { ProblemList } from '../shared/problems';
import { checkbox, controlRow, labelled, select } from '../shared/controls';
import { seriesColors, withAlpha } from '../shared/theme';
import { configDifferences } from './config_diff';
import { defaultGroupMetric, defaultGrouping, groupRuns, groupingChoices, type RunGroup } from './grouping';
import { GroupTableView, groupChartParts } from './group_view';
import { checkReceivedRuns, rowNote } from './received_runs';
import { metricHasBest } from '../../sidecar/protocol/group_stats';
import type { CompareRun, HostMessage } from '../shared/panel_protocol';

const app = document.getElementById('app') ?? document.body;
const title = document.createElement('h2');
title.textContent = 'Compare runs';
app.append(title);
const bridge = connect(onMessage);
const saved = bridge.state('compare');
const settings = {
  xAxis: saved?.xAxis ?? 'step',
  smoothing: saved?.smoothing ?? 0.6,
  logY: saved?.logY ?? false,
  hidden: new Set(saved?.hidden ?? []),
  sort: saved?.sort ?? { column: 'run', descending: false },
  /** Undefined until the user or a sweep chooses; then the runs' default applies (grouping.ts). */
  groupBy: saved?.groupBy,
  showRuns: saved?.showRuns ?? false,
  groupMetric: saved?.groupMetric ?? null,
  reference: saved?.reference ?? null,
  hiddenGroups: new Set(saved?.hiddenGroups ?? []),
};
const controls = controlRow(app, {
  ...settings,
  onXAxis: (x) => {
    settings.xAxis = x;
    render();
    saveState();
  },
  onSmoothing: (s) => {
    settings.smoothing = s;
    render();
    saveState();
  },
  onLogY: (log) => {
    settings.logY = log;
    render();
    saveState();
  },
});
const add = document.createElement('vscode-button');
add.textContent = 'Add runs…';
add.addEventListener('click', () => bridge.post({ type: 'compare/addRuns' }));
controls.element.append(add);
const groupControls = document.createElement('div');
groupControls.className = 'toolbar';
app.append(groupControls);
const problems = new ProblemList(app);
const legend = document.createElement('div');
legend.className = 'toolbar legend';
legend.setAttribute('aria-label', 'Runs');
const grid = document.createElement('div');
grid.className = 'charts';
const metricsHeading = document.createElement('h2');
metricsHeading.textContent = 'Metrics';
const metricsTable = document.createElement('table');
metricsTable.className = 'data metrics';
const configHeading = document.createElement('h2');
configHeading.textContent = 'Config fields that differ';
const configTable = document.createElement('table');
configTable.className = 'data config-diff';
app.append(legend, grid);
const groupTableView = new GroupTableView(app, bridge, ({ metric, reference }) => {
  settings.groupMetric = metric;
  settings.reference = reference;
  render();
  saveState();
});
app.append(metricsHeading, metricsTable, configHeading, configTable);

let runs: CompareRun[] = [];
const charts = new Map<string, Chart>();

function onMessage(message: HostMessage): void {
  if (message.type !== 'compare/runs') return;
  runs = checkReceivedRuns(message.runs);
  if (message.groupBy) settings.groupBy = message.groupBy;
  problems.set(
    'runs',
    runs.flatMap((r) => r.problems.map((p) => `${r.run.name}: ${p}`)),
  );
  render();
  saveState();
}

/** Chart keys: "metric · split" for every metric and split some run logged. */
function chartKeys(): { key: string; metric: string; split: string }[] {
  const keys: { key: string; metric: string; split: string }[] = [];
  const names = columnMetricNames(runs.map((r) => r.columns));
  for (const metric of names) {
    const logged = new Set(runs.flatMap((r) => [...splitsWith(r.columns, metric)]));
    for (const split of splitNames) if (logged.has(split)) keys.push({ key: `${metric} · ${split}`, metric, split });
  }
  return keys;
}

/** The splits in which a run's columns have a value (or a null) of `metric`. */
function splitsWith(columns: MetricColumns, metric: string): Set<string> {
  const found = new Set<string>();
  const column = columns.metrics.find((m) => m.name === metric);
  if (column) for (let i = 0; i < columns.length; i++) if (column.present[i]) found.add(splitNames[columns.split[i]]);
  return found;
}

function curveOf(run: CompareRun, metric: string, split: string): Curve {
  return splitCurves([run.columns], metric, settings.xAxis).get(split) ?? new Curve(4);
}

/** The grouping in force: the one chosen, while these runs offer it; else the runs' default. */
function currentGrouping(): string {
  const choices = groupingChoices(runs).map(([value]) => value);
  return settings.groupBy !== undefined && choices.includes(settings.groupBy)
    ? settings.groupBy
    : defaultGrouping(runs);
}

/** The groups the page shows now, or null when each run stands alone. */
function currentGroups(): RunGroup[] | null {
  return groupRuns(runs, currentGrouping());
}

function renderGroupControls(grouping: string): void {
  groupControls.replaceChildren();
  const choices = groupingChoices(runs);
  if (choices.length < 2) return;
  labelled(
    groupControls,
    'Group by',
    select(choices, grouping, (g) => {
      settings.groupBy = g;
      render();
      saveState();
    }),
  );
  if (grouping === '') return;
  groupControls.append(
    checkbox('Show runs', settings.showRuns, (on) => {
      settings.showRuns = on;
      render();
      saveState();
    }),
  );
}

function render(): void {
  const colors = seriesColors();
  const groups = currentGroups();
  renderGroupControls(currentGrouping());
  // Grouped, a run takes its group's colour everywhere (legend, tables), so the bands match the rows.
  const groupOf = new Map<number, number>();
  groups?.forEach((g, k) => g.runs.forEach((r) => groupOf.set(r, k)));
  const colorOf = (i: number) => colors[(groups ? (groupOf.get(i) ?? 0) : i) % colors.length];
  if (groups) renderGroupLegend(groups, (k) => colors[k % colors.length]);
  else renderLegend(colorOf);
  const keys = chartKeys();
  const wanted = new Set(keys.map((k) => k.key));
  for (const [key, chart] of charts)
    if (!wanted.has(key)) {
      chart.destroy();
      charts.delete(key);
    }
  const table: { run: CompareRun; values: Map<string, { final: number | null; best: number | null }> }[] = runs.map(
    (run) => ({ run, values: new Map() }),
  );
  for (const { key, metric, split } of keys) {
    const curves = runs.map((r) => curveOf(r, metric, split));
    curves.forEach((c, i) => table[i].values.set(key, finalAndBest(c, metric)));
    // Test-split metrics are one value per run: they belong in the table, not in a chart.
    if (split === 'test') continue;
    if (groups) {
      renderGroupChart(key, curves, groups, (k) => colors[k % colors.length]);
      continue;
    }
    const series: ChartSeries[] = [];
    runs.forEach((r, i) => {
      const show = !settings.hidden.has(r.run.runDir);
      series.push({ label: `${r.run.name} (raw)`, color: withAlpha(colorOf(i), 0.25), faint: true, show });
      series.push({ label: r.run.name, color: colorOf(i), width: 2, show });
    });
    const options = {
      title: key,
      xLabel: settings.xAxis === 'wall_time' ? 'wall time [s]' : settings.xAxis,
      logY: settings.logY,
      series,
    };
    let chart = charts.get(key);
    if (chart) chart.reconfigure(options);
    else charts.set(key, (chart = new Chart(grid, options, bridge)));
    // One series group per run (its own x, raw and smoothed): runs are merged on x only after decimation.
    chart.setGroups(
      curves.map((c) => {
        c.ensureSorted();
        return { x: c.xs, ys: [c.ys, smoothExponential(c.ys, settings.smoothing)] };
      }),
    );
  }
  groupTableView.element.hidden = groups === null;
  if (groups)
    groupTableView.render(
      {
        metrics: orderedForTable(keys.map((k) => k.key)),
        groups: (key) => {
          const found = keys.find((k) => k.key === key);
          return groups.map((g) => ({
            group: g.key,
            runs: g.runs.map((r) => {
              const curve = found ? curveOf(runs[r], found.metric, found.split) : new Curve(4);
              curve.ensureSorted();
              return { x: curve.xs, y: curve.ys };
            }),
          }));
        },
      },
      settings.groupMetric ?? defaultGroupMetric(keys.map((k) => k.key)),
      settings.reference,
    );
  renderMetricsTable(
    table,
    keys.map((k) => k.key),
    colorOf,
  );
  renderConfigTable(colorOf);
}

/** The table's metric choices: test metrics first (a paper's table reports those), then the rest. */
function orderedForTable(keys: string[]): string[] {
  return [...keys.filter((k) => k.endsWith(' · test')), ...keys.filter((k) => !k.endsWith(' · test'))];
}

/** One chart of groups: each run's curve smoothed as shown, then mean ± σ over the group (group_view.ts). */
function renderGroupChart(key: string, curves: Curve[], groups: RunGroup[], groupColor: (k: number) => string): void {
  const parts = groupChartParts(
    groups.map((g, k) => ({
      key: g.key,
      color: groupColor(k),
      hidden: settings.hiddenGroups.has(g.key),
      runs: g.runs.map((r) => {
        const c = curves[r];
        c.ensureSorted();
        return { name: runs[r].run.name, x: c.xs, y: smoothExponential(c.ys, settings.smoothing) };
      }),
    })),
    settings.showRuns,
  );
  const options = {
    title: key,
    xLabel: settings.xAxis === 'wall_time' ? 'wall time [s]' : settings.xAxis,
    logY: settings.logY,
    series: parts.series,
    bands: parts.bands,
  };
  let chart = charts.get(key);
  if (chart) chart.reconfigure(options);
  else charts.set(key, (chart = new Chart(grid, options, bridge)));
  chart.setGroups(parts.data);
}

function renderGroupLegend(groups: RunGroup[], groupColor: (k: number) => string): void {
  legend.replaceChildren();
  groups.forEach((g, k) => {
    const item = document.createElement('span');
    item.className = 'legend-item';
    item.dataset.group = g.key;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = groupColor(k);
    const label = `${g.key} (${g.runs.length} run${g.runs.length === 1 ? '' : 's'})`;
    const box = checkbox(label, !settings.hiddenGroups.has(g.key), (checked) => {
      if (checked) settings.hiddenGroups.delete(g.key);
      else settings.hiddenGroups.add(g.key);
      render();
      saveState();
    });
    item.append(swatch, box);
    legend.append(item);
  });
}

function renderLegend(colorOf: (i: number) => string): void {
  legend.replaceChildren();
  if (runs.length === 0) {
    legend.textContent = 'No runs: select runs in the Runs view and choose Compare Runs, or use Add runs….';
    return;
  }
  runs.forEach((r, i) => {
    const item = document.createElement('span');
    item.className = 'legend-item';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = colorOf(i);
    const box = checkbox(r.run.name, !settings.hidden.has(r.run.runDir), (checked) => {
      if (checked) settings.hidden.delete(r.run.runDir);
      else settings.hidden.add(r.run.runDir);
      for (const chart of charts.values()) {
        chart.uplot?.setSeries(2 * i + 1, { show: checked });
        chart.uplot?.setSeries(2 * i + 2, { show: checked });
      }
      saveState();
    });
    const remove = document.createElement('vscode-button');
    remove.setAttribute('secondary', '');
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${r.run.name} from the comparison`);
    remove.addEventListener('click', () => bridge.post({ type: 'compare/removeRun', runDir: r.run.runDir }));
    item.append(swatch, box, remove);
    legend.append(item);
  });
}

function header(table: HTMLTableElement, columns: string[], sortable: boolean): void {
  const row = table.createTHead().insertRow();
  for (const column of columns) {
    const th = document.createElement('th');
    th.textContent = column;
    th.scope = 'col';
    if (sortable) {
      th.tabIndex = 0;
      if (settings.sort.column === column)
        th.setAttribute('aria-sort', settings.sort.descending ? 'descending' : 'ascending');
      const sort = () => {
        settings.sort = { column, descending: settings.sort.column === column ? !settings.sort.descending : false };
        render();
        saveState();
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          sort();
        }
      });
    }
    row.append(th);
  }
}

function renderMetricsTable(
  rows: { run: CompareRun; values: Map<string, { final: number | null; best: number | null }> }[],
  keys: string[],
  colorOf: (i: number) => string,
): void {
  metricsTable.replaceChildren();
  // A best learning rate or throughput means nothing; those get their final value only.
  const columns = [
    'run',
    'status',
    ...keys.flatMap((k) => (metricHasBest(k.split(' · ')[0]) ? [`${k} final`, `${k} best`] : [`${k} final`])),
  ];
  header(metricsTable, columns, true);
  const cell = (row: (typeof rows)[number], column: string): string | number | null => {
    if (column === 'run') return row.run.run.name;
    if (column === 'status') return row.run.run.record?.status ?? 'unreadable';
    const key = column.replace(/ (final|best)$/, '');
    const v = row.values.get(key);
    return column.endsWith(' final') ? (v?.final ?? null) : (v?.best ?? null);
  };
  const indexed = rows.map((row, i) => ({ row, i }));
  const { column, descending } = settings.sort;
  if (columns.includes(column)) {
    indexed.sort((a, b) => {
      const va = cell(a.row, column);
      const vb = cell(b.row, column);
      if (va === null) return 1;
      if (vb === null) return -1;
      const order = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
      return descending ? -order : order;
    });
  }
  const body = metricsTable.createTBody();
  for (const { row, i } of indexed) {
    const tr = body.insertRow();
    columns.forEach((c, k) => {
      const td = tr.insertCell();
      const v = cell(row, c);
      if (k === 0) {
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        swatch.style.background = colorOf(i);
        td.append(swatch);
      }
      td.append(v === null ? '–' : typeof v === 'number' ? formatValue(v) : v);
      if (c === 'status') {
        const note = rowNote(row.run);
        if (note !== null) {
          const line = document.createElement('div');
          line.className = 'row-note';
          line.textContent = note;
          td.append(line);
        }
      }
    });
  }
}

function renderConfigTable(colorOf: (i: number) => string): void {
  configTable.replaceChildren();
  const differences = configDifferences(runs.map((r) => r.config));
  header(configTable, ['field', ...runs.map((r) => r.run.name)], false);
  const body = configTable.createTBody();
  if (runs.length < 2) {
    body.insertRow().insertCell().textContent = 'Add a second run to see how the configs differ.';
    return;
  }
  if (differences.length === 0) {
    body.insertRow().insertCell().textContent = 'The configs are identical.';
    return;
  }
  for (const d of differences) {
    const tr = body.insertRow();
    tr.dataset.path = d.path;
    tr.insertCell().textContent = d.path;
    d.values.forEach((v, i) => {
      const td = tr.insertCell();
      td.textContent = runs[i].config === null ? 'unreadable' : v === undefined ? '(absent)' : v;
      td.style.borderLeft = `2px solid ${colorOf(i)}`;
    });
  }
}

function saveState(): void {
  bridge.saveState({
    kind: 'compare',
    runDirs: runs.map((r) => r.run.runDir),
    xAxis: settings.xAxis,
    smoothing: settings.smoothing,
    logY: settings.logY,
    hidden: [...settings.hidden],
    sort: settings.sort,
    groupBy: settings.groupBy,
    showRuns: settings.showRuns,
    groupMetric: settings.groupMetric,
    reference: settings.reference,
    hiddenGroups: [...settings.hiddenGroups],
  });
}

Object.assign(window, {
  l3mPanel: {
    charts: () => [...charts].map(([key, chart]) => ({ key, uplot: chart.uplot })),
    differingFields: () =>
      [...configTable.querySelectorAll<HTMLElement>('tbody tr[data-path]')].map((tr) => tr.dataset.path),
    problems: () => problems.all(),
    groups: () => currentGroups()?.map((g) => ({ key: g.key, runs: g.runs.map((r) => runs[r].run.name) })) ?? null,
    groupTable: () => groupTableView.shown,
  },
});
