// RMSNorm as HF `Qwen2RMSNorm` (transformers/models/qwen2/modeling_qwen2.py):
// y = weight · x · rsqrt(mean(x², last axis) + eps), computed in float32 (HF upcasts to float32 too).
import * as tf from '@tensorflow/tfjs';
import { variableFrom, type WeightSource } from './weight_source';

export class Qwen2RmsNorm {
  weight: tf.Variable; // (H)

  constructor(
    readonly name: string,
    readonly size: number,
    readonly eps: number,
    source: WeightSource,
  ) {
    this.weight = variableFrom(source, `${name}.weight`, [size], 'norm');
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const variance = tf.mean(tf.square(x32), -1, true); // (..., 1)
      return tf.mul(tf.mul(x32, tf.rsqrt(tf.add(variance, this.eps))), this.weight); // (..., H)
    });
  }

  /** Sets the scale back to ones: the reference drops Qwen's final `norm.weight` (docs/paper-mapping.md#backbone). */
  resetToOnes(): void {
    tf.tidy(() => this.weight.assign(tf.onesLike(this.weight)));
  }

  namedWeights(): [string, tf.Variable][] {
    return [[`${this.name}.weight`, this.weight]];
  }

  dispose(): void {
    this.weight.dispose();
  }
}
