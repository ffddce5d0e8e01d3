// Axes in comoving Mpc around a slice panel: x along the bottom, y down the left, with ticks for the
// part of the slice in view. The panel's zoom may be set by anything (synced zoom, a reset), so the
// axes wrap the panel's setZoom and follow every call. A dataset that does not give the slice's side
// gets axes in cells, saying so.
import type { SliceView } from './slice_view';
import { formatMpc, mpcTicks } from './physical_axes';

interface Zoom {
  scale: number;
  x: number;
  y: number;
}

export class SliceAxes {
  private readonly xAxis: HTMLElement;
  private readonly yAxis: HTMLElement;
  private zoom: Zoom = { scale: 1, x: 0, y: 0 };
  /** Comoving side of the slice [Mpc]; null when unknown (axes in cells). */
  private sideMpc: number | null = null;
  private cells = 0;

  constructor(private readonly view: SliceView) {
    const row = document.createElement('div');
    row.className = 'slice-axes-row';
    this.yAxis = document.createElement('div');
    this.yAxis.className = 'slice-axis y';
    this.xAxis = document.createElement('div');
    this.xAxis.className = 'slice-axis x';
    view.viewport.replaceWith(row);
    row.append(this.yAxis, view.viewport);
    row.after(this.xAxis);
    const setZoom = view.setZoom.bind(view);
    view.setZoom = (zoom: Zoom) => {
      setZoom(zoom);
      this.zoom = zoom;
      this.draw();
    };
  }

  /** The slice's side in Mpc (null: unknown) and its cells per side; redraws the ticks. */
  set(sideMpc: number | null, cells: number): void {
    this.sideMpc = sideMpc !== null && Number.isFinite(sideMpc) && sideMpc > 0 ? sideMpc : null;
    this.cells = cells;
    this.draw();
  }

  /** The visible stretch along x and y, in the axes' unit. */
  visible(): { x: [number, number]; y: [number, number]; unit: string } {
    const side = this.sideMpc ?? this.cells;
    const { scale, x, y } = this.zoom;
    return {
      x: [x * side, (x + 1 / scale) * side],
      y: [y * side, (y + 1 / scale) * side],
      unit: this.sideMpc === null ? 'cells' : 'Mpc',
    };
  }

  private draw(): void {
    if (this.cells === 0 || !this.view.values) {
      this.xAxis.replaceChildren();
      this.yAxis.replaceChildren();
      return;
    }
    const { x, y, unit } = this.visible();
    const name = unit === 'Mpc' ? 'comoving Mpc' : 'cells (the slice side in Mpc is unknown)';
    this.fill(this.xAxis, x, 'left', `x [${name}]`);
    this.fill(this.yAxis, y, 'top', `y [${name}]`);
  }

  private fill(axis: HTMLElement, [from, to]: [number, number], side: 'left' | 'top', title: string): void {
    axis.replaceChildren();
    axis.title = title;
    axis.dataset.from = String(from);
    axis.dataset.to = String(to);
    for (const tick of mpcTicks(from, to)) {
      const label = document.createElement('span');
      label.className = 'tick';
      label.textContent = formatMpc(tick.value);
      label.style[side] = `${(tick.at * 100).toFixed(2)}%`;
      axis.append(label);
    }
    if (side === 'left') {
      const unit = document.createElement('span');
      unit.className = 'unit';
      unit.textContent = this.sideMpc === null ? 'x, y [cells]' : 'x, y [comoving Mpc]';
      axis.append(unit);
    }
  }
}
