// Run comparison: the runs picked in the Runs view, their curves overlaid, each run in a colour and
// dash of its own that it keeps while it is compared (run_palette.ts) and named by its experiment and
// the config fields in which it differs (run_names.ts). The legend (run_legend.ts) filters, shows,
// hides, solos and highlights runs; the metrics table (run_table_view.ts) gives each run's final and
// best-so-far values of the chosen metrics and exports them; the config table lists the fields that
// differ, or all of them. Runs can be added (the host shows a picker) or removed in place. Grouped
// (by their sweep group, or by a config field that differs), the charts show each group's mean with
// a ±1σ band instead, the legend lists groups, and a table gives each group's final and best metric
// as mean ± σ with the ratio to a reference group (group_view.ts). A run that could not be read
// whole keeps its row, which says why (received_runs.ts).
import '@vscode-elements/elements';
import '../shared/panel.css';
import './compare.css';
import { connect } from '../shared/vscode_api';
import { Chart, type ChartOptions, type ChartSeries } from '../shared/chart';
import { chartKeyTitle, xAxisTitle } from '../shared/metric_labels';
import { isAxisScale } from '../shared/axis_scales';
import { metricDirection, metricHasBest } from '../../sidecar/protocol/group_stats';
import { Curve, columnMetricNames, splitCurves } from '../shared/metric_series';
import { splitNames } from '../shared/metric_table';
import { smoothExponential } from '../shared/smoothing';
import { ProblemList } from '../shared/problems';
import { checkbox, controlRow, labelled, select } from '../shared/controls';
import { withAlpha } from '../shared/theme';
import { configFields } from './config_diff';
import { defaultGroupMetric, defaultGrouping, groupRuns, groupingChoices, type RunGroup } from './grouping';
import { GroupTableView, groupChartParts } from './group_view';
import { checkReceivedRuns, rowNote } from './received_runs';
import { assignSlots, styleOfSlot, type RunStyle } from './run_palette';
import { runNames } from './run_names';
import { RunLegend } from './run_legend';
import { bestSoFar, type MetricKey, type TableRow } from './run_table';
import { RunTableView } from './run_table_view';
import { metricBest } from '../../sidecar/protocol/group_stats';
import { benchMark } from '../shared/bench_marks';
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
  xScale: isAxisScale(saved?.xScale) ? saved.xScale : 'linear',
  // State saved before the scale choice had only a log y switch.
  yScale: isAxisScale(saved?.yScale) ? saved.yScale : saved?.logY ? 'log' : 'linear',
  hidden: new Set(saved?.hidden ?? []),
  /** Each compared run's palette slot, by run folder: kept while the run is compared. */
  slots: saved?.slots ?? {},
  legendFilter: saved?.legendFilter ?? '',
  legendOpen: saved?.legendOpen ?? true,
  /** Undefined until the user or a sweep chooses; then the runs' default applies (grouping.ts). */
  groupBy: saved?.groupBy,
  showRuns: saved?.showRuns ?? false,
  groupMetric: saved?.groupMetric ?? null,
  reference: saved?.reference ?? null,
  hiddenGroups: new Set(saved?.hiddenGroups ?? []),
  /** Every config field, or only those that differ. */
  configAll: saved?.configAll ?? false,
};
const tableSettings = {
  metrics: saved?.tableMetrics ?? null,
  sort: saved?.sort ?? { column: 'run', descending: false },
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
  onXScale: (scale) => {
    settings.xScale = scale;
    render();
    saveState();
  },
  onYScale: (scale) => {
    settings.yScale = scale;
    settings.logY = scale === 'log';
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
const runLegend = new RunLegend(
  app,
  {
    onShow: (runDir, shown) => {
      if (shown) settings.hidden.delete(runDir);
      else settings.hidden.add(runDir);
      applyVisibility();
    },
    onSolo: (runDir) => {
      const alone = runs.every((r) => (r.run.runDir === runDir) !== settings.hidden.has(r.run.runDir));
      settings.hidden = new Set(alone ? [] : runs.map((r) => r.run.runDir).filter((d) => d !== runDir));
      applyVisibility();
    },
    onShowAll: () => {
      settings.hidden.clear();
      applyVisibility();
    },
    onHighlight: highlight,
    onRemove: (runDir) => bridge.post({ type: 'compare/removeRun', runDir }),
    onViewChange: ({ filter, open }) => {
      settings.legendFilter = filter;
      settings.legendOpen = open;
      saveState();
    },
  },
  { filter: settings.legendFilter, open: settings.legendOpen },
);
const groupLegend = document.createElement('div');
groupLegend.className = 'toolbar legend';
groupLegend.setAttribute('aria-label', 'Groups');
const grid = document.createElement('div');
grid.className = 'charts';
app.append(groupLegend, grid);
const groupTableView = new GroupTableView(app, bridge, ({ metric, reference }) => {
  settings.groupMetric = metric;
  settings.reference = reference;
  render();
  saveState();
});
const runTable = new RunTableView(app, bridge, tableSettings, () => {
  render();
  saveState();
});
const configHeading = document.createElement('h2');
configHeading.textContent = 'Config';
const configTools = document.createElement('div');
configTools.className = 'toolbar';
configTools.append(
  checkbox('Only fields that differ', !settings.configAll, (only) => {
    settings.configAll = !only;
    renderConfigTable();
    saveState();
  }),
);
const configTable = document.createElement('table');
configTable.className = 'data config-diff';
app.append(configHeading, configTools, configTable);

let runs: CompareRun[] = [];
let names: string[] = [];
const charts = new Map<string, Chart>();

function onMessage(message: HostMessage): void {
  if (message.type !== 'compare/runs') return;
  runs = checkReceivedRuns(message.runs);
  names = runNames(runs);
  settings.slots = assignSlots(
    settings.slots,
    runs.map((r) => r.run.runDir),
  );
  if (message.groupBy) settings.groupBy = message.groupBy;
  problems.set(
    'runs',
    runs.flatMap((r) => r.problems.map((p) => `${r.run.name}: ${p}`)),
  );
  render();
  saveState();
}

function styleOf(runDir: string): RunStyle {
  return styleOfSlot(settings.slots[runDir] ?? 0);
}

/**
 * Chart keys: "metric · split" for every metric and split some run logged (a value or a null), read
 * off the runs' curves, which have a curve for exactly those splits.
 */
function chartKeys(curvesOfMetric: (metric: string) => Map<string, Curve>[]): MetricKey[] {
  const keys: MetricKey[] = [];
  const metricNames = columnMetricNames(runs.map((r) => r.columns));
  for (const metric of metricNames) {
    const logged = new Set(curvesOfMetric(metric).flatMap((bySplit) => [...bySplit.keys()]));
    for (const split of splitNames) if (logged.has(split)) keys.push({ key: `${metric} · ${split}`, metric, split });
  }
  return keys;
}

/** Each run's curves of a metric by split, against the chart's x axis; computed once a render. */
function curvesOf(metric: string, xAxis: typeof settings.xAxis): Map<string, Curve>[] {
  return runs.map((r) => splitCurves([r.columns], metric, xAxis));
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
  benchMark('l3m-render-start');
  const groups = currentGroups();
  renderGroupControls(currentGrouping());
  // Grouped, a run takes its group's colour everywhere (legend, tables), so the bands match the rows.
  const groupOf = new Map<number, number>();
  groups?.forEach((g, k) => g.runs.forEach((r) => groupOf.set(r, k)));
  const runStyle = (i: number): RunStyle => (groups ? styleOfSlot(groupOf.get(i) ?? 0) : styleOf(runs[i].run.runDir));
  runLegend.element.hidden = groups !== null;
  groupLegend.hidden = groups === null;
  if (groups) renderGroupLegend(groups);
  else {
    groupLegend.replaceChildren();
    renderRunLegend();
  }
  // Each metric's curves are made once a render, for the charts' x axis and for steps (the table's best).
  const byMetric = new Map<string, { chart: Map<string, Curve>[]; step: Map<string, Curve>[] }>();
  const curvesFor = (metric: string) => {
    let found = byMetric.get(metric);
    if (!found) {
      const chart = curvesOf(metric, settings.xAxis);
      found = { chart, step: settings.xAxis === 'step' ? chart : curvesOf(metric, 'step') };
      byMetric.set(metric, found);
    }
    return found;
  };
  const keys = chartKeys((metric) => curvesFor(metric).step);
  const wanted = new Set(keys.map((k) => k.key));
  for (const [key, chart] of charts)
    if (!wanted.has(key)) {
      chart.destroy();
      charts.delete(key);
    }
  const rows: TableRow[] = runs.map((run, i) => ({
    runDir: run.run.runDir,
    name: names[i],
    id: run.run.name,
    status: run.run.record?.status ?? 'unreadable',
    note: rowNote(run),
    values: new Map(),
  }));
  for (const { key, metric, split } of keys) {
    const all = curvesFor(metric);
    // The table's best is at a step, whatever the charts' x axis.
    all.step.forEach((bySplit, i) => {
      const c = bySplit.get(split);
      if (c) rows[i].values.set(key, bestSoFar(c.xs, c.ys, metricBest(metric)));
    });
    // Test-split metrics are one value per run: they belong in the table, not in a chart.
    if (split === 'test') continue;
    const curves = all.chart.map((bySplit) => bySplit.get(split) ?? new Curve(4));
    if (groups) {
      renderGroupChart(key, curves, groups);
      continue;
    }
    const series: ChartSeries[] = [];
    runs.forEach((r, i) => {
      const show = !settings.hidden.has(r.run.runDir);
      const style = runStyle(i);
      series.push({
        label: `${names[i]} (raw)`,
        color: withAlpha(style.color, 0.25),
        faint: true,
        show,
        best: { label: names[i], color: style.color },
      });
      series.push({ label: names[i], color: style.color, width: 2, show, dash: style.dash });
    });
    const options = {
      ...chartScales(key),
      best: metricHasBest(metric) ? metricDirection(metric) : undefined,
      series,
    };
    let chart = charts.get(key);
    if (chart) chart.reconfigure(options);
    else charts.set(key, (chart = newChart(options)));
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
              const curve = (found && curvesFor(found.metric).chart[r].get(found.split)) || new Curve(4);
              curve.ensureSorted();
              return { x: curve.xs, y: curve.ys };
            }),
          }));
        },
      },
      settings.groupMetric ?? defaultGroupMetric(keys.map((k) => k.key)),
      settings.reference,
    );
  benchMark('l3m-charts-set');
  runTable.render(keys, rows, (runDir) => runStyle(runs.findIndex((r) => r.run.runDir === runDir)));
  renderConfigTable();
  benchMark('l3m-render-end');
}

