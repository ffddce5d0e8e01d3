// The lightcone inspector: true and generated slices side by side with their difference, a slider
// (and play/pause) over the time step / redshift, colour maps for δT_21 with colour bars on a
// shared or per-panel scale, a read-out of the values under the mouse, the global signal (mean
// δT_21 per slice) of both lightcones with the current slice marked, and the 2D power spectrum of
// the current slice, true against generated. For regression runs, the Fig. 6 view instead.
// Slices arrive as the bytes of their .npy files; a missing or corrupt file leaves that panel
// saying why while the rest still shows.
import '@vscode-elements/elements';
import '../shared/panel.css';
import './inspector.css';
import type uPlot from 'uplot';
import { connect } from '../shared/vscode_api';
import { parseNpy, type Float32Npy as NpyArray } from '../../sidecar/protocol/npy_format';
import { finiteRange } from '../shared/colormaps';
import type { PowerSpectrum } from '../shared/power_spectrum';
import { Chart, formatValue } from '../shared/chart';
import { ProblemList } from '../shared/problems';
import { labelled, runSubtitle, select } from '../shared/controls';
import { pngOf } from '../shared/export';
import { benchMark } from '../shared/bench_marks';
import { seriesColors, foreground, cssVar } from '../shared/theme';
import { SliceView } from './slice_view';
import { SliceWindows, type SlicePanel } from './slice_windows';
import { defaultPercentiles } from './intensity_window';
import { SyncedZoom } from './synced_zoom';
import { SpectrumClient } from './spectrum_client';
import { showRegression } from './regression_view';
import {
  physicalSpectrum,
  redshiftLabel,
  signalAxis,
  sliceGrid,
  spectrumKLabel,
  type SignalAxis,
  type SliceGrid,
} from './physical_axes';
import { SliceAxes } from './slice_axes';
import { SideView } from './side_view';
import { StepSlider, sampleLabel } from './step_slider';
import { exportFileName, inspectorExportCanvas } from './inspector_export';
import type {
  ColormapName,
  DisplayTransform,
  HostMessage,
  InspectorDataPreview,
  InspectorInit,
  InspectorSample,
  SampleIndex,
} from '../shared/panel_protocol';

const app = document.getElementById('app') ?? document.body;
const title = document.createElement('h2');
title.textContent = 'Lightcone inspector';
const subtitle = document.createElement('div');
subtitle.className = 'subtitle';
// Says what the panel is waiting for until there is something to show, so opening is never a blank page.
const loading = document.createElement('div');
loading.className = 'loading';
loading.setAttribute('role', 'status');
loading.textContent = 'Opening the run: reading samples/index.json and eval/regression.json…';
app.append(title, subtitle, loading);

const bridge = connect(onMessage);
const saved = bridge.state('inspector');
const view = {
  runDir: saved?.runDir ?? '',
  sample: saved?.sample ?? 0,
  slice: saved?.slice ?? 0,
  colormap: saved?.colormap ?? 'diverging',
  scale: saved?.scale ?? 'shared',
  transform: saved?.transform ?? 'linear',
  percentiles: saved?.percentiles ?? defaultPercentiles,
  signalAxis: saved?.signalAxis ?? 'redshift',
};

