// One slice panel of the inspector: the slice drawn pixel for pixel into a canvas (scaled up by CSS
// with nearest-neighbour sampling, so each cell stays a crisp square) inside a viewport that zooms
// and pans (synced_zoom.ts moves every panel's viewport together), its colour bar with the window it
// spans (drag an end to change it: colorbar_drag.ts), a marker and read-out of the cell under the
// mouse, and a caption. The panel keeps the values it shows so the page can read out any cell.
import { colormaps, paintSlice, type ColorRange } from '../shared/colormaps';
import type { ColormapName, DisplayTransform } from '../shared/panel_protocol';
import { formatValue } from '../shared/chart';
import { transformFunction } from './intensity_window';
import { attachColorBarDrag } from './colorbar_drag';
import type { ZoomState } from './zoom_math';

export class SliceView {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly viewport: HTMLElement;
  readonly colorBar: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly barLo: HTMLElement;
  private readonly barHi: HTMLElement;
  private readonly marker: HTMLElement;
  private readonly pixelReadout: HTMLElement;
  private image: ImageData | null = null;
  /** The colour map the colour bar's strip shows: the strip is painted again only when it changes. */
  private barMap: ColormapName | null = null;
  private zoom: ZoomState = { scale: 1, x: 0, y: 0 };
  private marked: { row: number; col: number } | null = null;
  /** The values shown now ([rows, cols] from `offset`), for the hover read-out. */
  values: Float32Array | null = null;
  offset = 0;
  rows = 0;
  cols = 0;
  range: ColorRange | null = null;
  transform: DisplayTransform = 'linear';
  symmetric = false;
  /** Called with the window a drag on the colour bar sets. */
  onWindowDrag: (window: ColorRange) => void = () => undefined;

