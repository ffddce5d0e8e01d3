// One slice panel of the inspector: the slice drawn pixel for pixel into a canvas (scaled up by CSS
// with nearest-neighbour sampling, so each cell stays a crisp square), its colour bar with the
// range it spans, and a caption. The panel keeps the values it shows so the page can read out the
// value under the mouse.
import { colormaps, paintSlice, type ColorRange } from '../shared/colormaps';
import type { ColormapName } from '../shared/panel_protocol';
import { formatValue } from '../shared/chart';

export class SliceView {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly colorBar: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly barLo: HTMLElement;
  private readonly barHi: HTMLElement;
  private image: ImageData | null = null;
  /** The values shown now ([rows, cols] from `offset`), for the hover read-out. */
  values: Float32Array | null = null;
  offset = 0;
  rows = 0;
  cols = 0;
  range: ColorRange | null = null;

  constructor(
    parent: HTMLElement,
    readonly name: string,
  ) {
    this.element = document.createElement('figure');
    this.element.className = 'slice-view';
    this.caption = document.createElement('figcaption');
    this.caption.textContent = name;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'slice';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `${name} slice`);
    const bar = document.createElement('div');
    bar.className = 'colorbar';
    this.barLo = document.createElement('span');
    this.barHi = document.createElement('span');
    this.colorBar = document.createElement('canvas');
    this.colorBar.width = 256;
    this.colorBar.height = 1;
    bar.append(this.barLo, this.colorBar, this.barHi);
    this.element.append(this.caption, this.canvas, bar);
    parent.append(this.element);
  }

  setCaption(text: string): void {
    this.caption.textContent = text;
  }

  /** Draws slice values[offset … offset + rows·cols) with the colour map over `range`. */
  show(values: Float32Array, offset: number, rows: number, cols: number, range: ColorRange, map: ColormapName): void {
    this.values = values;
    this.offset = offset;
    this.rows = rows;
    this.cols = cols;
    this.range = range;
    if (this.canvas.width !== cols || this.canvas.height !== rows || !this.image) {
      this.canvas.width = cols;
      this.canvas.height = rows;
      this.image = new ImageData(cols, rows);
    }
    paintSlice(values, offset, rows, cols, range, map, this.image.data);
    const ctx = this.canvas.getContext('2d');
    ctx?.putImageData(this.image, 0, 0);
    this.drawColorBar(range, map);
    this.element.classList.remove('missing');
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
  }

  /** The value under a mouse position on the canvas, with its cell, or null outside. */
  valueAt(event: MouseEvent): { row: number; col: number; value: number } | null {
    if (!this.values) return null;
    const box = this.canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * this.cols);
    const row = Math.floor(((event.clientY - box.top) / box.height) * this.rows);
    if (row < 0 || col < 0 || row >= this.rows || col >= this.cols) return null;
    return { row, col, value: this.values[this.offset + row * this.cols + col] };
  }

  private drawColorBar(range: ColorRange, map: ColormapName): void {
    const table = colormaps[map];
    const ctx = this.colorBar.getContext('2d');
    if (!ctx) return;
    const strip = new ImageData(256, 1);
    for (let i = 0; i < 256; i++) {
      strip.data[i * 4] = table[i * 3];
      strip.data[i * 4 + 1] = table[i * 3 + 1];
      strip.data[i * 4 + 2] = table[i * 3 + 2];
      strip.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(strip, 0, 0);
    // The bar's ends are the range's ends; the labels and data attributes say what they are.
    this.colorBar.dataset.lo = String(range.lo);
    this.colorBar.dataset.hi = String(range.hi);
    this.barLo.textContent = formatValue(range.lo);
    this.barHi.textContent = formatValue(range.hi);
  }
}
