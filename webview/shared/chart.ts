// A chart card: a uPlot plot (canvas; fast at 100k points per curve) with a title, PNG and CSV
// export buttons, the theme's colours, a live hover read-out (uPlot's legend), drag-to-zoom on x,
// wheel zoom around the cursor, Alt-drag pan, and double-click to reset. The log axis is a uPlot
// scale distribution that cannot change in place, so toggling it rebuilds the plot.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PanelBridge } from './vscode_api';
import { exportCsv, exportPng } from './export';
import { foreground, gridColor } from './theme';
import { benchMark } from './bench_marks';
import { decimate, decimationThreshold, mergeGroups, type SeriesGroup } from './decimate';
import { toColumn } from './columns';

export interface ChartSeries {
  label: string;
  color: string;
  width?: number;
  /** Drawn faint and kept out of the legend read-out: the raw curve behind a smoothed one. */
  faint?: boolean;
  show?: boolean;
  /** Points only, no line (a scatter plot). */
  scatter?: boolean;
  /** A dash pattern (canvas setLineDash): tells apart curves that share a colour when runs outnumber the palette. */
  dash?: number[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  logY: boolean;
  /** Logarithmic x axis (power spectra). */
  logX?: boolean;
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
}

/** x, then one column per series: typed columns with NaN for a gap, or plain arrays with null. */
export type ChartData = (Float64Array | ArrayLike<number | null>)[];

export class Chart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private plot: uPlot | null = null;
  /** All points, as groups of Float64Array series sharing an x (NaN: gap); uPlot gets them decimated to the visible range (decimate.ts). */
  private groups: SeriesGroup[] = [];
  /** The x range the user zoomed to, or null for everything. */
  private range: { min: number; max: number } | null = null;
  private applying = false;
  private options: ChartOptions;
  private readonly resize: ResizeObserver;

  constructor(
    parent: HTMLElement,
    options: ChartOptions,
    private readonly bridge: PanelBridge,
  ) {
    this.options = options;
    this.element = document.createElement('section');
    this.element.className = 'chart-card';
    const header = document.createElement('header');
    const title = document.createElement('h3');
    title.textContent = options.title;
    const png = document.createElement('vscode-button');
    png.setAttribute('secondary', '');
    png.textContent = 'PNG';
    png.title = `Save the ${options.title} chart as PNG`;
    png.addEventListener('click', () => void this.exportPng());
    const csv = document.createElement('vscode-button');
    csv.setAttribute('secondary', '');
    csv.textContent = 'CSV';
    csv.title = `Save the data of the ${options.title} chart as CSV`;
    csv.addEventListener('click', () => this.exportCsv());
    header.append(title, png, csv);
    this.plotHost = document.createElement('div');
    this.plotHost.className = 'plot';
    this.element.append(header, this.plotHost);
    parent.append(this.element);
    this.build();
    this.resize = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.resize.observe(this.plotHost);
  }

  get uplot(): uPlot | null {
    return this.plot;
  }

  get title(): string {
    return this.options.title;
  }