/** The table's metric choices: test metrics first (a paper's table reports those), then the rest. */
function orderedForTable(keys: string[]): string[] {
  return [...keys.filter((k) => k.endsWith(' · test')), ...keys.filter((k) => !k.endsWith(' · test'))];
}

/** One chart of groups: each run's curve smoothed as shown, then mean ± σ over the group (group_view.ts). */
function renderGroupChart(key: string, curves: Curve[], groups: RunGroup[]): void {
  const parts = groupChartParts(
    groups.map((g, k) => ({
      key: g.key,
      color: styleOfSlot(k).color,
      hidden: settings.hiddenGroups.has(g.key),
      runs: g.runs.map((r) => {
        const c = curves[r];
        c.ensureSorted();
        return { name: names[r], x: c.xs, y: smoothExponential(c.ys, settings.smoothing) };
      }),
    })),
    settings.showRuns,
  );
  const options = {
    ...chartScales(key),
    series: parts.series,
    bands: parts.bands,
  };
  let chart = charts.get(key);
  if (chart) chart.reconfigure(options);
  else charts.set(key, (chart = newChart(options)));
  chart.setGroups(parts.data);
}

/**
 * A new chart in the grid. The grid's columns are of equal width, so a chart takes the width of one
 * already drawn: only the first is measured, and adding twenty runs' charts forces one layout, not
 * one per chart.
 */