const toolbar = document.createElement('div');
toolbar.className = 'toolbar';
app.append(toolbar);
let sampleSelect: HTMLElement & { value: string } = select([], '', () => undefined);
labelled(toolbar, 'Sample', sampleSelect);
const colormapSelect = select<ColormapName>(
  [
    ['diverging', 'Diverging (RdBu, 0 = white)'],
    ['sequential', 'Sequential (viridis)'],
  ],
  view.colormap,
  (v) => {
    view.colormap = v;
    draw();
    saveState();
  },
);
labelled(toolbar, 'Colour map', colormapSelect);
const scaleSelect = select<'shared' | 'per-panel'>(
  [
    ['shared', 'Shared'],
    ['per-panel', 'Per panel'],
  ],
  view.scale,
  (v) => {
    view.scale = v;
    draw();
    saveState();
  },
);
labelled(toolbar, 'Scale', scaleSelect);
const percentileOptions: [string, string][] = [
  ['1-99', '1–99 %'],
  ['0.1-99.9', '0.1–99.9 %'],
  ['0-100', 'min–max'],
];
const windowSelect = select(percentileOptions, `${view.percentiles.lo}-${100 - view.percentiles.lo}`, (v) => {
  const lo = Number(v.split('-')[0]);
  view.percentiles = { lo, hi: 100 - lo };
  windows.percentiles = view.percentiles;
  windows.reset();
  draw();
  saveState();
});
windowSelect.title = 'The window each colour bar spans: percentiles of the lightcone (drag on a colour bar to set it)';
labelled(toolbar, 'Window', windowSelect);
const transformSelect = select<DisplayTransform>(
  [
    ['linear', 'Linear'],
    ['symlog', 'Symmetric log'],
    ['sgn-ln', 'sgn·ln(1+|x|), as the model sees it'],
  ],
  view.transform,
  (v) => {
    view.transform = v;
    draw();
    saveState();
  },
);
labelled(toolbar, 'Display', transformSelect);
const resetWindowButton = document.createElement('vscode-button');
resetWindowButton.setAttribute('secondary', '');
resetWindowButton.textContent = 'Reset window';
resetWindowButton.addEventListener('click', () => {
  windows.reset();
  draw();
});
toolbar.append(resetWindowButton);
const exportButton = document.createElement('vscode-button');
exportButton.setAttribute('secondary', '');
exportButton.textContent = 'Export view as PNG';
exportButton.addEventListener('click', () => void exportView());
toolbar.append(exportButton);

const sliceRow = document.createElement('div');
sliceRow.className = 'toolbar';
const play = document.createElement('vscode-button');
play.textContent = 'Play';
play.setAttribute('aria-label', 'Play or pause stepping through the slices');
play.addEventListener('click', () => togglePlay());
const slider = document.createElement('input');
slider.type = 'range';
slider.min = '0';
slider.max = '0';
slider.step = '1';
slider.value = '0';
slider.className = 'slice-slider';
slider.addEventListener('input', () => {
  view.slice = Number(slider.value);
  draw();
  saveState();
});
const sliceLabel = document.createElement('span');
sliceLabel.className = 'slice-label';
sliceRow.append(play);
labelled(sliceRow, 'Slice', slider);
sliceRow.append(sliceLabel);
app.append(sliceRow);
// The sample's training step (a slider where the same stretch was sampled at several checkpoints), the
// global signal's axis, and why slices are labelled by index where they are.
const stepSlider = new StepSlider((sample) => {
  view.sample = sample;
  bridge.post({ type: 'inspector/loadSample', index: sample });
  saveState();
});
const signalAxisSelect = select<SignalAxis>(
  [
    ['redshift', 'Redshift z'],
    ['frequency', 'Observed frequency (MHz)'],
  ],
  view.signalAxis,
  (v) => {
    view.signalAxis = v;
    buildCharts();
    draw();
    saveState();
  },
);
const physicsRow = document.createElement('div');
physicsRow.className = 'toolbar';
physicsRow.append(stepSlider.element);
labelled(physicsRow, 'Global signal against', signalAxisSelect);
const gridNote = document.createElement('span');
gridNote.className = 'grid-note';
physicsRow.append(gridNote);
app.append(physicsRow);

const problems = new ProblemList(app);
const slices = document.createElement('div');
slices.className = 'slices';
app.append(slices);
const truthView = new SliceView(slices, 'True');
const generatedView = new SliceView(slices, 'Generated');
const differenceView = new SliceView(slices, 'Generated − true');
const sliceAxes = [truthView, generatedView, differenceView].map((v) => new SliceAxes(v));
const windows = new SliceWindows();
windows.percentiles = view.percentiles;
const readout = document.createElement('div');
readout.className = 'readout';
readout.setAttribute('aria-live', 'polite');
app.append(readout);
const sideView = new SideView(app);
const chartGrid = document.createElement('div');
chartGrid.className = 'charts';
app.append(chartGrid);
const regressionHost = document.createElement('div');
app.append(regressionHost);

let samples: SampleIndex | null = null;
let runName = '';
/** A run without samples: true slices of its dataset (inspector/dataPreview), shown as the truth alone. */
let preview: { lightcone: string; slices: number[]; redshifts: number[] | null; boxMpc?: number } | null = null;
let truth: NpyArray | null = null;
let generated: NpyArray | null = null;
let difference: Float32Array | null = null;
let globalChart: Chart | null = null;
let spectrumChart: Chart | null = null;
let playing = 0;
/** The slice the power spectrum chart shows now (its answer may come after the slider moved on). */
let spectrumSlice: number | null = null;
const spectra = new SpectrumClient(showSpectra);
const zoom = new SyncedZoom([truthView, generatedView, differenceView], showReadout);
for (const [panel, v] of [
  ['truth', truthView],
  ['generated', generatedView],
  ['difference', differenceView],
] as const)
  v.onWindowDrag = (window) => {
    windows.drag(windows.keyFor(panel, view.scale === 'shared'), window);
    draw();
  };

