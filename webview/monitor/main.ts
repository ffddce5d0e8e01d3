// The training monitor: one chart per metric (loss first, then learning rate, throughput, gradient
// norm and whatever else the run logs), one curve per split, against step, epoch or wall time.
// Exponential smoothing draws the smoothed curve over the faint raw one (as TensorBoard does); the
// y axis can be logarithmic. Records arrive once in `monitor/init` and then in `monitor/append` as
// the run writes them; appends are batched into one redraw per animation frame, and a chart the
// user zoomed keeps its zoom while it grows.
import '@vscode-elements/elements';
import '../shared/panel.css';
import './monitor.css';
import { connect } from '../shared/vscode_api';
import { MetricTable, recordsToColumns } from '../shared/metric_table';
import { Chart, formatDuration, type ChartSeries } from '../shared/chart';
import {
  Curve,
  SmoothedCurve,
  addMetricNames,
  appendToCurve,
  metricNames,
  nonFiniteProblems,
  splitCurves,
  undefinedMetricReason,
} from '../shared/metric_series';
import { ProblemList } from '../shared/problems';
import { seriesColors, withAlpha, onThemeChange } from '../shared/theme';
import { metricTitle, xAxisTitle } from '../shared/metric_labels';
import { isAxisScale } from '../shared/axis_scales';
import { metricDirection, metricHasBest } from '../../sidecar/protocol/group_stats';
import { controlRow } from '../shared/controls';
import { RunHeader, lastTrainRecord } from './run_header';
import { TestResults, chartedMetricNames, testRecordsOf } from './test_results';
import { SystemSection } from './system_section';
import { benchMark } from '../shared/bench_marks';
import type { HostMessage, MetricRecord, RunSummary } from '../shared/panel_protocol';

// The test split is one record at the end of a run: a table (test_results.ts), not one-point charts.
const splitOrder = ['train', 'val'] as const;

interface MetricChart {
  chart: Chart;
  curves: Map<string, Curve>;
  splits: string[];
  /** Each split's curve with its smoothed copy, updated in place as points arrive. */
  smoothed: SmoothedCurve[];
  dirty: boolean;
}

const app = document.getElementById('app') ?? document.body;
let run: RunSummary | null = null;
const table = new MetricTable();
const metrics: string[] = [];
const charts = new Map<string, MetricChart>();
let frame = 0;
/** Test lightcones of the run's evaluation, null until one is known (see MonitorInit). */
let testLightcones: number | null = null;

const title = document.createElement('h2');
title.textContent = 'Training monitor';
app.append(title);
const header = new RunHeader(app);

const bridge = connect(onMessage);
const saved = bridge.state('monitor');
const settings = {
  xAxis: saved?.xAxis ?? 'step',
  smoothing: saved?.smoothing ?? 0.6,
  xScale: isAxisScale(saved?.xScale) ? saved.xScale : 'linear',
  // State saved before the scale choice had only a log y switch.
  yScale: isAxisScale(saved?.yScale) ? saved.yScale : saved?.logY ? 'log' : 'linear',
};

const controls = controlRow(app, {
  xAxis: settings.xAxis,
  smoothing: settings.smoothing,
  xScale: settings.xScale,
  yScale: settings.yScale,
  onXAxis: (x) => {
    settings.xAxis = x;
    rebuildCurves();
    saveState();
  },
  onSmoothing: (s) => {
    settings.smoothing = s;
    for (const m of charts.values()) {
      for (const c of m.smoothed) c.setWeight(s);
      m.dirty = true;
    }
    schedule();
    saveState();
  },
  onXScale: (scale) => {
    settings.xScale = scale;
    reconfigureCharts();
    saveState();
  },
  onYScale: (scale) => {
    settings.yScale = scale;
    reconfigureCharts();
    saveState();
  },
});
const problems = new ProblemList(app);
// Values that are missing for a known reason: said plainly, apart from what could not be read.
const notes = document.createElement('div');
notes.className = 'notes';
app.append(notes);
const empty = document.createElement('div');
empty.className = 'empty';
empty.textContent = 'Waiting for the run to write metrics…';
const testResults = new TestResults(app, (metric) => undefinedMetricReason(metric, 'test', testLightcones));
const grid = document.createElement('div');
grid.className = 'charts';
app.append(empty, grid);
const systemSection = new SystemSection(app, bridge);
// The charts redraw their axes in the new theme themselves; the curves take the theme's chart colours.
onThemeChange(reconfigureCharts);

function reconfigureCharts(): void {
  for (const [metric, m] of charts) {
    m.chart.reconfigure(chartOptions(metric, m.splits));
    m.dirty = true;
  }
  schedule();
}

function onMessage(message: HostMessage): void {
  if (message.type === 'monitor/init') {
    run = message.run;
    title.textContent = `Training monitor — ${run.name}`;
    header.setRecord(run.record, true);
    empty.textContent = header.waitingText();
    table.clear();
    metrics.length = 0;
    problems.set('metrics', message.problems);
    testLightcones = message.testLightcones;
    table.append(message.columns);
    addMetricNames(chartedMetricNames(message.columns), metrics);
    const lastTrain = lastTrainRecord(message.columns);
    if (lastTrain) header.seeRecords([lastTrain]);
    testResults.clear();
    testResults.add(testRecordsOf(message.columns));
    systemSection.clear();
    systemSection.add(message.system, message.systemSkipped);
    rebuildCurves();
    // Draw the first load now rather than on the next animation frame.
    cancelAnimationFrame(frame);
    render();
    saveState();
  } else if (message.type === 'monitor/append') {
    if (message.problems.length > 0) problems.add('metrics', message.problems);
    if (message.testLightcones !== undefined) testLightcones = message.testLightcones;
    if (message.system || message.systemSkipped) systemSection.add(message.system ?? [], message.systemSkipped ?? 0);
    addRecords(message.records, false);
  } else if (message.type === 'run/state' && run) {
    run = { ...run, record: message.record };
    header.setRecord(message.record);
    empty.textContent = header.waitingText();
  } else if (message.type === 'run/progress') {
    header.setProgress(message.progress);
    empty.textContent = header.waitingText();
  }
}