function newChart(options: ChartOptions): Chart {
  const drawn = [...charts.values()].find((c) => c.uplot !== null);
  return new Chart(grid, options, bridge, drawn?.uplot?.width);
}

/** A chart's title in words and its axes as chosen (metric_labels.ts, axis_scales.ts). */
function chartScales(key: string) {
  return {
    title: chartKeyTitle(key),
    xLabel: xAxisTitle(settings.xAxis),
    logY: settings.yScale === 'log',
    xScale: settings.xScale,
    yScale: settings.yScale,
  };
}

function renderGroupLegend(groups: RunGroup[]): void {
  groupLegend.replaceChildren();
  groups.forEach((g, k) => {
    const item = document.createElement('span');
    item.className = 'legend-item';
    item.dataset.group = g.key;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = styleOfSlot(k).color;
    const label = `${g.key} (${g.runs.length} run${g.runs.length === 1 ? '' : 's'})`;
    const box = checkbox(label, !settings.hiddenGroups.has(g.key), (checked) => {
      if (checked) settings.hiddenGroups.delete(g.key);
      else settings.hiddenGroups.add(g.key);
      render();
      saveState();
    });
    item.append(swatch, box);
    groupLegend.append(item);
  });
}

function renderRunLegend(): void {
  runLegend.render(
    runs.map((r, i) => ({
      runDir: r.run.runDir,
      name: names[i],
      id: r.run.name,
      style: styleOf(r.run.runDir),
      shown: !settings.hidden.has(r.run.runDir),
    })),
  );
}

