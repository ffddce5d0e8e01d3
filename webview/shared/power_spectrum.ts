// The 2D power spectrum of a slice, the summary statistic the paper compares true and generated
// 21cm slices with: P(k) averaged over annuli |k| ∈ [k_i, k_i+1) of the 2D discrete Fourier
// transform of the mean-subtracted slice, P = |δ̃(k)|² / N² (per-pixel normalisation, so the units
// are mK² when the slice is in mK). k is in units of the fundamental mode 2π/L (1 … N/2), since the
// panel compares shapes of spectra from the same box. Power-of-two sizes use fft.js (radix-4);
// other sizes (the paper's 140×140) use a direct DFT per row and column rather than zero padding,
// which would bias the spectrum; it is fast enough at these sizes.
import FFT from 'fft.js';

/** One-dimensional complex transform of each row then each column, in place on interleaved re/im. */
function transform2d(re: Float64Array, im: Float64Array, rows: number, cols: number): void {
  const lineTransform = (length: number): ((inRe: Float64Array, inIm: Float64Array) => void) => {
    if (length >= 4 && (length & (length - 1)) === 0) {
      const fft = new FFT(length);
      const input = fft.createComplexArray();
      const output = fft.createComplexArray();
      return (inRe, inIm) => {
        for (let i = 0; i < length; i++) {
          input[2 * i] = inRe[i];
          input[2 * i + 1] = inIm[i];
        }
        fft.transform(output, input);
        for (let i = 0; i < length; i++) {
          inRe[i] = output[2 * i];
          inIm[i] = output[2 * i + 1];
        }
      };
    }
    // Direct DFT with a precomputed twiddle table: O(n²) per line, 140² · 2 · 140 ≈ 5.5M products.
    const cos = new Float64Array(length);
    const sin = new Float64Array(length);
    for (let k = 0; k < length; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / length);
      sin[k] = Math.sin((2 * Math.PI * k) / length);
    }
    const outRe = new Float64Array(length);
    const outIm = new Float64Array(length);
    return (inRe, inIm) => {
      for (let k = 0; k < length; k++) {
        let sr = 0;
        let si = 0;
        for (let n = 0, t = 0; n < length; n++, t = (t + k) % length) {
          sr += inRe[n] * cos[t] + inIm[n] * sin[t];
          si += inIm[n] * cos[t] - inRe[n] * sin[t];
        }
        outRe[k] = sr;
        outIm[k] = si;
      }
      inRe.set(outRe);
      inIm.set(outIm);
    };
  };
  const rowT = lineTransform(cols);
  const lineRe = new Float64Array(cols);
  const lineIm = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    lineRe.set(re.subarray(r * cols, (r + 1) * cols));
    lineIm.set(im.subarray(r * cols, (r + 1) * cols));
    rowT(lineRe, lineIm);
    re.set(lineRe, r * cols);
    im.set(lineIm, r * cols);
  }
  const colT = lineTransform(rows);
  const colRe = new Float64Array(rows);
  const colIm = new Float64Array(rows);
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      colRe[r] = re[r * cols + c];
      colIm[r] = im[r * cols + c];
    }
    colT(colRe, colIm);
    for (let r = 0; r < rows; r++) {
      re[r * cols + c] = colRe[r];
      im[r * cols + c] = colIm[r];
    }
  }
}

export interface PowerSpectrum {
  /** Annulus centres, in units of the fundamental mode. */
  k: number[];
  /** Mean power per annulus; null for an empty annulus or non-finite input. */
  power: (number | null)[];
}

/** P(k) of the slice values[offset … offset + rows·cols) in annuli of width 1 up to min(rows, cols)/2. */
export function powerSpectrum2d(values: ArrayLike<number>, offset: number, rows: number, cols: number): PowerSpectrum {
  const n = rows * cols;
  let mean = 0;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const v = values[offset + i];
    if (!Number.isFinite(v)) finite = false;
    mean += v;
  }
  const bins = Math.floor(Math.min(rows, cols) / 2);
  const k = Array.from({ length: bins }, (_, i) => i + 1);
  if (!finite) return { k, power: k.map(() => null) };
  mean /= n;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = values[offset + i] - mean;
  transform2d(re, im, rows, cols);
  const sum = new Float64Array(bins + 1);
  const count = new Float64Array(bins + 1);
  for (let r = 0; r < rows; r++) {
    const kr = r <= rows / 2 ? r : r - rows;
    for (let c = 0; c < cols; c++) {
      const kc = c <= cols / 2 ? c : c - cols;
      const bin = Math.round(Math.hypot(kr, kc));
      if (bin < 1 || bin > bins) continue;
      const p = re[r * cols + c] ** 2 + im[r * cols + c] ** 2;
      sum[bin] += p / (n * n);
      count[bin] += 1;
    }
  }
  return { k, power: k.map((b) => (count[b] > 0 ? sum[b] / count[b] : null)) };
}
