// The lightcone seen from the side: one row of every slice, so the transverse axis runs down and the
// line of sight (the slices, in cosmic-time order) across, through the whole cone, true above and
// generated below. The generated cut shows the context slices the model was given (they are the true
// ones) left of a marked boundary and its forecast right of it; a line marks the slice the slider is on.
import { paintSlice, type ColorRange } from '../shared/colormaps';
import type { ColormapName } from '../shared/panel_protocol';
import type { Float32Npy } from '../../sidecar/protocol/npy_format';
import { generatedSideCut, sideCut } from './side_cut';

export interface SideViewData {
  truth: Float32Npy | null;
  generated: Float32Npy | null;
  /** Slices of the truth before the generated file's first slice. */
  offset: number;
  /** The first generated slice (the number of context slices); null for data without samples. */
  boundary: number | null;
  slice: number;
  range: ColorRange;
  map: ColormapName;
}

class Cut {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly caption: HTMLElement;
  readonly boundary: HTMLElement;
  readonly current: HTMLElement;

  constructor(parent: HTMLElement, name: string) {
    this.element = document.createElement('figure');
    this.element.className = 'side-cut';
    this.caption = document.createElement('figcaption');
    this.caption.textContent = name;
    const frame = document.createElement('div');
    frame.className = 'side-frame';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'side';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `${name} side view`);
    this.boundary = document.createElement('div');
    this.boundary.className = 'side-boundary';
    this.boundary.title = 'Context (true slices given to the model) | generated';
    this.current = document.createElement('div');
    this.current.className = 'side-current';
    frame.append(this.canvas, this.boundary, this.current);
    this.element.append(this.caption, frame);
    parent.append(this.element);
  }

  paint(values: Float32Array, rows: number, cols: number, range: ColorRange, map: ColormapName): void {
    this.canvas.width = cols;
    this.canvas.height = rows;
    const image = new ImageData(cols, rows);
    paintSlice(values, 0, rows, cols, range, map, image.data);
    this.canvas.getContext('2d')?.putImageData(image, 0, 0);
    this.element.classList.remove('missing');
  }

  /** Puts a marker line at the left edge of slice `index` of `count` (hidden for null). */
  mark(line: HTMLElement, index: number | null, count: number, centre = false): void {
    line.hidden = index === null || count === 0;
    if (index !== null && count > 0) line.style.left = `${(((index + (centre ? 0.5 : 0)) / count) * 100).toFixed(3)}%`;
  }
}

export class SideView {
  readonly element: HTMLElement;
  readonly rowInput: HTMLInputElement;
  private readonly note: HTMLElement;
  readonly truthCut: Cut;
  readonly generatedCut: Cut;
  private data: SideViewData | null = null;
  /** What the cuts were last painted from: moving the slice only moves a marker, so the cuts are painted again only when this changes. */
  private painted: {
    truth: Float32Npy;
    generated: Float32Npy | null;
    offset: number;
    row: number;
    lo: number;
    hi: number;
    map: ColormapName;
  } | null = null;
  /** The row of the slices the cut goes through; the middle one until the user moves it. */
  row: number | null = null;

  constructor(parent: HTMLElement) {
    this.element = document.createElement('section');
    this.element.className = 'side-view';
    const heading = document.createElement('div');
    heading.className = 'toolbar';
    const title = document.createElement('strong');
    title.textContent = 'Side view (line of sight →)';
    const label = document.createElement('label');
    label.append('Cut at row y ');
    this.rowInput = document.createElement('input');
    this.rowInput.type = 'range';
    this.rowInput.min = '0';
    this.rowInput.step = '1';
    this.rowInput.setAttribute('aria-label', 'Row of the slices the side view cuts through');
    this.note = document.createElement('span');
    this.note.className = 'side-note';
    label.append(this.rowInput);
    heading.append(title, label, this.note);
    this.element.append(heading);
    this.truthCut = new Cut(this.element, 'True');
    this.generatedCut = new Cut(this.element, 'Generated');
    parent.append(this.element);
    this.rowInput.addEventListener('input', () => {
      this.row = Number(this.rowInput.value);
      this.redraw();
    });
  }

  show(data: SideViewData): void {
    this.data = data;
    this.redraw();
  }

  private redraw(): void {
    const data = this.data;
    const truth = data?.truth ?? null;
    this.element.hidden = !data || !truth;
    if (!data || !truth) return;
    const [slices, rows] = truth.shape;
    if (this.row === null || this.row >= rows) this.row = Math.floor(rows / 2);
    this.rowInput.max = String(rows - 1);
    this.rowInput.value = String(this.row);
    this.note.textContent = `y = ${this.row} · ${slices} slices · transverse x down`;
    const source = {
      truth,
      generated: data.generated,
      offset: data.offset,
      row: this.row,
      lo: data.range.lo,
      hi: data.range.hi,
      map: data.map,
    };
    const p = this.painted;
    const same =
      p !== null &&
      p.truth === source.truth &&
      p.generated === source.generated &&
      p.offset === source.offset &&
      p.row === source.row &&
      p.lo === source.lo &&
      p.hi === source.hi &&
      p.map === source.map;
    if (!same) this.paint(data, truth, this.row);
    this.painted = source;
    for (const cut of [this.truthCut, this.generatedCut]) {
      cut.mark(cut.boundary, data.boundary !== null && data.boundary > 0 ? data.boundary : null, slices);
      cut.mark(cut.current, data.slice, slices, true);
    }
  }

  private paint(data: SideViewData, truth: Float32Npy, row: number): void {
    const [slices, rows, cols] = truth.shape;
    this.truthCut.paint(sideCut(truth, row), cols, slices, data.range, data.map);
    const generated = data.generated;
    const sameShape = generated && generated.shape[1] === rows && generated.shape[2] === cols;
    if (generated && sameShape) {
      this.generatedCut.paint(generatedSideCut(truth, generated, data.offset, row), cols, slices, data.range, data.map);
      this.generatedCut.caption.textContent =
        data.boundary !== null && data.boundary > 0
          ? `Generated (left of the line: the ${data.boundary} context slices, true)`
          : 'Generated';
    } else {
      this.generatedCut.element.classList.add('missing');
      this.generatedCut.canvas.width = 0;
      this.generatedCut.caption.textContent = generated
        ? 'Generated: its slices differ in size from the true ones'
        : 'Generated: none (no sample read)';
    }
  }

  /** The true and generated cuts as drawn (for the export). */
  canvases(): { name: string; canvas: HTMLCanvasElement; boundary: number | null; slices: number }[] {
    const slices = this.data?.truth?.shape[0] ?? 0;
    const boundary = this.data?.boundary ?? null;
    return [
      { name: this.truthCut.caption.textContent ?? 'True', canvas: this.truthCut.canvas, boundary, slices },
      {
        name: this.generatedCut.caption.textContent ?? 'Generated',
        canvas: this.generatedCut.canvas,
        boundary,
        slices,
      },
    ].filter((c) => c.canvas.width > 0 && !this.element.hidden);
  }
}