/** Shows and hides runs in place (no rebuild of the charts), then the legend and state follow. */
function applyVisibility(): void {
  runs.forEach((r, i) => {
    const show = !settings.hidden.has(r.run.runDir);
    for (const chart of charts.values()) {
      const u = chart.uplot;
      if (!u || u.series.length !== 2 * runs.length + 1) continue;
      if (u.series[2 * i + 1].show !== show) u.setSeries(2 * i + 1, { show });
      if (u.series[2 * i + 2].show !== show) u.setSeries(2 * i + 2, { show });
    }
  });
  renderRunLegend();
  saveState();
}

/** Highlights a run's smoothed curve in every chart (uPlot dims the other series), or none. */
function highlight(runDir: string | null): void {
  if (currentGroups()) return;
  const i = runDir === null ? -1 : runs.findIndex((r) => r.run.runDir === runDir);
  for (const chart of charts.values()) {
    const u = chart.uplot;
    if (!u || u.series.length !== 2 * runs.length + 1) continue;
    u.setSeries(i < 0 ? null : 2 * i + 2, { focus: true });
  }
  highlighted = i < 0 ? null : runDir;
}
let highlighted: string | null = null;

function renderConfigTable(): void {
  configTable.replaceChildren();
  const fields = configFields(
    runs.map((r) => r.config),
    settings.configAll,
  );
  const head = configTable.createTHead().insertRow();
  for (const [i, text] of ['field', ...names].entries()) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    if (i > 0) th.title = runs[i - 1].run.name;
    head.append(th);
  }
  const body = configTable.createTBody();
  if (!settings.configAll && runs.length < 2) {
    body.insertRow().insertCell().textContent = 'Add a second run to see how the configs differ.';
    return;
  }
  if (fields.length === 0) {
    body.insertRow().insertCell().textContent = settings.configAll
      ? 'No config could be read.'
      : 'The configs are identical in every field the runs use.';
    return;
  }
  for (const d of fields) {
    const tr = body.insertRow();
    tr.dataset.path = d.path;
    if (d.differs) tr.dataset.differs = '';
    tr.insertCell().textContent = d.path;
    d.values.forEach((v, i) => {
      const td = tr.insertCell();
      td.textContent =
        runs[i].config === null ? 'unreadable' : v === undefined ? '(absent)' : d.used[i] ? v : `${v} (not used)`;
      if (!d.used[i]) td.className = 'unused';
      td.style.borderLeft = `2px solid ${styleOf(runs[i].run.runDir).color}`;
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
    xScale: settings.xScale,
    yScale: settings.yScale,
    hidden: [...settings.hidden],
    sort: tableSettings.sort,
    groupBy: settings.groupBy,
    showRuns: settings.showRuns,
    groupMetric: settings.groupMetric,
    reference: settings.reference,
    hiddenGroups: [...settings.hiddenGroups],
    slots: settings.slots,
    legendFilter: settings.legendFilter,
    legendOpen: settings.legendOpen,
    tableMetrics: tableSettings.metrics,
    configAll: settings.configAll,
  });
}

Object.assign(window, {
  l3mPanel: {
    charts: () =>
      [...charts].map(([key, chart]) => ({
        key,
        title: chart.title,
        uplot: chart.uplot,
        best: chart.best,
        notes: chart.notes,
        picture: () => chart.picture(),
      })),
    /** The runs in the order of the charts' series (run i is series 2i + 1 raw and 2i + 2 smoothed). */
    runs: () =>
      runs.map((r, i) => ({
        runDir: r.run.runDir,
        id: r.run.name,
        name: names[i],
        ...styleOf(r.run.runDir),
        shown: !settings.hidden.has(r.run.runDir),
      })),
    highlighted: () => highlighted,
    metricsTable: () => {
      const { columns, rows } = runTable.shown;
      return {
        columns: columns.map((c) => c.header),
        rows: rows.map((r) => ({ runDir: r.runDir, name: r.name, values: Object.fromEntries(r.values) })),
      };
    },
    differingFields: () =>
      [...configTable.querySelectorAll<HTMLElement>('tbody tr[data-path][data-differs]')].map((tr) => tr.dataset.path),
    configFields: () =>
      [...configTable.querySelectorAll<HTMLElement>('tbody tr[data-path]')].map((tr) => tr.dataset.path),
    problems: () => problems.all(),
    groups: () => currentGroups()?.map((g) => ({ key: g.key, runs: g.runs.map((r) => runs[r].run.name) })) ?? null,
    groupTable: () => groupTableView.shown,
  },
});