function onMessage(message: HostMessage): void {
  if (message.type === 'inspector/init') init(message);
  else if (message.type === 'inspector/sample') loadSample(message);
  else if (message.type === 'inspector/dataPreview') showDataPreview(message);
  else if (message.type === 'run/state') subtitle.textContent = runSubtitle(message.record);
}

function init(message: InspectorInit): void {
  title.textContent = `Lightcone inspector — ${message.run.name}`;
  runName = message.run.name;
  subtitle.textContent = runSubtitle(message.run.record);
  if (view.runDir !== message.run.runDir) {
    view.sample = 0;
    view.slice = 0;
  }
  view.runDir = message.run.runDir;
  problems.set('init', message.problems);
  samples = message.samples;
  const entries = samples?.entries ?? [];
  if (entries.length > 0) preview = null;
  const options: [string, string][] = entries.map((e, i) => [String(i), sampleLabel(e)]);
  stepSlider.update(entries, Math.min(view.sample, Math.max(entries.length - 1, 0)));
  loading.textContent =
    entries.length > 0
      ? `Reading the slices of sample ${Math.min(view.sample, entries.length - 1) + 1}…`
      : message.regression
        ? ''
        : "Reading true slices of the run's dataset…";
  const replacement = select(options, String(Math.min(view.sample, Math.max(entries.length - 1, 0))), (v) => {
    view.sample = Number(v);
    view.slice = 0;
    bridge.post({ type: 'inspector/loadSample', index: view.sample });
    saveState();
  });
  sampleSelect.replaceWith(replacement);
  sampleSelect = replacement;
  regressionHost.replaceChildren();
  if (message.regression) showRegression(regressionHost, message.regression, bridge);
  if (entries.length > 0) {
    slices.style.display = '';
    toolbar.style.display = '';
    if (view.sample >= entries.length) view.sample = 0;
    bridge.post({ type: 'inspector/loadSample', index: view.sample });
  } else {
    slices.style.display = message.regression ? 'none' : '';
    toolbar.style.display = message.regression ? 'none' : '';
    sliceRow.style.display = 'none';
    if (!preview)
      for (const v of [truthView, generatedView, differenceView])
        v.showMissing('this run has no samples yet (samples/index.json); reading true slices of its dataset…');
  }
  saveState();
}

/** No samples yet: the true slices of the run's dataset in the truth panel, marked as data. */
function showDataPreview(message: InspectorDataPreview): void {
  if ((samples?.entries.length ?? 0) > 0) return;
  loading.textContent = '';
  problems.set('sample', message.problems);
  const [count, rows, cols] = message.shape;
  if (!message.data || count === 0) {
    for (const v of [truthView, generatedView, differenceView])
      v.showMissing('this run has no samples yet, and its dataset could not be read (see above)');
    return;
  }
  preview = {
    lightcone: message.lightcone,
    slices: message.slices,
    redshifts: message.redshifts,
    boxMpc: message.boxMpc,
  };
  truth = { shape: [count, rows, cols], data: new Float32Array(message.data) };
  generated = null;
  difference = null;
  windows.setData({ truth: truth.data });
  slices.style.display = '';
  toolbar.style.display = '';
  slider.max = String(count - 1);
  view.slice = Math.min(view.slice, count - 1);
  slider.value = String(view.slice);
  sliceRow.style.display = '';
  buildCharts();
  draw();
}

/** The x of each slice for the global signal: redshift or frequency when known, else the lightcone's slice number. */
function sliceAxis(count: number): { x: number[]; label: string } {
  return signalAxis(currentGrid(count), count, view.signalAxis, preview?.slices ?? []);
}

/** The redshift grid of the slices shown, or why there is none. */
function currentGrid(count: number): SliceGrid {
  const entry = samples?.entries[view.sample];
  if (entry) return sliceGrid(entry.redshifts, count, `Sample ${view.sample + 1} (samples/index.json)`);
  if (preview) return sliceGrid(preview.redshifts, count, `The dataset's lightcone ${preview.lightcone}`);
  return sliceGrid(null, count, 'This view');
}