  /** Replaces the options (series, log axis) and rebuilds the plot with the current data. */
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
    this.groups = groups;
    if (!keepZoom) this.range = null;
    this.show();
  }

  /** Points over all groups, and the x extent of the data. */
  private extent(): { points: number; min: number; max: number } {
    let points = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const g of this.groups) {
      points += g.x.length;
      if (g.x.length === 0) continue;
      min = Math.min(min, g.x[0]);
      max = Math.max(max, g.x[g.x.length - 1]);
    }
    return { points, min, max };
  }

  /** Whether the user has zoomed in (then live updates keep the zoom). */
  get zoomed(): boolean {
    return this.range !== null;
  }

  /** Full data → the decimated view of the current range → uPlot. */
  private show(): void {
    const plot = this.plot;
    if (!plot) return;
    const view = decimate(
      this.groups,
      this.range,
      Math.max(200, Math.round(plot.bbox.width / devicePixelRatio) || 600),
      this.options.logY,
    );
    this.applying = true;
    try {
      plot.setData(view, this.range === null);
      if (this.range) plot.setScale('x', this.range);
    } finally {
      this.applying = false;
    }
  }

  /** The user zoomed, panned or reset: remember the range and decimate for it. */
  private onScale(u: uPlot): void {
    if (this.applying) return;
    const all = this.extent();
    const { min, max } = u.scales.x;
    if (min === undefined || max === undefined || all.points === 0) return;
    const range = min <= all.min && max >= all.max ? null : { min, max };
    // uPlot reports scale changes after a redraw too (including those show() caused): only a
    // real change of range needs a new view, or the two would feed each other forever.
    const same =
      range === null
        ? this.range === null
        : this.range !== null && this.range.min === range.min && this.range.max === range.max;
    if (same) return;
    this.range = range;
    if (this.groups.some((g) => g.x.length > decimationThreshold)) queueMicrotask(() => this.show());
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.element.remove();
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(this.plotHost.clientWidth, 200), height: this.options.height ?? 220 };
  }

  private build(): void {
    this.plot?.destroy();
    const fg = foreground();
    const grid = { stroke: gridColor(), width: 1 };
    const axis = {
      stroke: fg,
      grid,
      ticks: grid,
      font: '11px sans-serif',
      values: (_u: uPlot, splits: number[]) => splits.map((v) => (v === null ? '' : formatValue(v))),
    };
    const formatX = this.options.formatX;
    const opts: uPlot.Options = {
      ...this.size(),
      cursor: { drag: { x: true, y: false, setScale: true } },
      scales: {
        x: this.options.logX ? { time: false, distr: 3 } : { time: false },
        y: this.options.logY ? { distr: 3 } : {},
      },
      axes: [
        { ...axis, label: this.options.xLabel, labelFont: '11px sans-serif' },
        { ...axis, size: 60 },
      ],
      legend: { live: true },
      series: [
        { label: this.options.xLabel, value: formatX ? (_u, v) => (v === null ? '–' : formatX(v)) : undefined },
        ...this.options.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? (s.faint ? 1 : 1.5),
          dash: s.dash,
          spanGaps: true,
          show: s.show ?? true,
          points: s.scatter ? { show: true, size: 4, fill: s.color, stroke: s.color } : { show: false },
          paths: s.scatter ? () => null : undefined,
          class: s.faint ? 'faint' : undefined,
          value: (_u, v) => (v === null || v === undefined ? '–' : formatValue(v)),
        })),
      ],
      bands: this.options.bands?.map((b) => ({ series: [b.upper, b.lower], fill: b.fill })),
      plugins: [wheelZoomAndPan(), ...(this.options.plugins ?? [])],
      // A performance mark per draw lets bench/panels time first paint and streaming frames.
      hooks: {
        draw: [() => benchMark('l3m-chart-draw')],
        setScale: [
          (u, key) => {
            if (key === 'x') this.onScale(u);
          },
        ],
      },
    };
    const empty: uPlot.AlignedData = [[], ...this.options.series.map((): number[] => [])];
    this.plot = new uPlot(opts, empty, this.plotHost);
    this.show();
  }

  private async exportPng(): Promise<void> {
    if (this.plot) await exportPng(this.bridge, this.plot.ctx.canvas, this.options.title, this.options.title);
  }

  private exportCsv(): void {
    const header = [this.options.xLabel, ...this.options.series.map((s) => s.label)];
    // The full data, aligned on x only now (the chart itself never needs the aligned 100k rows).
    exportCsv(this.bridge, this.options.title, header, mergeGroups(this.groups));
  }
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

/** Wheel zoom on x around the cursor, and Alt-drag to pan; uPlot's own drag zooms, double-click resets. */
function wheelZoomAndPan(): uPlot.Plugin {
  return {
    hooks: {
      ready: (u) => {
        const over = u.over;
        over.addEventListener(
          'wheel',
          (e) => {
            const { min, max } = u.scales.x;
            if (min === undefined || max === undefined || u.data[0].length < 2) return;
            e.preventDefault();
            const at = u.posToVal(u.cursor.left ?? 0, 'x');
            const factor = e.deltaY < 0 ? 0.8 : 1.25;
            u.setScale('x', { min: at - (at - min) * factor, max: at + (max - at) * factor });
          },
          { passive: false },
        );
        over.addEventListener(
          'mousedown',
          (e) => {
            if (!e.altKey) return;
            e.stopPropagation();
            e.preventDefault();
            const { min, max } = u.scales.x;
            if (min === undefined || max === undefined) return;
            const startX = e.clientX;
            const perPixel = (max - min) / over.clientWidth;
            const move = (m: MouseEvent) => {
              const d = (m.clientX - startX) * perPixel;
              u.setScale('x', { min: min - d, max: max - d });
            };
            const up = () => {
              window.removeEventListener('mousemove', move);
              window.removeEventListener('mouseup', up);
            };
            window.addEventListener('mousemove', move);
            window.addEventListener('mouseup', up);
          },
          true,
        );
      },
    },
  };
}
