// One call for the training process after it selects the wasm backend: every tf.matMul on XNNPACK
// (./wasm_fast_matmul.ts), no copies for the tensors TF.js saves for backward (./wasm_zero_copy.ts), and
// tf.conv2d's gradients as XNNPACK convolutions (./wasm_conv2d_gradients.ts; the velocity CNN also registers
// these itself on first use, since without them tf.conv2d has no gradient on wasm).
// The model's own products (linear, attention) are fast without this; it covers every other tf.matMul and the
// saved-tensor copies. All replace kernels process-wide for the wasm backend, hence an explicit call.
import { overrideWasmBatchMatMul, restoreStockWasmMatMul } from './wasm_fast_matmul';
import { overrideWasmCopies, restoreWasmCopies } from './wasm_zero_copy';
import { registerWasmConvGradients, restoreWasmConvGradients } from './wasm_conv2d_gradients';

/** Installs the fast wasm kernels (idempotent); false when tfjs-backend-wasm is not loaded. */
export function installFastWasmKernels(): boolean {
  return overrideWasmBatchMatMul('xnn') && overrideWasmCopies() && registerWasmConvGradients();
}

/** Restores TF.js's stock wasm kernels. */
export function uninstallFastWasmKernels(): void {
  restoreStockWasmMatMul();
  restoreWasmCopies();
  restoreWasmConvGradients();
}