function loadSample(message: InspectorSample): void {
  const entry = samples?.entries[message.index];
  loading.textContent = '';
  stepSlider.update(samples?.entries ?? [], message.index);
  sampleSelect.value = String(message.index);
  const found: string[] = [...message.problems];
  const read = (bytes: ArrayBuffer | null, file: string | undefined): NpyArray | null => {
    if (!bytes) return null;
    const parsed = parseNpy(bytes, `samples/${file ?? '?'}`);
    if ('error' in parsed) {
      found.push(parsed.error);
      return null;
    }
    if (parsed.array.shape.length !== 3) {
      found.push(`samples/${file}: shape (${parsed.array.shape.join(', ')}) is not [slices, x, y]`);
      return null;
    }
    return parsed.array;
  };
  truth = read(message.truth, entry?.truth);
  generated = read(message.generated, entry?.generated);
  if (truth && generated && (truth.shape[1] !== generated.shape[1] || truth.shape[2] !== generated.shape[2])) {
    found.push(
      `the generated slices are ${generated.shape[1]}×${generated.shape[2]} but the true ones ${truth.shape[1]}×${truth.shape[2]}; showing them apart, without a difference`,
    );
  }
  difference = truth && generated && sameSliceShape() ? differenceOf(truth, generated, generatedOffset()) : null;
  windows.setData({ truth: truth?.data, generated: generated?.data, difference });
  const count = Math.max(truth?.shape[0] ?? 0, (generated?.shape[0] ?? 0) + generatedOffset());
  slider.max = String(Math.max(count - 1, 0));
  view.slice = Math.min(view.slice, Math.max(count - 1, 0));
  slider.value = String(view.slice);
  problems.set('sample', found);
  sliceRow.style.display = count > 0 ? '' : 'none';
  buildCharts();
  draw();
}

/** Slices of `truth` before the first slice of `generated`: 0 when the generated file repeats the context. */
function generatedOffset(): number {
  if (!truth || !generated) return 0;
  return Math.max(truth.shape[0] - generated.shape[0], 0);
}

function sameSliceShape(): boolean {
  return !!truth && !!generated && truth.shape[1] === generated.shape[1] && truth.shape[2] === generated.shape[2];
}

function differenceOf(t: NpyArray, g: NpyArray, offset: number): Float32Array {
  const size = t.shape[1] * t.shape[2];
  const out = new Float32Array(t.data.length).fill(NaN);
  for (let s = offset; s < t.shape[0] && s - offset < g.shape[0]; s++) {
    for (let i = 0; i < size; i++) out[s * size + i] = g.data[(s - offset) * size + i] - t.data[s * size + i];
  }
  return out;
}

function draw(): void {
  const entry = samples?.entries[view.sample];
  const s = view.slice;
  const context = entry ? s < entry.contextSlices : false;
  const count = Number(slider.max) + 1;
  const grid = currentGrid(count);
  const physical = redshiftLabel(grid, s);
  gridNote.textContent = grid.kind === 'index' ? grid.reason : '';
  const lightconeSlice = entry ? entry.firstSlice - entry.contextSlices + s : preview ? preview.slices[s] : s;
  const source = preview ? ` · data (no samples yet): lightcone ${preview.lightcone}` : '';
  sliceLabel.textContent = `${s + 1} / ${count} · lightcone slice ${lightconeSlice}${physical ? ` · ${physical}` : ''}${context ? ' · context (ground truth given to the model)' : ''}${source}`;
  benchMark('l3m-inspector-draw-start');
  // The δT_b views on the diverging map keep their window symmetric about zero, so white stays δT_b = 0.
  const windowOf = (panel: SlicePanel, symmetric: boolean) =>
    windows.window(windows.keyFor(panel, view.scale === 'shared'), symmetric);
  const show = (
    v: SliceView,
    array: NpyArray | null,
    sliceIndex: number,
    panel: SlicePanel,
    label: string,
    why: string,
  ) => {
    const symmetric = view.colormap === 'diverging';
    const range = array ? windowOf(panel, symmetric) : null;
    if (!array || !range) return v.showMissing(why);
    if (sliceIndex < 0 || sliceIndex >= array.shape[0]) return v.showMissing(`no slice ${s + 1} in this file`);
    const [, rows, cols] = array.shape;
    v.show(array.data, sliceIndex * rows * cols, rows, cols, range, view.colormap, view.transform, symmetric);
    v.setCaption(label);
  };
  const offset = generatedOffset();
  show(truthView, truth, s, 'truth', preview ? 'True — data (no samples yet)' : 'True', 'could not be read');
  const generatedIsContext = context && offset === 0;
  show(
    generatedView,
    generated,
    s - offset,
    'generated',
    generatedIsContext ? 'Generated — context (= true)' : 'Generated',
    preview ? "no samples yet: the true slices are from the run's dataset" : 'could not be read',
  );
  const differenceWindow = difference ? windowOf('difference', true) : null;
  if (difference && truth && differenceWindow) {
    const [, rows, cols] = truth.shape;
    const slice = difference.subarray(s * rows * cols, (s + 1) * rows * cols);
    const r = finiteRange(slice);
    if (r) {
      differenceView.show(difference, s * rows * cols, rows, cols, differenceWindow, 'diverging', view.transform, true);
      differenceView.setCaption('Generated − true');
    } else differenceView.showMissing(context && offset > 0 ? 'context slice (not generated)' : 'no finite values');
  } else differenceView.showMissing('needs both true and generated slices');
  drawPhysics(s, offset);
  globalChart?.uplot?.redraw(false, false);
  requestSpectra();
  benchMark('l3m-inspector-draw-end');
}

