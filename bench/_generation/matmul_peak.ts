// The matrix-product peak of this machine on the wasm backend, one thread, measured in the run that uses it: the
// rate of a large square product on the fast kernel (XNNPACK's fully-connected path), the best of a few. A
// training step's GFLOP/s divided by it shows how far a step is from the physical limit of the backend, which
// stays meaningful on a noisy machine where absolute times do not.
import * as tf from '@tensorflow/tfjs';
import { installFastWasmKernels } from '../../sidecar/model/ops/install_wasm_kernels';
import { selectBackend } from '../../sidecar/runtime/backends';

export async function matMulPeakGflops(size = 1024, repeats = 5): Promise<number> {
  await selectBackend('wasm');
  installFastWasmKernels();
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1);
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2);
  let best = Infinity;
  try {
    for (let i = 0; i <= repeats; i++) {
      const start = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
      // The first product warms the kernel up and is not counted.
      if (i > 0) best = Math.min(best, performance.now() - start);
    }
  } finally {
    tf.dispose([a, b]);
  }
  return (2 * size ** 3) / best / 1e6;
}
