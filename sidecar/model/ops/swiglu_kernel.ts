// The SiLU-gated product of HF `Qwen2MLP`, silu(gate) · up = gate · σ(gate) · up, with one-pass kernels.
//
// Why: composed from TF.js ops this is sigmoid + two products forward and seven element-wise passes backward
// (the product rule twice and σ' = σ(1 − σ)), each over the (B, T, intermediate) activations, the largest
// element-wise tensors of the step. Here σ comes from the backend's own Sigmoid kernel (vectorised on wasm), the
// products are one JS pass forward, and backward is one pass that writes both gradients:
//   d up   = dy · gate · σ
//   d gate = dy · up · σ · (1 + gate · (1 − σ))        (d/dg [g σ(g)] = σ + g σ (1 − σ))
// Measured on wasm for (32, 64, 256): ~14 ms → ~6 ms forward + backward. Registered for wasm and cpu; other
// backends compose the ops.
import * as tf from '@tensorflow/tfjs';
import { floatAccess, registerJsKernel } from './js_kernel_memory';

export const swigluKernelName = 'L3mSwiGlu';
export const swigluGradKernelName = 'L3mSwiGluGrad';

/** out = gate · sig · up, element-wise. */
export function swigluRows(gate: Float32Array, sig: Float32Array, up: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = gate[i] * sig[i] * up[i];
}

/** Both input gradients of gate · σ(gate) · up for the cotangent dy. */
export function swigluGradRows(
  gate: Float32Array,
  sig: Float32Array,
  up: Float32Array,
  dy: Float32Array,
  dGate: Float32Array,
  dUp: Float32Array,
): void {
  for (let i = 0; i < dy.length; i++) {
    const g = gate[i];
    const s = sig[i];
    const d = dy[i];
    dUp[i] = d * g * s;
    dGate[i] = d * up[i] * s * (1 + g * (1 - s));
  }
}

function forwardKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const access = floatAccess(backendName, backend);
    const out = access.write([...inputs['gate']!.shape]); // before reading: allocating may move the wasm heap
    swigluRows(access.read(inputs['gate']!), access.read(inputs['sig']!), access.read(inputs['up']!), out.values);
    return out.info;
  };
}

function gradKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const access = floatAccess(backendName, backend);
    const shape = [...inputs['gate']!.shape];
    const dGate = access.write(shape);
    const dUp = access.write(shape);
    // Views of the first output are re-taken after the second allocation for the same reason.
    swigluGradRows(
      access.read(inputs['gate']!),
      access.read(inputs['sig']!),
      access.read(inputs['up']!),
      access.read(inputs['dy']!),
      access.read(dGate.info),
      dUp.values,
    );
    return [dGate.info, dUp.info];
  };
}

const fused: (gate: tf.Tensor, up: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [gate, up, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const sig = tf.sigmoid(gate);
    save([gate, up, sig]);
    return {
      value: tf.engine().runKernel<tf.Tensor>(swigluKernelName, { gate, sig, up }),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [g, u, s] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return tf
          .engine()
          .runKernel<tf.Tensor[]>(swigluGradKernelName, { gate: g, sig: s, up: u, dy: dy as tf.Tensor });
      },
    };
  },
);

/** 'kernel' (default) or the composed ops, for before/after measurements (bench/train_step.ts). */
export type SwigluMode = 'kernel' | 'composite';
let mode: SwigluMode = 'kernel';

export function setSwigluMode(next: SwigluMode): void {
  mode = next;
}

/** silu(gate) · up for equal-shaped float32 tensors; one-pass kernels on wasm and cpu, composed ops elsewhere. */
export function swiglu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  if (gate.dtype !== 'float32' || up.dtype !== 'float32' || !tf.util.arraysEqual(gate.shape, up.shape)) {
    throw new Error(
      `swiglu: gate and up must be float32 tensors of one shape, got [${gate.shape.join(',')}] ${gate.dtype} and ` +
        `[${up.shape.join(',')}] ${up.dtype}; both come from the MLP's gate_proj and up_proj of the same input.`,
    );
  }
  const backendName = tf.getBackend();
  const kernels =
    mode === 'kernel' &&
    registerJsKernel(swigluKernelName, backendName, forwardKernel) &&
    registerJsKernel(swigluGradKernelName, backendName, gradKernel);
  if (!kernels) return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
  return fused(gate, up);
}
