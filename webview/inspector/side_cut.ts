// The cuts of the side view (side_view.ts), as plain arrays: no page needed, so they are checked
// against the slices value for value.
import type { Float32Npy } from '../../sidecar/protocol/npy_format';

/** One row `row` of every slice of a [slices, rows, cols] array, as a [cols, slices] image (transverse down, slices across). */
export function sideCut(array: Float32Npy, row: number): Float32Array {
  const [slices, rows, cols] = array.shape;
  const out = new Float32Array(cols * slices).fill(NaN);
  if (row < 0 || row >= rows) return out;
  for (let s = 0; s < slices; s++) {
    const base = s * rows * cols + row * cols;
    for (let x = 0; x < cols; x++) out[x * slices + s] = array.data[base + x];
  }
  return out;
}

/**
 * The generated cut over the truth's slices: the context slices (before `offset`, which the generated
 * file does not repeat) from the truth, the rest from the generated file.
 */
export function generatedSideCut(truth: Float32Npy, generated: Float32Npy, offset: number, row: number): Float32Array {
  const [slices, , cols] = truth.shape;
  const out = sideCut(truth, row);
  const forecast = sideCut(generated, row);
  const generatedSlices = generated.shape[0];
  for (let x = 0; x < cols; x++)
    for (let s = offset; s < slices; s++)
      out[x * slices + s] = s - offset < generatedSlices ? forecast[x * generatedSlices + s - offset] : NaN;
  return out;
}
