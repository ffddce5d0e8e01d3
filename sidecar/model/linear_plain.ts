// The one linear map every layer of the model calls, with weights in Hugging Face layout [out, in].
// This is the plain TF.js version; the ops/perf helper provides a wasm-fast one in ./ops/linear.ts with
// the same signature and numbers, and this file is the single place to switch the import.
import * as tf from '@tensorflow/tfjs';

/** y = x · weightᵀ + bias, for x (..., in), weight (out, in), bias (out) → (..., out). */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inFeatures = weight.shape[1]!;
    const outFeatures = weight.shape[0]!;
    if (x.shape[x.rank - 1] !== inFeatures) {
      throw new Error(`linear: input last dimension ${x.shape[x.rank - 1]} does not match weight [out ${outFeatures}, ` +
        `in ${inFeatures}]; the input must end in ${inFeatures} features.`);
    }
    const leading = x.shape.slice(0, -1);
    const x2d = x.reshape([-1, inFeatures]); // (N, in)
    let y = tf.matMul(x2d, weight, false, true); // (N, out)
    if (bias) y = tf.add(y, bias);
    return y.reshape([...leading, outFeatures]); // (..., out)
  });
}
