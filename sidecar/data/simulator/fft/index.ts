// FFT backend selection: kissfft-wasm first, fft.js when WASM cannot load (docs/simulator.md#fft).
import { createFftJs3 } from './fftjs_backend';
import { createKissFft3 } from './kissfft_backend';
import type { Fft3, FftBackendName } from './fft3';
import { errorMessage } from '../../../protocol/error_message';

export type { Fft3, FftBackendName } from './fft3';
export { halfComplexLength } from './fft3';

/** 'auto' tries kissfft-wasm and falls back to fft.js (power-of-two N only) if it fails to load. */
export async function createFft3(n: number, backend: FftBackendName | 'auto' = 'auto'): Promise<Fft3> {
  if (backend === 'fftjs') return createFftJs3(n);
  if (backend === 'kissfft') return createKissFft3(n);
  try {
    return await createKissFft3(n);
  } catch (error) {
    if ((n & (n - 1)) !== 0) {
      throw new Error(
        `FFT: kissfft-wasm failed to load (${errorMessage(error)}) and the fft.js fallback ` +
          `needs a power-of-two N, got ${n}; reinstall kissfft-wasm or choose N = 32, 64, 128`,
        { cause: error },
      );
    }
    return createFftJs3(n);
  }
}