/** The comoving side of the slices shown [Mpc], or null when their sample or preview does not give it. */
function sliceSide(): number | null {
  return samples?.entries[view.sample]?.boxMpc ?? preview?.boxMpc ?? null;
}

/** The side view through the whole cone and the slices' axes in Mpc, for slice `s`. */
function drawPhysics(s: number, offset: number): void {
  const entry = samples?.entries[view.sample];
  const cells = truth?.shape[2] ?? generated?.shape[2] ?? 0;
  for (const axes of sliceAxes) axes.set(sliceSide(), cells);
  const range = truthView.range;
  sideView.show({
    truth: range ? truth : null,
    generated,
    offset,
    boundary: entry ? entry.contextSlices : null,
    slice: s,
    range: range ?? { lo: 0, hi: 1 },
    map: view.colormap,
  });
}

function sliceMeans(array: NpyArray): (number | null)[] {
  const [n, rows, cols] = array.shape;
  const size = rows * cols;
  return Array.from({ length: n }, (_, s) => {
    let sum = 0;
    for (let i = 0; i < size; i++) sum += array.data[s * size + i];
    const mean = sum / size;
    return Number.isFinite(mean) ? mean : null;
  });
}

function buildCharts(): void {
  globalChart?.destroy();
  spectrumChart?.destroy();
  globalChart = null;
  spectrumChart = null;
  spectrumSlice = null;
  if (!truth && !generated) return;
  const [blue, orange] = seriesColors();
  const count = Number(slider.max) + 1;
  const axis = sliceAxis(count);
  const x = axis.x;
  const offset = generatedOffset();
  const truthMeans = truth ? sliceMeans(truth) : [];
  const generatedMeans = generated ? sliceMeans(generated) : [];
  const data: (number | null)[][] = [
    x,
    x.map((_, s) => truthMeans[s] ?? null),
    x.map((_, s) => generatedMeans[s - offset] ?? null),
  ];
  if (x.length > 1 && x[0] > x[x.length - 1]) {
    for (const col of data) col.reverse();
  }
  globalChart = new Chart(
    chartGrid,
    {
      title: 'Global signal ⟨δT_b⟩ [mK]',
      xLabel: axis.label,
      logY: false,
      series: [
        { label: 'true', color: blue, width: 2 },
        { label: 'generated', color: orange, width: 2 },
      ],
      plugins: [currentSliceMarker(() => axis.x[view.slice])],
    },
    bridge,
  );
  globalChart.setData(data);
  spectrumChart = new Chart(
    chartGrid,
    {
      title: 'Power spectrum of the slice, Δ²(k) [mK²]',
      xLabel: spectrumKLabel(sliceSide()),
      logY: true,
      logX: true,
      series: [
        { label: 'true', color: blue, width: 2 },
        { label: 'generated', color: orange, width: 2 },
      ],
    },
    bridge,
  );
}

/** Asks for the current slice's spectra: the worker computes them while the page stays free for the slider. */
function requestSpectra(): void {
  if (!spectrumChart) return;
  const s = view.slice;
  const copy = (array: NpyArray | null, index: number) => {
    if (!array || index < 0 || index >= array.shape[0]) return null;
    const [, rows, cols] = array.shape;
    return { values: array.data.slice(index * rows * cols, (index + 1) * rows * cols), rows, cols };
  };
  spectra.request([copy(truth, s), copy(generated, s - generatedOffset())], s);
}