  constructor(
    parent: HTMLElement,
    readonly name: string,
  ) {
    this.element = document.createElement('figure');
    this.element.className = 'slice-view';
    this.caption = document.createElement('figcaption');
    this.caption.textContent = name;
    this.viewport = document.createElement('div');
    this.viewport.className = 'slice-viewport';
    this.viewport.title = 'Wheel to zoom, drag to pan, double-click for the whole slice (all three views follow)';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'slice';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `${name} slice`);
    this.marker = document.createElement('div');
    this.marker.className = 'cell-marker';
    this.marker.hidden = true;
    this.viewport.append(this.canvas, this.marker);
    const bar = document.createElement('div');
    bar.className = 'colorbar';
    this.barLo = document.createElement('span');
    this.barHi = document.createElement('span');
    this.colorBar = document.createElement('canvas');
    this.colorBar.width = 256;
    this.colorBar.height = 1;
    this.colorBar.title = 'Drag an end to set the window; Reset window returns to the percentiles';
    const unit = document.createElement('span');
    unit.className = 'colorbar-unit';
    unit.textContent = 'mK';
    unit.title = 'Brightness temperature δT_b in millikelvin';
    bar.append(this.barLo, this.colorBar, this.barHi, unit);
    this.pixelReadout = document.createElement('div');
    this.pixelReadout.className = 'pixel-readout';
    this.element.append(this.caption, this.viewport, bar, this.pixelReadout);
    parent.append(this.element);
    attachColorBarDrag(
      this.colorBar,
      () => (this.range ? { range: this.range, transform: this.transform, symmetric: this.symmetric } : null),
      (window) => this.onWindowDrag(window),
    );
  }

  setCaption(text: string): void {
    this.caption.textContent = text;
  }

  /**
   * Draws slice values[offset … offset + rows·cols) with the colour map over the window `range`,
   * through the display transform; `symmetric` keeps a dragged window symmetric about zero.
   */
  show(
    values: Float32Array,
    offset: number,
    rows: number,
    cols: number,
    range: ColorRange,
    map: ColormapName,
    transform: DisplayTransform = 'linear',
    symmetric = false,
  ): void {
    this.values = values;
    this.offset = offset;
    this.rows = rows;
    this.cols = cols;
    this.range = range;
    this.transform = transform;
    this.symmetric = symmetric;
    if (this.canvas.width !== cols || this.canvas.height !== rows || !this.image) {
      this.canvas.width = cols;
      this.canvas.height = rows;
      this.image = new ImageData(cols, rows);
    }
    paintSlice(
      values,
      offset,
      rows,
      cols,
      range,
      map,
      this.image.data,
      transform === 'linear' ? undefined : transformFunction(transform, range),
    );
    const ctx = this.canvas.getContext('2d');
    ctx?.putImageData(this.image, 0, 0);
    this.drawColorBar(range, map, transform);
    this.element.classList.remove('missing');
    this.markCell(this.marked);
  }

  /** Shows why there is nothing to draw, instead of a blank square. */
  showMissing(reason: string): void {
    this.values = null;
    this.range = null;
    const ctx = this.canvas.getContext('2d');
    this.canvas.width = 140;
    this.canvas.height = 140;
    ctx?.clearRect(0, 0, 140, 140);
    this.element.classList.add('missing');
    this.barLo.textContent = '';
    this.barHi.textContent = '';
    this.colorBar.dataset.lo = '';
    this.colorBar.dataset.hi = '';
    this.caption.textContent = `${this.name}: ${reason}`;
    this.caption.title = this.caption.textContent;
    this.markCell(this.marked);
  }

  /** The cell under a mouse position on the viewport, with its value, or null outside. */
  valueAt(event: MouseEvent): { row: number; col: number; value: number } | null {
    if (!this.values) return null;
    const box = this.canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * this.cols);
    const row = Math.floor(((event.clientY - box.top) / box.height) * this.rows);
    if (row < 0 || col < 0 || row >= this.rows || col >= this.cols) return null;
    return { row, col, value: this.values[this.offset + row * this.cols + col] };
  }

  /** The value this panel shows at a cell; undefined when it shows nothing there. */
  valueOf(row: number, col: number): number | undefined {
    if (!this.values || row >= this.rows || col >= this.cols) return undefined;
    return this.values[this.offset + row * this.cols + col];
  }

  /** Shows the visible part `zoom` of the slice (a CSS transform, so the pixels are not painted again). */
  setZoom(zoom: ZoomState): void {
    this.zoom = zoom;
    const width = this.viewport.clientWidth;
    const height = this.viewport.clientHeight;
    this.canvas.style.transform =
      zoom.scale === 1
        ? ''
        : `translate(${-zoom.x * zoom.scale * width}px, ${-zoom.y * zoom.scale * height}px) scale(${zoom.scale})`;
    this.markCell(this.marked);
  }

  /** Marks a cell (the one under the mouse in any panel) and reads out this panel's value there, in mK. */
  markCell(cell: { row: number; col: number } | null): void {
    this.marked = cell;
    const value = cell ? this.valueOf(cell.row, cell.col) : undefined;
    if (!cell || value === undefined) {
      this.marker.hidden = true;
      this.pixelReadout.textContent = '';
      return;
    }
    const width = this.viewport.clientWidth;
    const height = this.viewport.clientHeight;
    const { scale, x, y } = this.zoom;
    const cellWidth = (width / this.cols) * scale;
    const cellHeight = (height / this.rows) * scale;
    this.marker.hidden = false;
    this.marker.style.left = `${(cell.col / this.cols - x) * scale * width}px`;
    this.marker.style.top = `${(cell.row / this.rows - y) * scale * height}px`;
    this.marker.style.width = `${cellWidth}px`;
    this.marker.style.height = `${cellHeight}px`;
    this.pixelReadout.textContent = `x ${cell.col}, y ${cell.row}: ${Number.isFinite(value) ? formatValue(value) : 'NaN'} mK`;
  }

  private drawColorBar(range: ColorRange, map: ColormapName, transform: DisplayTransform): void {
    const ctx = this.colorBar.getContext('2d');
    if (!ctx) return;
    if (this.barMap !== map) {
      const table = colormaps[map];
      const strip = new ImageData(256, 1);
      for (let i = 0; i < 256; i++) {
        strip.data[i * 4] = table[i * 3];
        strip.data[i * 4 + 1] = table[i * 3 + 1];
        strip.data[i * 4 + 2] = table[i * 3 + 2];
        strip.data[i * 4 + 3] = 255;
      }
      ctx.putImageData(strip, 0, 0);
      this.barMap = map;
    }
    // The bar's ends are the window's ends (its colours run evenly on the display transform's scale);
    // the labels and data attributes say what they are.
    this.colorBar.dataset.lo = String(range.lo);
    this.colorBar.dataset.hi = String(range.hi);
    this.colorBar.dataset.transform = transform;
    this.barLo.textContent = formatValue(range.lo);
    this.barHi.textContent = formatValue(range.hi);
  }
}
