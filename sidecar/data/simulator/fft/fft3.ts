// The 3D real FFT interface of the simulator (docs/simulator.md#fft). Everything in the pipeline goes
// through `forward` (real → half-complex) and `inverse` (half-complex → real, scaled by 1/N³), so the
// backend (kissfft-wasm by default, fft.js as the pure-JS fallback) is swappable and testable.

export type FftBackendName = 'kissfft' | 'fftjs';

/**
 * Half-complex layout (as FFTW/kissfft r2c): index ((i·N + j)·(N/2+1) + k) for k = 0..N/2, complex
 * numbers interleaved (re, im). Sign convention: forward uses e^{−i k·x}; inverse carries the 1/N³.
 */
export interface Fft3 {
  readonly n: number;
  readonly backend: FftBackendName;
  /** Number of complex values in the half-complex array, N·N·(N/2+1). */
  readonly halfLength: number;
  /** r2c of `input` (N³ reals) into `output` (2·halfLength floats). `input` is not modified. */
  forward(input: Float32Array, output: Float32Array): void;
  /** c2r with 1/N³ of `input` (2·halfLength floats, Hermitian) into `output` (N³ reals). `input` is not modified. */
  inverse(input: Float32Array, output: Float32Array): void;
  /** Frees WASM memory; the object is unusable afterwards. */
  dispose(): void;
}

export function halfComplexLength(n: number): number {
  return n * n * (n / 2 + 1);
}

/** Checks the sizes of one call and says what was expected. */
export function checkFftArrays(name: string, n: number, real: Float32Array, complex: Float32Array): void {
  const realLength = n * n * n;
  const complexLength = 2 * halfComplexLength(n);
  if (real.length !== realLength || complex.length !== complexLength) {
    throw new Error(
      `${name}: for N = ${n} expected a real array of ${realLength} and a half-complex array of ` +
        `${complexLength} floats, got ${real.length} and ${complex.length}`,
    );
  }
}
