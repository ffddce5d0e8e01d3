// Zoom and pan shared by the true, generated and difference views: the wheel zooms about the
// pointer, a drag pans, a double click shows the whole slice again, and every view shows the same
// part of its slice. The cell under the mouse in any view is marked, with its value, in all three,
// so one place can be compared across them.
import { benchMark } from '../shared/bench_marks';
import type { SliceView } from './slice_view';
import { clampZoom, panBy, zoomAbout, type ZoomState } from './zoom_math';

/** Magnification per wheel notch. */
const wheelFactor = 1.25;

export class SyncedZoom {
  private zoom: ZoomState = { scale: 1, x: 0, y: 0 };

  /** `onHover` gets the cell under the mouse in the view it is over, or null when the mouse leaves. */
  constructor(
    private readonly views: SliceView[],
    private readonly onHover: (hit: { row: number; col: number; value: number } | null) => void,
  ) {
    for (const view of views) this.attach(view);
  }

  get state(): ZoomState {
    return { ...this.zoom };
  }

  set(zoom: ZoomState): void {
    benchMark('l3m-zoom-start');
    this.zoom = clampZoom(zoom);
    for (const view of this.views) view.setZoom(this.zoom);
    benchMark('l3m-zoom-end');
  }

  reset(): void {
    this.set({ scale: 1, x: 0, y: 0 });
  }

  private attach(view: SliceView): void {
    const viewport = view.viewport;
    // Fractions of the viewport's content box, where the slice is drawn (its border lies outside).
    const fraction = (event: MouseEvent) => {
      const box = viewport.getBoundingClientRect();
      const width = viewport.clientWidth || 1;
      const height = viewport.clientHeight || 1;
      return {
        px: (event.clientX - box.left - viewport.clientLeft) / width,
        py: (event.clientY - box.top - viewport.clientTop) / height,
        width,
        height,
      };
    };
    viewport.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        const { px, py } = fraction(event);
        this.set(zoomAbout(this.zoom, px, py, event.deltaY < 0 ? wheelFactor : 1 / wheelFactor));
        this.hover(view, event);
      },
      { passive: false },
    );
    let drag: { pointer: number; x: number; y: number } | null = null;
    viewport.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      drag = { pointer: event.pointerId, x: event.clientX, y: event.clientY };
      viewport.setPointerCapture(event.pointerId);
    });
    viewport.addEventListener('pointermove', (event) => {
      if (drag && event.pointerId === drag.pointer) {
        const { width, height } = fraction(event);
        this.set(panBy(this.zoom, (event.clientX - drag.x) / width, (event.clientY - drag.y) / height));
        drag.x = event.clientX;
        drag.y = event.clientY;
      }
      this.hover(view, event);
    });
    const end = (event: PointerEvent) => {
      if (drag?.pointer !== event.pointerId) return;
      drag = null;
      if (viewport.hasPointerCapture(event.pointerId)) viewport.releasePointerCapture(event.pointerId);
    };
    viewport.addEventListener('pointerup', end);
    viewport.addEventListener('pointercancel', end);
    viewport.addEventListener('dblclick', () => this.reset());
    viewport.addEventListener('mouseleave', () => {
      if (drag) return;
      for (const v of this.views) v.markCell(null);
      this.onHover(null);
    });
  }

  private hover(view: SliceView, event: MouseEvent): void {
    const hit = view.valueAt(event);
    for (const v of this.views) v.markCell(hit);
    this.onHover(hit);
  }
}
