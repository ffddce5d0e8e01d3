// y = x · Wᵀ + b with weights in Hugging Face layout W [out, in], with an explicit gradient.
//
// Why a custom gradient: TF.js's stock matMul gradient expresses dX and dW as transposed products, which the
// wasm backend runs in a scalar loop (see ./wasm_fast_matmul.ts). Here both come from `matMulFast`, which keeps
// them on XNNPACK: dX = dY · W (N×out · out×in), dW = dYᵀ · X (out×N · N×in), db = Σ_rows dY.
// On the other backends matMulFast is tf.matMul, so the numbers are the plain ops' numbers.
import * as tf from '@tensorflow/tfjs';
import { matMulFast } from './matmul';

function checkShapes(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): void {
  if (weight.rank !== 2) {
    throw new Error(
      `linear: weight must be 2D [out, in] (Hugging Face layout), got shape [${weight.shape.join(',')}].`,
    );
  }
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  if (x.rank < 1 || x.shape[x.rank - 1] !== inFeatures) {
    throw new Error(
      `linear: input shape [${x.shape.join(',')}] must end in ${inFeatures} features to match weight ` +
        `[out ${outFeatures}, in ${inFeatures}].`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(
      `linear: bias must be 1D [${outFeatures}] to match weight [out ${outFeatures}, in ${inFeatures}], ` +
        `got shape [${bias.shape.join(',')}].`,
    );
  }
}

const linearNoBias: (x: tf.Tensor, weight: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, weight, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([x, weight]);
    return {
      value: matMulFast(x, weight, false, true), // (N, out)
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [x2d, w] = saved as [tf.Tensor, tf.Tensor];
        const g = dy as tf.Tensor; // (N, out)
        return [matMulFast(g, w), matMulFast(g, x2d, true, false)]; // dX (N, in), dW (out, in)
      },
    };
  },
);

const linearWithBias: (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, weight, bias, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([x, weight]);
    return {
      value: tf.add(matMulFast(x, weight, false, true), bias), // (N, out)
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [x2d, w] = saved as [tf.Tensor, tf.Tensor];
        const g = dy as tf.Tensor; // (N, out)
        return [matMulFast(g, w), matMulFast(g, x2d, true, false), tf.sum(g, 0)]; // dX, dW, db (out)
      },
    };
  },
);

/** y = x · weightᵀ + bias, for x (..., in), weight (out, in), bias (out) → (..., out). */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  checkShapes(x, weight, bias);
  return tf.tidy(() => {
    const [outFeatures, inFeatures] = weight.shape as [number, number];
    const leading = x.shape.slice(0, -1);
    const x2d = x.reshape([-1, inFeatures]); // (N, in)
    const y = bias ? linearWithBias(x2d, weight, bias) : linearNoBias(x2d, weight); // (N, out)
    return y.reshape([...leading, outFeatures]); // (..., out)
  });
}