function addRecords(batch: MetricRecord[], rebuild: boolean): void {
  table.append(recordsToColumns(batch));
  header.seeRecords(batch);
  testResults.add(batch);
  const before = metrics.length;
  metricNames(
    batch.filter((r) => r.split !== 'test'),
    metrics,
  );
  if (rebuild || metrics.length !== before) {
    rebuildCurves();
    return;
  }
  for (const r of batch) {
    if (r.split === 'test') continue;
    for (const metric of metrics) {
      if (!(metric in r)) continue;
      const m = charts.get(metric);
      if (!m) continue;
      const curve = m.curves.get(r.split);
      if (!curve) {
        // A split appears for the first time (the first validation): the chart needs a new series.
        rebuildCurves();
        return;
      }
      appendToCurve(curve, r, metric, settings.xAxis);
      m.dirty = true;
    }
  }
  schedule();
}

/** Recomputes every curve from all records (new metric, new split, or another x axis). */
function rebuildCurves(): void {
  const wanted = new Set(metrics);
  for (const [metric, m] of charts)
    if (!wanted.has(metric)) {
      m.chart.destroy();
      charts.delete(metric);
    }
  for (const metric of metrics) {
    const curves = splitCurves(table.batches, metric, settings.xAxis);
    const present = splitOrder.flatMap((split) => {
      const curve = curves.get(split);
      return curve ? [{ split, curve }] : [];
    });
    const splits = present.map((p) => p.split);
    const existing = charts.get(metric);
    const smoothed = present.map((p) => new SmoothedCurve(p.curve, settings.smoothing));
    if (existing) {
      existing.curves = curves;
      existing.splits = splits;
      existing.smoothed = smoothed;
      existing.chart.reconfigure(chartOptions(metric, splits));
      existing.dirty = true;
    } else {
      charts.set(metric, {
        chart: new Chart(grid, chartOptions(metric, splits), bridge),
        curves,
        splits,
        smoothed,
        dirty: true,
      });
    }
  }
  // Keep the grid in metric order (loss first).
  for (const metric of metrics) {
    const m = charts.get(metric);
    if (m) grid.append(m.chart.element);
  }
  schedule();
}

function chartOptions(metric: string, splits: string[]) {
  const colors = seriesColors();
  const series: ChartSeries[] = [];
  const best = metricHasBest(metric) ? metricDirection(metric) : undefined;
  splits.forEach((split, i) => {
    const color = colors[i % colors.length];
    // The best so far is that of the raw values, marked in the split's full colour.
    series.push({
      label: `${split} (raw)`,
      color: withAlpha(color, 0.25),
      faint: true,
      best: best ? { label: split, color } : undefined,
    });
    series.push({ label: split, color, width: 2 });
  });
  return {
    title: metricTitle(metric),
    xLabel: xAxisTitle(settings.xAxis),
    logY: settings.yScale === 'log',
    xScale: settings.xScale,
    yScale: settings.yScale,
    best,
    series,
    formatX: settings.xAxis === 'wall_time' ? formatDuration : undefined,
  };
}

function schedule(): void {
  if (frame === 0) frame = requestAnimationFrame(render);
}

/** Redraws the charts whose curves changed; one pass per animation frame however many appends came. */
function render(): void {
  frame = 0;
  benchMark('l3m-render-start');
  empty.style.display = table.length === 0 ? '' : 'none';
  for (const [, m] of charts) {
    if (!m.dirty) continue;
    m.dirty = false;
    m.chart.setGroups(
      m.smoothed.map((c) => c.group()),
      m.chart.zoomed,
    );
  }
  const unexplained: { label: string; curve: Curve }[] = [];
  const explained: string[] = [];
  for (const [metric, m] of charts) {
    for (const split of m.splits) {
      const curve = m.curves.get(split);
      if (!curve || curve.nonFinite === 0) continue;
      const label = `${metricTitle(metric)} (${split})`;
      const reason = undefinedMetricReason(metric, split, testLightcones);
      if (reason === null) unexplained.push({ label, curve });
      else explained.push(`${label}: ${reason}`);
    }
  }
  problems.set('nan', [
    ...nonFiniteProblems(unexplained, settings.xAxis),
    ...testResults.unexplained().map((metric) => `${metricTitle(metric)} (test): the value is NaN or infinite`),
  ]);
  for (const { metric, reason } of testResults.explained()) explained.push(`${metricTitle(metric)} (test): ${reason}`);
  notes.textContent = explained.join('\n');
}

function saveState(): void {
  bridge.saveState({ kind: 'monitor', runDir: run?.runDir ?? '', ...settings, logY: settings.yScale === 'log' });
}

// The browser tests and the benchmark read the charts' data through this handle.
Object.assign(window, {
  l3mPanel: {
    // points: the points of the chart's longest curve; uPlot holds them decimated above decimationThreshold.
    charts: () =>
      [...charts].map(([metric, m]) => ({
        metric,
        title: m.chart.title,
        uplot: m.chart.uplot,
        best: m.chart.best,
        notes: m.chart.notes,
        picture: () => m.chart.picture(),
        points: Math.max(0, ...m.smoothed.map((c) => c.curve.length)),
      })),
    problems: () => problems.all(),
    header: () => header.text(),
    testResults: () => testResults.rows(),
    system: () => systemSection.state(),
    settings: () => ({ ...settings }),
    controls,
  },
});
