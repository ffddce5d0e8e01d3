// Zero-copy Identity and same-dtype Cast for the TF.js wasm backend.
//
// Why: TF.js saves a kernel's inputs for the backward pass through `engine.clone`, which runs the Identity
// kernel; the wasm backend's Identity (and its Cast when the dtype does not change) copies the whole buffer.
// In a training step of the Qwen2 stack that is ~360 full-tensor copies. The cpu backend already shares the
// buffer instead (tfjs-backend-cpu Identity: incRef and return the same dataId), and the wasm backend's own
// Reshape does the same; this is safe because no TF.js kernel writes into its inputs — every kernel writes a
// fresh output, and variables take new buffers on assign.
import * as tf from '@tensorflow/tfjs';

interface RefCountingBackend {
  incRef: (dataId: object) => void;
}

function share(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const stockKernels = new Map<string, tf.KernelConfig>();

/** Installs the zero-copy kernels on wasm (idempotent). Returns false when the wasm backend is not loaded. */
export function overrideWasmCopies(): boolean {
  if (stockKernels.size > 0) return true;
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  if (!identity || !cast) return false;
  stockKernels.set('Identity', identity);
  stockKernels.set('Cast', cast);
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs['x']!;
      return x.dtype === 'string' ? identity.kernelFunc(args) : share(x, args.backend);
    },
  });
  tf.unregisterKernel('Cast', 'wasm');
  tf.registerKernel({
    kernelName: 'Cast',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs['x']!;
      return x.dtype === args.attrs?.['dtype'] && x.dtype !== 'string' ? share(x, args.backend) : cast.kernelFunc(args);
    },
  });
  return true;
}

/** Puts the stock copying kernels back (for A/B measurements). */
export function restoreWasmCopies(): void {
  for (const [name, config] of stockKernels) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  stockKernels.clear();
}