function showSpectra([t, g]: (PowerSpectrum | null)[], slice: number): void {
  if (!spectrumChart) return;
  spectrumSlice = slice;
  const k = (t ?? g)?.k ?? [];
  // Power 10¹² below the peak is round-off of a (near) pure mode, not signal: leave it off the log axis.
  const peak = Math.max(...[...(t?.power ?? []), ...(g?.power ?? [])].map((p) => p ?? 0));
  const clean = (power: (number | null)[] | undefined) =>
    (power ?? k.map(() => null)).map((p) => (p !== null && p > peak * 1e-12 ? p : null));
  const shape = (truth ?? generated)?.shape;
  const cells = shape ? shape[1] * shape[2] : 1;
  const side = sliceSide();
  const truthSpectrum = physicalSpectrum(k, clean(t?.power), cells, side);
  const generatedSpectrum = physicalSpectrum(k, clean(g?.power), cells, side);
  spectrumChart.setData([truthSpectrum.k, truthSpectrum.delta2, generatedSpectrum.delta2]);
}

/** A vertical line at the current slice, drawn after the series. */
function currentSliceMarker(at: () => number): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const x = Math.round(u.valToPos(at(), 'x', true));
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = cssVar('--vscode-editorCursor-foreground', foreground());
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
      },
    },
  };
}

function showReadout(hit: { row: number; col: number; value: number } | null): void {
  if (!hit) {
    readout.textContent = '';
    return;
  }
  const at = (v: SliceView) => (v.rows === truthView.rows ? v.valueOf(hit.row, hit.col) : undefined);
  const parts = [`x ${hit.col}, y ${hit.row}`];
  for (const [name, v] of [
    ['true', truthView],
    ['generated', generatedView],
    ['difference', differenceView],
  ] as const) {
    const value = at(v);
    if (value !== undefined) parts.push(`${name} ${Number.isFinite(value) ? formatValue(value) : 'NaN'} mK`);
  }
  readout.textContent = parts.join(' · ');
}

function togglePlay(): void {
  if (playing) {
    clearInterval(playing);
    playing = 0;
    play.textContent = 'Play';
    return;
  }
  play.textContent = 'Pause';
  playing = window.setInterval(() => {
    const max = Number(slider.max);
    view.slice = view.slice >= max ? 0 : view.slice + 1;
    slider.value = String(view.slice);
    draw();
  }, 125);
}

/** The view as it stands, drawn for the export (inspector_export.ts). */
function exportCanvas(scale = 2): { canvas: HTMLCanvasElement; texts: string[] } {
  const { x, unit } = sliceAxes[0].visible();
  const extent =
    unit === 'Mpc'
      ? `x, y: ${formatValue(x[0])}–${formatValue(x[1])} comoving Mpc`
      : `x, y: ${formatValue(x[0])}–${formatValue(x[1])} cells (the slice side in Mpc is unknown)`;
  return inspectorExportCanvas(
    {
      runName,
      sliceLabel: sliceLabel.textContent ?? '',
      axes: extent,
      views: [truthView, generatedView, differenceView],
      side: sideView.canvases(),
    },
    scale,
  );
}

async function exportView(): Promise<void> {
  const { canvas } = exportCanvas();
  bridge.post({ type: 'export', fileName: exportFileName(runName), mime: 'image/png', data: await pngOf(canvas) });
}

function saveState(): void {
  bridge.saveState({ kind: 'inspector', ...view });
}

Object.assign(window, {
  l3mPanel: {
    views: { truth: truthView, generated: generatedView, difference: differenceView },
    slider,
    view: () => ({ ...view }),
    problems: () => problems.all(),
    globalChart: () => globalChart?.uplot ?? null,
    spectrumChart: () => spectrumChart?.uplot ?? null,
    /** The slice whose spectra the chart shows, and where they are computed. */
    spectrum: () => ({ slice: spectrumSlice, mode: spectra.mode, fallbackReason: spectra.fallbackReason }),
    useSpectrumMode: (mode: 'worker' | 'main-thread') => spectra.use(mode),
    zoom,
    exportView,
    exportCanvas,
    stepSlider,
    sideView,
    sliceAxes,
    gridNote,
    loading,
  },
});
