// Zoom and pan of a chart, per axis. The wheel zooms x about the cursor; Shift+wheel, or the wheel
// over the y axis, zooms y; the wheel over the x axis zooms x. A drag selects what to zoom to: a
// mostly horizontal drag zooms x, a mostly vertical one y, a diagonal one both (uPlot's selection,
// applied here). Alt-drag pans. Double-click resets. Every step works in pixels and converts back
// through the scale, so log and symlog axes zoom and pan evenly in their own space.
import type uPlot from 'uplot';

export interface Range {
  min: number;
  max: number;
}

export interface ZoomTarget {
  /** The ranges the user chose; an axis left out keeps its range. */
  zoom(ranges: { x?: Range; y?: Range }): void;
  resetZoom(): void;
}

/** Magnification per wheel notch. */
const wheelFactor = 0.8;
/** A vertical move smaller than this (px) while panning leaves y alone, so a sideways pan keeps y's fit. */
const panDeadZone = 4;

/** The value range that the pixel span [from, to] along an axis of the plot stands for. */
function rangeOf(u: uPlot, axis: 'x' | 'y', from: number, to: number): Range {
  const a = u.posToVal(from, axis);
  const b = u.posToVal(to, axis);
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

/** The pixel span zoomed by `factor` about `at` in a plot dimension of `size` pixels. */
function zoomedSpan(at: number, size: number, factor: number): [number, number] {
  return [at - at * factor, at + (size - at) * factor];
}

/** uPlot's cursor options for the drag selection this plugin applies; fresh per plot, as uPlot keeps a drag's state in them. */
export function zoomCursor(): uPlot.Cursor {
  return {
    drag: { x: true, y: true, uni: 30, setScale: false },
    // uPlot's own double-click resets x only; the plugin's resets both axes and the decimation.
    bind: { dblclick: () => () => null },
  };
}

export function zoomPlugin(target: ZoomTarget): uPlot.Plugin {
  return {
    hooks: {
      ready: (u) => {
        const over = u.over;
        u.root.addEventListener(
          'wheel',
          (e) => {
            const rect = over.getBoundingClientRect();
            const px = e.clientX - rect.left;
            const py = e.clientY - rect.top;
            const inX = px >= 0 && px <= rect.width;
            const inY = py >= 0 && py <= rect.height;
            // Over the plot, or over one axis (left of it: y; below it: x); elsewhere (legend) the page scrolls.
            const onYAxis = inY && px < 0;
            const onXAxis = inX && py > rect.height && py < rect.height + 60;
            if (!((inX && inY) || onYAxis || onXAxis) || u.data[0].length < 2) return;
            e.preventDefault();
            const delta = e.deltaY || e.deltaX;
            const factor = delta < 0 ? wheelFactor : 1 / wheelFactor;
            if (onYAxis || (inX && inY && e.shiftKey)) {
              const [top, bottom] = zoomedSpan(py, rect.height, factor);
              target.zoom({ y: rangeOf(u, 'y', bottom, top) });
            } else {
              const [left, right] = zoomedSpan(px, rect.width, factor);
              target.zoom({ x: rangeOf(u, 'x', left, right) });
            }
          },
          { passive: false },
        );
        over.addEventListener('dblclick', () => target.resetZoom());
        over.addEventListener(
          'mousedown',
          (e) => {
            if (!e.altKey) return;
            e.stopPropagation();
            e.preventDefault();
            const width = over.clientWidth;
            const height = over.clientHeight;
            let lastX = e.clientX;
            let lastY = e.clientY;
            let panningY = false;
            // Each move pans by its own step from the ranges in force, which the previous step set.
            const move = (m: MouseEvent) => {
              const dx = m.clientX - lastX;
              lastX = m.clientX;
              if (!panningY && Math.abs(m.clientY - lastY) > panDeadZone) panningY = true;
              const dy = panningY ? m.clientY - lastY : 0;
              if (panningY) lastY = m.clientY;
              if (dx === 0 && dy === 0) return;
              target.zoom({
                x: dx === 0 ? undefined : rangeOf(u, 'x', -dx, width - dx),
                y: dy === 0 ? undefined : rangeOf(u, 'y', height - dy, -dy),
              });
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
      // A finished drag selection: zoom to it on the axes it spans, then clear it.
      setSelect: [
        (u) => {
          const { left, top, width, height } = u.select;
          if (width === 0 && height === 0) return;
          const fullWidth = width >= u.over.clientWidth - 1;
          const fullHeight = height >= u.over.clientHeight - 1;
          target.zoom({
            x: fullWidth ? undefined : rangeOf(u, 'x', left, left + width),
            y: fullHeight ? undefined : rangeOf(u, 'y', top + height, top),
          });
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        },
      ],
    },
  };
}
