// Rotary position embedding in the Hugging Face "rotate half" convention (HF `Qwen2RotaryEmbedding`,
// `rotate_half`, `apply_rotary_pos_emb`): dimension i of a head is rotated together with dimension i + d/2,
// with inv_freq_i = θ^(-2i/d). This is what real Qwen checkpoints were trained with, NOT the interleaved pairs
// (2i, 2i+1) that the paper's Eq. 17 suggests.
import * as tf from '@tensorflow/tfjs';
import { applyRotaryFused, rotaryMode } from './ops/rotary_kernel';

/** Rotary tables for T positions, each (T, d). */
export interface RotaryTables {
  /** HF's cos table: each half repeated as cat((freqs, freqs)). */
  cos: tf.Tensor2D;
  /** HF's sin table, halves repeated likewise. */
  sin: tf.Tensor2D;
  /** sin with its first half negated: rotate_half(x) · sin = swapHalves(x) · signedSin (./ops/rotary_kernel.ts). */
  signedSin: tf.Tensor2D;
}

/** cos and sin tables for explicit positions: each (T, d), each half repeated as HF's cat((freqs, freqs)). */
export function rotaryTables(positions: readonly number[], headDim: number, theta: number): RotaryTables {
  const half = headDim / 2;
  // HF computes inv_freq and the angles in float32; the angle is formed here in float64 and rounded once,
  // which differs from HF by at most one float32 rounding of the angle (relative 6e-8).
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  const cos = new Float32Array(positions.length * headDim);
  const sin = new Float32Array(positions.length * headDim);
  const signedSin = new Float32Array(positions.length * headDim);
  positions.forEach((position, t) => {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(position * Math.fround(invFreq[i]));
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * headDim + i] = c;
      cos[t * headDim + i + half] = c;
      sin[t * headDim + i] = s;
      sin[t * headDim + i + half] = s;
      signedSin[t * headDim + i] = -s;
      signedSin[t * headDim + i + half] = s;
    }
  });
  const shape: [number, number] = [positions.length, headDim];
  return { cos: tf.tensor2d(cos, shape), sin: tf.tensor2d(sin, shape), signedSin: tf.tensor2d(signedSin, shape) };
}

/** rotate_half(x) = cat(-x[..., d/2:], x[..., :d/2]). */
export function rotateHalf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [first, second] = tf.split(x, 2, -1); // each (..., d/2)
    return tf.concat([tf.neg(second), first], -1); // (..., d)
  });
}

/** x · cos + rotate_half(x) · sin for x (B, heads, T, d) and tables (T, d), composed of TF.js ops as HF writes it. */
export function applyRotary(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin))); // (B, heads, T, d)
}

/** The model's rotary: the one-pass kernel (./ops/rotary_kernel.ts) unless switched to the composition for measurements. */
export function applyRotaryTables(x: tf.Tensor, tables: RotaryTables): tf.Tensor {
  return rotaryMode() === 'kernel'
    ? applyRotaryFused(x, tables.cos, tables.signedSin)
    : applyRotary(x, tables.cos, tables.sin);
}
