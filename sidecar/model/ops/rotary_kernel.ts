// Rotary position embedding as one kernel: y = x ⊙ cos + swapHalves(x) ⊙ signedSin, with signedSin the HF sin
// table whose first half is negated, so swapHalves(x) ⊙ signedSin equals HF's rotate_half(x) ⊙ sin
// (transformers/models/qwen2/modeling_qwen2.py, `rotate_half`, `apply_rotary_pos_emb`).
//
// Why a kernel: composed from TF.js ops the rotation is split + neg + concat + two products + a sum, six passes
// over q and k and as many again in backward; on wasm SplitV and Concat along the last axis copy 16-float runs one
// at a time and took ~8% of a training step of bench/train_step's shape (c). This kernel is one pass of plain JS
// over the backend's memory (memory-bound, so JS loses nothing to native code here), registered for the wasm and
// cpu backends. Its gradient is the inverse rotation, i.e. the same kernel with the sine negated:
//   dx_j = dy_j c_j + dy_{r(j)} s'_{r(j)} and s'_{r(j)} = −s'_j (r swaps the halves, the HF table repeats its half),
// so backward is one pass as well. Other backends (webgpu) use the composed ops.
import * as tf from '@tensorflow/tfjs';
import { floatAccess, registerJsKernel } from './js_kernel_memory';

export const rotaryKernelName = 'L3mRotary';

/** The loop: x (rows = …·T, d), tables (T, d); the table row of x's row r is r mod T. */
export function rotateRows(
  x: Float32Array,
  cos: Float32Array,
  sin: Float32Array,
  out: Float32Array,
  length: number,
  headDim: number,
  inverse: boolean,
): void {
  const half = headDim / 2;
  const rows = x.length / headDim;
  const sign = inverse ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const base = r * headDim;
    const table = (r % length) * headDim;
    for (let j = 0; j < half; j++) {
      const a = x[base + j];
      const b = x[base + j + half];
      out[base + j] = a * cos[table + j] + sign * b * sin[table + j];
      out[base + j + half] = b * cos[table + j + half] + sign * a * sin[table + j + half];
    }
  }
}

function kernelFunc(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs['x']!;
    const cos = inputs['cos']!;
    const sin = inputs['sin']!;
    const access = floatAccess(backendName, backend);
    const length = x.shape[x.shape.length - 2];
    const headDim = x.shape[x.shape.length - 1];
    // Output first: allocating can grow the wasm heap and detach views taken before.
    const out = access.write([...x.shape]);
    const xs = access.read(x);
    const cs = access.read(cos);
    const ss = access.read(sin);
    rotateRows(xs, cs, ss, out.values, length, headDim, Boolean(attrs?.['inverse']));
    return out.info;
  };
}

/** 'kernel' (default) or the HF composition of ops, for before/after measurements (bench/train_step.ts). */
export type RotaryMode = 'kernel' | 'composite';
let mode: RotaryMode = 'kernel';

export function setRotaryMode(next: RotaryMode): void {
  mode = next;
}

export function rotaryMode(): RotaryMode {
  return mode;
}

/** Registers the kernel for the backend when it is one the kernel serves (wasm, cpu); false otherwise. */
function ensureKernel(backendName: string): boolean {
  return registerJsKernel(rotaryKernelName, backendName, kernelFunc);
}

function checkShapes(x: tf.Tensor, cos: tf.Tensor, signedSin: tf.Tensor): void {
  const [length, headDim] = [x.shape[x.rank - 2], x.shape[x.rank - 1]];
  const ok =
    x.rank >= 2 &&
    headDim !== undefined &&
    headDim % 2 === 0 &&
    x.dtype === 'float32' &&
    cos.rank === 2 &&
    cos.shape[0] === length &&
    cos.shape[1] === headDim &&
    signedSin.rank === 2 &&
    signedSin.shape[0] === length &&
    signedSin.shape[1] === headDim;
  if (!ok) {
    throw new Error(
      `applyRotaryFused: x must be float32 (..., T, d) with even d and tables (T, d); got x [${x.shape.join(',')}] ` +
        `${x.dtype}, cos [${cos.shape.join(',')}], signedSin [${signedSin.shape.join(',')}]. Build the tables with rotaryTables for the same T.`,
    );
  }
}

/** swapHalves(x) = cat(x[..., d/2:], x[..., :d/2]) with TF.js ops (the path for backends without the kernel). */
function swapHalves(x: tf.Tensor): tf.Tensor {
  const [first, second] = tf.split(x, 2, -1);
  return tf.concat([second, first], -1);
}

/**
 * x · cos + rotate_half(x) · sin for x (..., T, d), tables (T, d), with `signedSin` = [−sin_half, sin_half] as
 * `rotaryTables` makes it. One kernel pass forward and one backward on wasm and cpu; composed ops elsewhere.
 */
export function applyRotaryFused(x: tf.Tensor, cos: tf.Tensor, signedSin: tf.Tensor): tf.Tensor {
  checkShapes(x, cos, signedSin);
  if (!ensureKernel(tf.getBackend())) {
    return tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(swapHalves(x), signedSin)));
  }
  // The tables are constants of the forward pass: closed over and saved (so they outlive the forward's tidy
  // until backward), not inputs, so no gradient is computed for them.
  const rotate: (input: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
    (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([cos, signedSin]);
      return {
        value: tf
          .engine()
          .runKernel<tf.Tensor>(rotaryKernelName, { x: input, cos, sin: signedSin }, { inverse: false }),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [c, s] = saved as [tf.Tensor, tf.Tensor];
          return [
            tf
              .engine()
              .runKernel<tf.Tensor>(rotaryKernelName, { x: dy as tf.Tensor, cos: c, sin: s }, { inverse: true }),
          ];
        },
      };
    },
  );
  return rotate(x);
}
