// The arithmetic of the slice views' synced zoom, free of the DOM so that it is checked on its own:
// the visible part of a slice as a magnification and its top-left corner, zooming about a point, and
// panning, always within the slice.

/** The visible part of a slice: magnification (1 = whole slice) and its top-left corner as fractions of the slice. */
export interface ZoomState {
  scale: number;
  x: number;
  y: number;
}

export const maxZoom = 32;

/** The zoom moved back inside the slice, at a magnification within 1 … maxZoom. */
export function clampZoom(zoom: ZoomState): ZoomState {
  const scale = Math.min(Math.max(zoom.scale, 1), maxZoom);
  const limit = 1 - 1 / scale;
  const clamp = (v: number) => Math.min(Math.max(v, 0), limit);
  return { scale, x: clamp(zoom.x), y: clamp(zoom.y) };
}

/**
 * The zoom after magnifying by `factor` about the point (px, py) of the viewport (fractions of its
 * width and height): the part of the slice under that point stays under it. The magnification stays
 * within 1 … maxZoom and the visible part within the slice.
 */
export function zoomAbout(zoom: ZoomState, px: number, py: number, factor: number): ZoomState {
  const scale = Math.min(Math.max(zoom.scale * factor, 1), maxZoom);
  const atX = zoom.x + px / zoom.scale;
  const atY = zoom.y + py / zoom.scale;
  return clampZoom({ scale, x: atX - px / scale, y: atY - py / scale });
}

/** The zoom after the slice is dragged by (dx, dy), fractions of the viewport's width and height. */
export function panBy(zoom: ZoomState, dx: number, dy: number): ZoomState {
  return clampZoom({ scale: zoom.scale, x: zoom.x - dx / zoom.scale, y: zoom.y - dy / zoom.scale });
}
