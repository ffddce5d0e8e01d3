// Dragging on a colour bar sets the intensity window: the end nearer the pointer follows it (both
// ends, mirrored, on a window symmetric about zero), read on the bar's own display scale. The pointer
// is captured, so moving past the bar's end keeps widening the window.
import type { ColorRange } from '../shared/colormaps';
import type { DisplayTransform } from '../shared/panel_protocol';
import { dragWindow } from './intensity_window';

/** What the bar shows now; null when it shows nothing, and then there is nothing to drag. */
export interface BarWindow {
  range: ColorRange;
  transform: DisplayTransform;
  symmetric: boolean;
}

export function attachColorBarDrag(
  bar: HTMLElement,
  current: () => BarWindow | null,
  onDrag: (window: ColorRange) => void,
): void {
  let drag: { start: BarWindow; end: 'lo' | 'hi'; pointer: number } | null = null;
  const position = (event: PointerEvent): number => {
    const box = bar.getBoundingClientRect();
    return box.width > 0 ? (event.clientX - box.left) / box.width : 0.5;
  };
  bar.addEventListener('pointerdown', (event) => {
    const start = current();
    if (!start || event.button !== 0) return;
    drag = { start, end: position(event) < 0.5 ? 'lo' : 'hi', pointer: event.pointerId };
    bar.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  bar.addEventListener('pointermove', (event) => {
    if (!drag || event.pointerId !== drag.pointer) return;
    onDrag(dragWindow(drag.start.range, drag.start.transform, drag.end, position(event), drag.start.symmetric));
  });
  const end = (event: PointerEvent) => {
    if (drag?.pointer !== event.pointerId) return;
    drag = null;
    if (bar.hasPointerCapture(event.pointerId)) bar.releasePointerCapture(event.pointerId);
  };
  bar.addEventListener('pointerup', end);
  bar.addEventListener('pointercancel', end);
}
