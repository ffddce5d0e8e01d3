// A chart card: a uPlot plot (canvas; fast at 100k points per curve) with a title in words, PNG, SVG
// and CSV export, the theme's colours (followed live), a live hover read-out (uPlot's legend), zoom
// and pan per axis (chart_zoom.ts) with a reset, linear, log or symlog axes (axis_scales.ts) with a
// note of what a log axis leaves out, and each curve's best so far for a metric with a direction
// (best_so_far.ts). A scale's distribution cannot change in place in uPlot, so changing one rebuilds
// the plot.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PanelBridge } from './vscode_api';
import { exportCsv, exportPngBytes, exportSvg, svgToPng } from './export';
import { background, foreground, gridColor, onThemeChange } from './theme';
import { benchMark } from './bench_marks';
import { decimate, decimationThreshold, mergeGroups, type SeriesGroup } from './decimate';
import { toColumn } from './columns';
import {
  countNonPositive,
  hiddenByLogNote,
  logTickLabels,
  scaleOptions,
  symlogLinearZone,
  type AxisScale,
} from './axis_scales';
import { zoomCursor, zoomPlugin, type Range } from './chart_zoom';
import { bestMarkers, bestPoint, bestText, type CurveBest } from './best_so_far';
import { chartSvg } from './chart_export_svg';
import type { MetricDirection } from '../../sidecar/protocol/group_stats';

export interface ChartSeries {
  label: string;
  color: string;
  width?: number;
  /** Drawn faint and kept out of the legend read-out: the raw curve behind a smoothed one. */
  faint?: boolean;
  show?: boolean;
  /** Points only, no line (a scatter plot). */
  scatter?: boolean;
  /** A dashed line: dash and gap lengths in CSS pixels (so runs past the palette's hues stay apart). */
  dash?: number[];
  /** This series' best value is marked and written under the chart, by this name and colour (options.best). */
  best?: { label: string; color: string };
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  /** Logarithmic y axis; yScale, when given, takes its place. */
  logY: boolean;
  /** Logarithmic x axis (power spectra); xScale, when given, takes its place. */
  logX?: boolean;
  xScale?: AxisScale;
  yScale?: AxisScale;
  series: ChartSeries[];
  /** Extra uPlot plugins (e.g. a marker at the current slice). */
  plugins?: uPlot.Plugin[];
  height?: number;
  /** Formats an x value in the read-out (e.g. wall time as h:mm:ss). */
  formatX?: (x: number) => string;
  /**
   * Filled areas between two series (a ±1σ band): `upper` and `lower` are 1-based indices into
   * `series` (as uPlot counts them, x being 0).
   */
  bands?: { upper: number; lower: number; fill: string }[];
  /** The metric's direction: the series marked `best` get their best value shown. */
  best?: MetricDirection;
}

/** x, then one column per series: typed columns with NaN for a gap, or plain arrays with null. */
export type ChartData = (Float64Array | ArrayLike<number | null>)[];

