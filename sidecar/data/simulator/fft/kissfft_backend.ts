// kissfft-wasm backend of the 3D real FFT (docs/simulator.md#fft: fastest measured here, any even N).
// Two pitfalls of its Emscripten loader under Node are handled here: (1) it calls `fetch()` on a file
// path when `fetch` exists (Node ≥ 18) and fails with ERR_INVALID_URL, so `fetch` is hidden while the
// module loads; (2) the WASM heap can grow on allocation, which detaches old Float32Array views, so the
// views are re-acquired on every call. The package is resolved at run time (not bundled) so that its
// `kissfft.wasm` is found next to its own loader.
import { createRequire } from 'node:module';
import { checkFftArrays, halfComplexLength, type Fft3 } from './fft3';

interface KissArray {
  asFloat32Array(): Float32Array;
  free(): void;
}
interface KissConfig<I, O> {
  work(input: I, output: O): void;
  free(): void;
}
interface KissModule {
  RealArray: new (n: number) => KissArray;
  ComplexArray: new (n: number) => KissArray;
  RealFFTNDConfig: new (dims: number[]) => KissConfig<KissArray, KissArray>;
  InverseRealFFTNDConfig: new (dims: number[]) => KissConfig<KissArray, KissArray>;
}

const kissClasses = [
  'RealArray',
  'ComplexArray',
  'RealFFTNDConfig',
  'InverseRealFFTNDConfig',
] as const satisfies readonly (keyof KissModule)[];

/** Whether a module loaded at run time has the functions (or classes) named, as the version the code was written for has. */
function hasFunctions<T>(value: unknown, names: readonly (keyof T & string)[]): value is T {
  return (
    typeof value === 'object' && value !== null && names.every((name) => typeof Reflect.get(value, name) === 'function')
  );
}

let loading: Promise<KissModule> | null = null;

/** Loads kissfft-wasm once per thread (each worker thread has its own WASM instance). */
export function loadKissFft(): Promise<KissModule> {
  if (!loading) {
    loading = (async () => {
      const base = typeof __filename === 'string' ? __filename : `${process.cwd()}/`;
      const requireAtRunTime = createRequire(base);
      const savedFetch = globalThis.fetch;
      // Pitfall (1): without fetch the loader reads kissfft.wasm with fs instead of fetching a path.
      (globalThis as { fetch?: unknown }).fetch = undefined;
      try {
        const wasmModule: unknown = requireAtRunTime('kissfft-wasm/lib/wasm');
        if (!hasFunctions<{ waitLoading(): Promise<void> }>(wasmModule, ['waitLoading'])) {
          throw new Error(
            "kissfft-wasm/lib/wasm exports no waitLoading(); expected kissfft-wasm 1.x (reinstall the extension's packages).",
          );
        }
        await wasmModule.waitLoading();
        const kiss: unknown = requireAtRunTime('kissfft-wasm');
        if (!hasFunctions<KissModule>(kiss, kissClasses)) {
          throw new Error(
            `kissfft-wasm lacks one of ${kissClasses.join(', ')}; expected kissfft-wasm 1.x (reinstall the extension's packages).`,
          );
        }
        return kiss;
      } finally {
        globalThis.fetch = savedFetch;
      }
    })();
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

export async function createKissFft3(n: number): Promise<Fft3> {
  if (!Number.isInteger(n) || n < 2 || n % 2 !== 0) {
    throw new Error(`kissfft backend: N must be an even integer ≥ 2 (real FFT), got ${n}`);
  }
  const kiss = await loadKissFft();
  const total = n * n * n;
  const half = halfComplexLength(n);
  const realBuffer = new kiss.RealArray(total);
  // A third pitfall: the wrapper's length check wants N³ complex values, of which only
  // N²(N/2+1) are used.
  const complexBuffer = new kiss.ComplexArray(total);
  const forwardConfig = new kiss.RealFFTNDConfig([n, n, n]);
  const inverseConfig = new kiss.InverseRealFFTNDConfig([n, n, n]);
  let disposed = false;
  const assertLive = (): void => {
    if (disposed) throw new Error('kissfft backend: this FFT was disposed; create a new one');
  };
  return {
    n,
    backend: 'kissfft',
    halfLength: half,
    forward(input, output) {
      assertLive();
      checkFftArrays('kissfft forward', n, input, output);
      realBuffer.asFloat32Array().set(input);
      forwardConfig.work(realBuffer, complexBuffer);
      output.set(complexBuffer.asFloat32Array().subarray(0, 2 * half));
    },
    inverse(input, output) {
      assertLive();
      checkFftArrays('kissfft inverse', n, output, input);
      complexBuffer.asFloat32Array().set(input);
      inverseConfig.work(complexBuffer, realBuffer);
      output.set(realBuffer.asFloat32Array());
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      forwardConfig.free();
      inverseConfig.free();
      realBuffer.free();
      complexBuffer.free();
    },
  };
}
