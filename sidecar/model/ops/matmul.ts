// The one matrix product the hot ops call: on the wasm backend it runs the fast kernel of
// ./wasm_fast_matmul.ts (every product on XNNPACK), elsewhere the backend's own tf.matMul.
// Not differentiable by itself: the ops that use it (linear, attention) define their gradients with
// tf.customGrad in terms of further calls to this function.
import * as tf from '@tensorflow/tfjs';
import { fastBatchMatMulKernelName, registerFastWasmMatMul } from './wasm_fast_matmul';

/** op(a) · op(b) over the last two axes, batch axes broadcast; op transposes when the flag is set. */
export function matMulFast(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (tf.getBackend() === 'wasm') {
    registerFastWasmMatMul();
    return tf.engine().runKernel(fastBatchMatMulKernelName, { a, b }, { transposeA, transposeB }) as tf.Tensor;
  }
  return tf.matMul(a, b, transposeA, transposeB);
}