export class Chart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly noteLine: HTMLElement;
  private readonly bestLine: HTMLElement;
  private readonly resetButton: HTMLElement;
  private plot: uPlot | null = null;
  /** All points, as groups of Float64Array series sharing an x (NaN: gap); uPlot gets them decimated to the visible range (decimate.ts). */
  private groups: SeriesGroup[] = [];
  /** The x range the user zoomed to, or null for everything. */
  private range: Range | null = null;
  /** The y range the user zoomed to, or null for the fit to the data in view. */
  private yRange: Range | null = null;
  private applying = false;
  private options: ChartOptions;
  private bests: CurveBest[] = [];
  private readonly bestCache = new Map<
    number,
    {
      buffer: ArrayBufferLike;
      offset: number;
      length: number;
      direction: MetricDirection;
      point: CurveBest['point'] | null;
    }
  >();
  /** symlog's linear zone of each axis, from the data when the plot was built. */
  private linearZone = { x: 1, y: 1 };
  private readonly resize: ResizeObserver;
  private readonly stopTheme: () => void;

  constructor(
    parent: HTMLElement,
    options: ChartOptions,
    private readonly bridge: PanelBridge,
    /**
     * The plot's width in CSS pixels when the caller knows it (a card in a grid of equal columns
     * beside one already drawn): reading it from the page would force a layout for each new chart.
     * A wrong width is corrected by the resize observer.
     */
    private readonly initialWidth?: number,
  ) {
    this.options = options;
    this.element = document.createElement('section');
    this.element.className = 'chart-card';
    const header = document.createElement('header');
    const title = document.createElement('h3');
    title.textContent = options.title;
    this.resetButton = this.button('Reset', 'Reset the zoom of both axes (or double-click the plot)', () =>
      this.resetZoom(),
    );
    this.resetButton.hidden = true;
    header.append(
      title,
      this.resetButton,
      this.button('PNG', `Save the ${options.title} chart as PNG, at twice its size, with its legend`, () => {
        void this.exportPng();
      }),
      this.button('SVG', `Save the ${options.title} chart as SVG, with its legend`, () => this.exportSvg()),
      this.button('CSV', `Save the data of the ${options.title} chart as CSV`, () => this.exportCsv()),
    );
    this.plotHost = document.createElement('div');
    this.plotHost.className = 'plot';
    this.noteLine = document.createElement('div');
    this.noteLine.className = 'chart-note';
    this.bestLine = document.createElement('div');
    this.bestLine.className = 'chart-best';
    this.element.append(header, this.plotHost, this.bestLine, this.noteLine);
    parent.append(this.element);
    this.build();
    this.resize = new ResizeObserver(() => {
      const plot = this.plot;
      if (!plot) return;
      // uPlot redraws on every setSize, even to the size it already has, and an observer always
      // reports once when it starts: without this check each chart would draw twice on first paint.
      const size = this.size();
      if (size.width !== plot.width || size.height !== plot.height) plot.setSize(size);
    });
    this.resize.observe(this.plotHost);
    // Axis colours are read when uPlot draws (see build), so a theme change needs only a redraw.
    this.stopTheme = onThemeChange(() => this.plot?.redraw(false, true));
  }

  private button(text: string, tooltip: string, onClick: () => void): HTMLElement {
    const button = document.createElement('vscode-button');
    button.setAttribute('secondary', '');
    button.textContent = text;
    button.title = tooltip;
    button.addEventListener('click', onClick);
    return button;
  }

  get uplot(): uPlot | null {
    return this.plot;
  }

  get title(): string {
    return this.options.title;
  }

  /** Each marked curve's best value and where it was reached (empty without options.best). */
  get best(): { label: string; x: number; y: number }[] {
    return this.bests.map((b) => ({ label: b.label, ...b.point }));
  }

  /** What the chart says under the plot: best so far, and what a log axis leaves out. */
  get notes(): { best: string; hidden: string } {
    return { best: this.bestLine.textContent ?? '', hidden: this.noteLine.textContent ?? '' };
  }

  /** Replaces the options (series, scales) and rebuilds the plot with the current data. */
  reconfigure(options: ChartOptions): void {
    this.options = options;
    this.build();
  }

  /** Aligned data: x and the series in the order of the options' series. */
  setData(data: ChartData, keepZoom = false): void {
    this.setGroups(data.length === 0 ? [] : [{ x: toColumn(data[0]), ys: data.slice(1).map(toColumn) }], keepZoom);
  }

  /**
   * Groups of series that each share their own sorted x (a curve and its smoothed copy); the
   * series, group after group, are in the order of the options' series. Nothing is copied.
   */
  setGroups(groups: SeriesGroup[], keepZoom = false): void {
    const zoneBefore = this.linearZone;
    this.groups = groups;
    if (!keepZoom) {
      this.range = null;
      this.yRange = null;
      this.resetButton.hidden = true;
    }
    this.findBests();
    // A symlog axis's linear zone comes from the data; new data that moves it needs a new scale.
    const zone = this.symlogZones();
    if (zone.x !== zoneBefore.x || zone.y !== zoneBefore.y) this.build();
    else this.show();
  }

  /** Whether the user has zoomed in (then live updates keep the zoom). */
  get zoomed(): boolean {
    return this.range !== null || this.yRange !== null;
  }

  /** The user's zoom or pan on one or both axes (chart_zoom.ts). */
  zoom(ranges: { x?: Range; y?: Range }): void {
    if (ranges.x) this.range = ranges.x;
    if (ranges.y) this.yRange = ranges.y;
    if (ranges.x && this.groups.some((g) => g.x.length > decimationThreshold)) this.show();
    else this.applyRanges();
    this.resetButton.hidden = !this.zoomed;
  }

  /** Back to all the data on both axes. */
  resetZoom(): void {
    this.range = null;
    this.yRange = null;
    this.show();
    this.resetButton.hidden = true;
  }

  private scaleOf(axis: 'x' | 'y'): AxisScale {
    const o = this.options;
    if (axis === 'x') return o.xScale ?? (o.logX ? 'log' : 'linear');
    return o.yScale ?? (o.logY ? 'log' : 'linear');
  }

  /** The groups as drawn: on a log x axis, points at x ≤ 0 are left out (views, no copy). */
  private drawnGroups(): SeriesGroup[] {
    if (this.scaleOf('x') !== 'log') return this.groups;
    return this.groups.map((g) => {
      let first = 0;
      while (first < g.x.length && !(g.x[first] > 0)) first++;
      return first === 0 ? g : { x: g.x.subarray(first), ys: g.ys.map((y) => y.subarray(first)) };
    });
  }

  private symlogZones(): { x: number; y: number } {
    return {
      x: this.scaleOf('x') === 'symlog' ? symlogLinearZone(this.groups.map((g) => g.x)) : 1,
      y: this.scaleOf('y') === 'symlog' ? symlogLinearZone(this.groups.flatMap((g) => g.ys)) : 1,
    };
  }

  private findBests(): void {
    const direction = this.options.best;
    this.bests = [];
    if (direction) {
      let index = 0;
      for (const g of this.groups)
        for (const y of g.ys) {
          const marked = this.options.series[index]?.best;
          index++;
          if (!marked) continue;
          const point = this.bestOf(index, g.x, y, direction);
          if (point) this.bests.push({ label: marked.label, color: marked.color, series: index, point });
        }
    }
    const formatX = this.options.formatX ?? formatValue;
    setText(this.bestLine, direction ? bestText(this.bests, direction, this.options.xLabel, formatValue, formatX) : '');
  }

  /**
   * A series' best point. A live curve grows in place in the same buffer (metric_series.ts), so only
   * its new points are scanned each frame; another buffer (a rewound or sorted curve) is scanned whole.
   */
  private bestOf(
    series: number,
    x: Float64Array,
    y: Float64Array,
    direction: MetricDirection,
  ): ReturnType<typeof bestPoint> {
    const cached = this.bestCache.get(series);
    const continues =
      cached !== undefined &&
      cached.buffer === y.buffer &&
      cached.offset === y.byteOffset &&
      cached.direction === direction &&
      cached.length <= y.length;
    const point = continues ? bestPoint(x, y, direction, cached.length, cached.point) : bestPoint(x, y, direction);
    this.bestCache.set(series, { buffer: y.buffer, offset: y.byteOffset, length: y.length, direction, point });
    return point;
  }

  /** The note of what a log axis leaves out. */
  private updateNote(): void {
    const notes: string[] = [];
    if (this.scaleOf('y') === 'log') {
      // The data's own values: the raw curves where a smoothed copy is drawn over them, else every curve.
      const all = this.groups.flatMap((g) => g.ys.map((y, k) => ({ y, faint: this.isFaint(g, k) })));
      const raw = all.filter((c) => c.faint);
      const columns = (raw.length > 0 ? raw : all).map((c) => c.y);
      let total = 0;
      for (const c of columns) for (let i = 0; i < c.length; i++) if (c[i] === c[i]) total++;
      const note = hiddenByLogNote('y', countNonPositive(columns), total);
      if (note) notes.push(note);
    }
    if (this.scaleOf('x') === 'log') {
      const total = this.groups.reduce((t, g) => t + g.x.length, 0);
      const note = hiddenByLogNote('x', countNonPositive(this.groups.map((g) => g.x)), total);
      if (note) notes.push(note);
    }
    setText(this.noteLine, notes.join(' '));
  }

  /** Whether the k-th series of a group is a faint raw copy (its values are counted with the smoothed one's). */
  private isFaint(group: SeriesGroup, k: number): boolean {
    let index = 0;
    for (const g of this.groups) {
      if (g === group) return this.options.series[index + k]?.faint === true;
      index += g.ys.length;
    }
    return false;
  }

  /** Full data → the decimated view of the current range → uPlot. */
  private show(): void {
    const plot = this.plot;
    if (!plot) return;
    this.updateNote();
    // The series were reconfigured before their new data came (a split's first point): until the
    // data match the series, uPlot gets empty columns of the right count, never a mismatch, which
    // breaks its layout and leaves a legend without a plot.
    const columns = this.groups.reduce((n, g) => n + g.ys.length, 0);
    const view =
      columns === this.options.series.length
        ? decimate(
            this.drawnGroups(),
            this.range,
            Math.max(200, Math.round(plot.bbox.width / devicePixelRatio) || 600),
            this.scaleOf('y') === 'log',
          )
        : emptyData(this.options.series.length);
    this.applying = true;
    try {
      plot.setData(view, this.range === null && this.yRange === null);
    } finally {
      this.applying = false;
    }
    this.applyRanges();
  }

  /** The user's ranges onto uPlot's scales (an axis without one fits the data in view). */
  private applyRanges(): void {
    const plot = this.plot;
    if (!plot) return;
    this.applying = true;
    try {
      if (this.range) plot.setScale('x', this.range);
      else if (this.yRange) plot.setScale('x', this.fullX(plot));
      if (this.yRange) plot.setScale('y', this.yRange);
      else {
        // uPlot leaves a log or symlog y range of constant data at zero width (a flat learning rate
        // draws nothing) and refuses a zero-width range; the scale's own range function widens it.
        const y = plot.scales.y;
        if (y.min !== undefined && y.min === y.max && typeof y.range === 'function') {
          const [min, max] = y.range(plot, y.min, y.max, 'y');
          if (min !== null && max !== null) plot.setScale('y', { min, max });
        }
      }
    } finally {
      this.applying = false;
    }
  }

  private fullX(plot: uPlot): Range {
    const xs = plot.data[0];
    return { min: xs[0] ?? 0, max: xs[xs.length - 1] ?? 1 };
  }

  destroy(): void {
    this.stopTheme();
    this.resize.disconnect();
    this.plot?.destroy();
    this.element.remove();
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(this.plotHost.clientWidth, 200), height: this.options.height ?? 220 };
  }

  private build(): void {
    // A rebuild keeps the width the plot has (the resize observer keeps it current), so that
    // rebuilding several charts in a row never forces a layout between them.
    const size =
      this.plot !== null
        ? { width: this.plot.width, height: this.options.height ?? 220 }
        : this.initialWidth !== undefined
          ? { width: this.initialWidth, height: this.options.height ?? 220 }
          : this.size();
    this.plot?.destroy();
    this.linearZone = this.symlogZones();
    // Colours as functions: uPlot calls them on every draw, so a redraw after a theme change picks up the new theme.
    const grid = { stroke: () => gridColor(), width: 1 };
    const axisOf = (axis: 'x' | 'y'): uPlot.Axis => {
      const logLike = this.scaleOf(axis) !== 'linear';
      return {
        stroke: () => foreground(),
        grid,
        ticks: grid,
        font: '11px sans-serif',
        values: (u: uPlot, splits: number[]) =>
          logLike
            ? logTickLabels(splits, formatValue, u.scales[axis])
            : splits.map((v) => (v === null ? '' : formatValue(v))),
      };
    };
    const formatX = this.options.formatX;
    const opts: uPlot.Options = {
      ...size,
      cursor: zoomCursor(),
      scales: {
        x: { time: false, ...scaleOptions(this.scaleOf('x'), 'x', this.linearZone.x, () => this.range) },
        y: scaleOptions(this.scaleOf('y'), 'y', this.linearZone.y, () => this.yRange),
      },
      axes: [
        { ...axisOf('x'), label: this.options.xLabel, labelFont: '11px sans-serif' },
        { ...axisOf('y'), size: 60 },
      ],
      legend: { live: true },
      series: [
        { label: this.options.xLabel, value: formatX ? (_u, v) => (v === null ? '–' : formatX(v)) : undefined },
        ...this.options.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? (s.faint ? 1 : 1.5),
          spanGaps: true,
          dash: s.dash,
          show: s.show ?? true,
          points: s.scatter ? { show: true, size: 4, fill: s.color, stroke: s.color } : { show: false },
          paths: s.scatter ? () => null : undefined,
          class: s.faint ? 'faint' : undefined,
          value: (_u, v) => (v === null || v === undefined ? '–' : formatValue(v)),
        })),
      ],
      bands: this.options.bands?.map((b) => ({ series: [b.upper, b.lower], fill: b.fill })),
      plugins: [zoomPlugin(this), bestMarkers(() => this.bests), ...(this.options.plugins ?? [])],
      // A performance mark per draw lets bench/panels time first paint and streaming frames.
      hooks: { draw: [() => benchMark('l3m-chart-draw')] },
    };
    this.plot = new uPlot(opts, emptyData(this.options.series.length), this.plotHost);
    this.findBests();
    this.show();
  }

  /** The chart as a picture with its legend (chart_export_svg.ts). */
  picture(): ReturnType<typeof chartSvg> | null {
    const plot = this.plot;
    if (!plot) return null;
    const legend = this.options.series
      .map((s, k) => ({ s, shown: plot.series[k + 1]?.show !== false }))
      .filter(({ s, shown }) => shown && !s.faint)
      .map(({ s }) => ({ label: s.label, color: s.color }));
    return chartSvg({
      plot,
      title: this.options.title,
      series: this.options.series,
      bands: this.options.bands,
      legend,
      bests: this.bests,
      colors: { foreground: foreground(), background: background(), grid: gridColor() },
    });
  }

  private async exportPng(): Promise<void> {
    const picture = this.picture();
    if (picture)
      exportPngBytes(this.bridge, this.options.title, await svgToPng(picture.svg, picture.width, picture.height, 2));
  }

  private exportSvg(): void {
    const picture = this.picture();
    if (picture) exportSvg(this.bridge, this.options.title, picture.svg);
  }

  private exportCsv(): void {
    const header = [this.options.xLabel, ...this.options.series.map((s) => s.label)];
    // The full data, aligned on x only now (the chart itself never needs the aligned 100k rows).
    exportCsv(this.bridge, this.options.title, header, mergeGroups(this.groups));
  }
}

/** Sets an element's text only when it changes: a live chart recomputes its lines every frame, and an unchanged text need not cost a layout. */
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function emptyData(series: number): uPlot.AlignedData {
  return [[], ...Array.from({ length: series }, (): number[] => [])];
}

export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return Number(v.toPrecision(4)).toExponential();
  return Number(v.toPrecision(5)).toString();
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
