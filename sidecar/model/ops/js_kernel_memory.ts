// Shared plumbing for the model's plain-JS kernels (./rotary_kernel.ts, ./swiglu_kernel.ts): float views of a
// tensor's memory on the wasm backend (its heap) and the cpu backend (its typed arrays), and registration once per
// backend. Element-wise chains are memory-bound, so one JS pass over the backend's memory beats several passes of
// the backend's own kernels, each with its own dispatch and a fresh output buffer.
import * as tf from '@tensorflow/tfjs';

/** Read an input's floats; make an output whose floats the kernel fills. */
export interface FloatAccess {
  read: (info: tf.TensorInfo) => Float32Array;
  write: (shape: number[]) => { info: tf.TensorInfo; values: Float32Array };
}

interface WasmLike {
  typedArrayFromHeap: (info: tf.TensorInfo) => Float32Array;
  makeOutput: (shape: number[], dtype: tf.DataType) => tf.TensorInfo;
}

interface CpuLike {
  data: { get: (dataId: object) => { values: Float32Array } };
  makeTensorInfo: (shape: number[], dtype: tf.DataType, values: Float32Array) => tf.TensorInfo;
}

/**
 * Float access for 'wasm' or 'cpu'. On wasm, views are taken after every allocation a kernel makes: an allocation
 * can grow the heap, which detaches earlier views (write() returns a fresh one; read inputs after writing outputs).
 */
export function floatAccess(backendName: string, backend: unknown): FloatAccess {
  if (backendName === 'wasm') {
    const wasm = backend as WasmLike;
    return {
      read: (info) => wasm.typedArrayFromHeap(info),
      write: (shape) => {
        const info = wasm.makeOutput(shape, 'float32');
        return { info, values: wasm.typedArrayFromHeap(info) };
      },
    };
  }
  const cpu = backend as CpuLike;
  return {
    read: (info) => cpu.data.get(info.dataId).values,
    write: (shape) => {
      const values = new Float32Array(shape.reduce((p, s) => p * s, 1));
      return { info: cpu.makeTensorInfo(shape, 'float32', values), values };
    },
  };
}

const registered = new Set<string>();

/** Registers `kernelName` on `backendName` once, when it is wasm or cpu; false for other backends. */
export function registerJsKernel(
  kernelName: string,
  backendName: string,
  make: (backendName: string) => tf.KernelFunc,
): boolean {
  if (backendName !== 'wasm' && backendName !== 'cpu') return false;
  const key = `${kernelName}/${backendName}`;
  if (!registered.has(key)) {
    registered.add(key);
    tf.registerKernel({ kernelName, backendName, kernelFunc: make(backendName) });
  }
  return true;
}
