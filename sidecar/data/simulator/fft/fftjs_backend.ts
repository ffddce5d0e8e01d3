// fft.js backend of the 3D real FFT: the pure-JavaScript fallback (docs/simulator.md#fft; radix-4, float64,
// powers of two only). A 3D transform is three passes of 1D complex transforms along the axes, lines
// gathered into a scratch buffer. The real transforms go through the full complex cube: simple, and
// this backend only runs when WASM is unavailable or for cross-checks.
import FFT from 'fft.js';
import { checkFftArrays, halfComplexLength, type Fft3 } from './fft3';

export function createFftJs3(n: number): Fft3 {
  if (!Number.isInteger(n) || n < 4 || (n & (n - 1)) !== 0) {
    throw new Error(`fft.js backend: N must be a power of two ≥ 4, got ${n}; use the kissfft backend for other sizes`);
  }
  const line = new FFT(n);
  // What createComplexArray returns (2n zeros, re/im interleaved), typed: the package types it any[].
  const lineIn = new Array<number>(2 * n).fill(0);
  const lineOut = new Array<number>(2 * n).fill(0);
  const cube = new Float64Array(2 * n * n * n);
  const half = halfComplexLength(n);
  const nh = n / 2 + 1;

  // One pass of 1D transforms along the axis with the given element stride.
  const pass = (stride: number, inverse: boolean): void => {
    const outerStrides = stride === 1 ? [n * n, n] : stride === n ? [n * n, 1] : [n, 1];
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        const start = a * outerStrides[0] + b * outerStrides[1];
        for (let t = 0; t < n; t++) {
          const idx = 2 * (start + t * stride);
          lineIn[2 * t] = cube[idx];
          lineIn[2 * t + 1] = cube[idx + 1];
        }
        if (inverse) line.inverseTransform(lineOut, lineIn);
        else line.transform(lineOut, lineIn);
        for (let t = 0; t < n; t++) {
          const idx = 2 * (start + t * stride);
          cube[idx] = lineOut[2 * t];
          cube[idx + 1] = lineOut[2 * t + 1];
        }
      }
    }
  };
  const transform3 = (inverse: boolean): void => {
    pass(1, inverse);
    pass(n, inverse);
    pass(n * n, inverse);
  };

  return {
    n,
    backend: 'fftjs',
    halfLength: half,
    forward(input, output) {
      checkFftArrays('fft.js forward', n, input, output);
      for (let i = 0; i < input.length; i++) {
        cube[2 * i] = input[i];
        cube[2 * i + 1] = 0;
      }
      transform3(false);
      for (let ij = 0; ij < n * n; ij++) {
        for (let k = 0; k < nh; k++) {
          output[2 * (ij * nh + k)] = cube[2 * (ij * n + k)];
          output[2 * (ij * nh + k) + 1] = cube[2 * (ij * n + k) + 1];
        }
      }
    },
    inverse(input, output) {
      checkFftArrays('fft.js inverse', n, output, input);
      // Rebuild the full spectrum from Hermitian symmetry: X[i,j,k] = conj X[−i,−j,N−k] for k > N/2.
      for (let i = 0; i < n; i++) {
        const iNeg = (n - i) % n;
        for (let j = 0; j < n; j++) {
          const jNeg = (n - j) % n;
          for (let k = 0; k < n; k++) {
            const dst = 2 * ((i * n + j) * n + k);
            if (k < nh) {
              const src = 2 * ((i * n + j) * nh + k);
              cube[dst] = input[src];
              cube[dst + 1] = input[src + 1];
            } else {
              const src = 2 * ((iNeg * n + jNeg) * nh + (n - k));
              cube[dst] = input[src];
              cube[dst + 1] = -input[src + 1];
            }
          }
        }
      }
      transform3(true);
      for (let i = 0; i < output.length; i++) output[i] = cube[2 * i];
    },
    dispose() {},
  };
}
