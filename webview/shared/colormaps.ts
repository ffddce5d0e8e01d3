// Colour maps for δT_21 slices. δT_21 is signed (absorption below zero, emission above), so the
// default is a diverging map centred on zero (matplotlib's RdBu_r: blue for absorption, white at
// zero, red for emission); the sequential one is viridis (perceptually uniform, readable in grey and
// by colour-blind viewers). Both are 256-entry lookup tables interpolated from matplotlib's control
// points.
import type { ColormapName } from './panel_protocol';

type Rgb = [number, number, number];

// matplotlib RdBu (11 samples), reversed.
const rdbuR: Rgb[] = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];
// matplotlib viridis (9 samples).
const viridis: Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function lut(points: Rgb[]): Uint8Array {
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (points.length - 1);
    const k = Math.min(Math.floor(t), points.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) table[i * 3 + c] = Math.round(points[k][c] * (1 - f) + points[k + 1][c] * f);
  }
  return table;
}

export const colormaps: Record<ColormapName, Uint8Array> = { diverging: lut(rdbuR), sequential: lut(viridis) };

/** The value range a colour map spans: symmetric about zero for the diverging map. */
export interface ColorRange {
  lo: number;
  hi: number;
}

/** Finite minimum and maximum of the values; null when none is finite. */
export function finiteRange(values: ArrayLike<number>): ColorRange | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? { lo, hi } : null;
}

/** The colour range for a data range: diverging maps centre on zero so that white means δT = 0. */
export function colorRangeFor(range: ColorRange, map: ColormapName): ColorRange {
  if (map === 'diverging') {
    const m = Math.max(Math.abs(range.lo), Math.abs(range.hi)) || 1;
    return { lo: -m, hi: m };
  }
  return range.lo === range.hi ? { lo: range.lo - 1, hi: range.hi + 1 } : range;
}

/**
 * Paints a [rows, cols] slice into RGBA pixels (row-major; row 0 at the top). Non-finite values are
 * painted magenta so that they stand out rather than hide as a colour of the map. `transform`, when
 * given, maps each value (and the range's ends) before the colour map, so a display transform spreads
 * the colours over its own scale; values outside the range take the map's end colours.
 */
export function paintSlice(
  values: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  range: ColorRange,
  map: ColormapName,
  out: Uint8ClampedArray,
  transform?: (v: number) => number,
): void {
  const table = colormaps[map];
  const lo = transform ? transform(range.lo) : range.lo;
  const scale = 255 / ((transform ? transform(range.hi) : range.hi) - lo);
  for (let i = 0; i < rows * cols; i++) {
    const v = values[offset + i];
    const o = i * 4;
    if (!Number.isFinite(v)) {
      out[o] = 255;
      out[o + 1] = 0;
      out[o + 2] = 255;
      out[o + 3] = 255;
      continue;
    }
    let k = Math.round(((transform ? transform(v) : v) - lo) * scale);
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    out[o] = table[k * 3];
    out[o + 1] = table[k * 3 + 1];
    out[o + 2] = table[k * 3 + 2];
    out[o + 3] = 255;
  }
}
