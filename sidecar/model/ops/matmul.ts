// The one matrix product the hot ops call: on the wasm backend it runs the fast kernel of
// ./wasm_fast_matmul.ts (every product on XNNPACK), elsewhere the backend's own tf.matMul.
// Not differentiable by itself: the ops that use it (linear, attention) define their gradients with
// tf.customGrad in terms of further calls to this function.
import * as tf from '@tensorflow/tfjs';
import { fastBatchMatMulKernelName, registerFastWasmMatMul } from './wasm_fast_matmul';

/**
 * How `matMulFast` computes on wasm, for before/after measurements (bench/train_step.ts):
 * - 'stock': tf.matMul with the transpose flags (as TF.js ships: transposed or batched products are scalar loops);
 * - 'transpose': transposes materialised with tf.transpose, then a non-transposed tf.matMul (2D products reach
 *   XNNPACK, batched ones still do not);
 * - 'xnn': the fast kernel (default).
 * Every mode gives the same numbers up to float32 summation order.
 */
export type MatMulMode = 'stock' | 'transpose' | 'xnn';

let mode: MatMulMode = 'xnn';

export function setMatMulMode(next: MatMulMode): void {
  mode = next;
}

export function matMulMode(): MatMulMode {
  return mode;
}

function swapLastTwo(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/** op(a) · op(b) over the last two axes, batch axes broadcast; op transposes when the flag is set. */
export function matMulFast(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (tf.getBackend() === 'wasm') {
    if (mode === 'xnn') {
      registerFastWasmMatMul();
      return tf.engine().runKernel<tf.Tensor>(fastBatchMatMulKernelName, { a, b }, { transposeA, transposeB });
    }
    if (mode === 'transpose') {
      return tf.tidy(() => tf.matMul(transposeA ? swapLastTwo(a) : a, transposeB ? swapLastTwo(b) : b));
    }
  }
  return tf.matMul(a, b, transposeA, transposeB);
}
