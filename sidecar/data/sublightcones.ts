// Sublightcone windows along the (cosmic-time ordered) slice axis.
//  - Training: windows of 12 slices whose first 2 are context only (excluded from the loss), the
//    paper's generation setup (reference `chunked_sublc_size` chunks with a random 12-slice crop).
//  - App. B split: 5 initial (conditioning) slices + 45 generated slices, windows of 50 with stride
//    45, so consecutive windows overlap by exactly the 5 conditioning slices. This is the reference
//    chunking `range(0, T − t_init, t_end − t_init)` with t_init = 5, t_end = 50; a last window
//    that would run past the end is aligned to the end (as the reference test chunking does), so
//    every slice is generated once.

export interface SublightconeWindow {
  /** First slice (inclusive) and end (exclusive) in the cone. */
  start: number;
  end: number;
  /** Leading slices used as context only, not scored. */
  context: number;
}

export const trainingWindowLength = 12;
export const trainingContextSlices = 2;

/** Loss mask of a window: 0 for context slices, 1 for scored slices. */
export function lossMask(length = trainingWindowLength, context = trainingContextSlices): Uint8Array {
  if (context >= length) throw new Error(`lossMask: ${context} context slices leave nothing to score in a ${length}-slice window.`);
  const mask = new Uint8Array(length).fill(1);
  mask.fill(0, 0, context);
  return mask;
}

/**
 * Windows of `context + target` slices with stride `target` over a cone of `nt` slices. With
 * `alignLast`, a final window ending at nt is added when the regular ones stop short of the end.
 */
export function chunkWindows(nt: number, context: number, target: number, alignLast = true): SublightconeWindow[] {
  const length = context + target;
  if (!Number.isInteger(context) || !Number.isInteger(target) || context < 0 || target < 1) {
    throw new Error(`chunkWindows: context ${context} and target ${target} must be integers with target ≥ 1.`);
  }
  if (nt < length) throw new Error(`chunkWindows: the cone has ${nt} slices, fewer than one window of ${length}; use a shorter window.`);
  const windows: SublightconeWindow[] = [];
  let start = 0;
  for (; start + length <= nt; start += target) windows.push({ start, end: start + length, context });
  const last = windows[windows.length - 1];
  if (alignLast && last.end < nt) {
    // The aligned window re-uses already generated slices as extra context, so only new ones are scored.
    windows.push({ start: nt - length, end: nt, context: length - (nt - last.end) });
  }
  return windows;
}

/** App. B evaluation split: 5 initial + 45 generated slices, stride 45. */
export function appendixBWindows(nt: number): SublightconeWindow[] {
  return chunkWindows(nt, 5, 45, true);
}

/** A uniformly random training window of `length` slices (start in [0, nt − length]). */
export function randomWindowStart(nt: number, length: number, random: () => number): number {
  if (nt < length) throw new Error(`randomWindowStart: the cone has ${nt} slices, fewer than the window of ${length}.`);
  return Math.min(nt - length, Math.floor(random() * (nt - length + 1)));
}

/**
 * Windows of `length` slices every `stride` slices (default length − context, the reference's
 * overlap by the context), for evaluation over whole cones with the config's `data.sublightcone`.
 */
export function slidingWindows(nt: number, sublightcone: { length: number; context: number; stride: number | null }): SublightconeWindow[] {
  const { length, context } = sublightcone;
  const stride = sublightcone.stride ?? length - context;
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`slidingWindows: stride ${stride} must be a positive integer.`);
  if (stride === length - context) return chunkWindows(nt, context, length - context, true);
  if (nt < length) throw new Error(`slidingWindows: the cone has ${nt} slices, fewer than one window of ${length}.`);
  const windows: SublightconeWindow[] = [];
  for (let start = 0; start + length <= nt; start += stride) windows.push({ start, end: start + length, context });
  return windows;
}
