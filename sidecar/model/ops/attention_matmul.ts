// The two batched products of attention, with explicit gradients that stay on the fast matrix path.
//
// scores = q · kᵀ:  dq = dS · k,   dk = dSᵀ · q
// output = p · v:   dp = dO · vᵀ,  dv = pᵀ · dO
// All products go through `matMulFast`, which on wasm splits the (B·nH) batch into batch-1 XNNPACK products
// (the stock wasm kernel runs every batched or transposed product in a scalar loop); on other backends it is
// tf.matMul, so values and gradients equal the plain ops. The 1/sqrt(d) scale and the mask stay with the caller.
import * as tf from '@tensorflow/tfjs';
import { matMulFast } from './matmul';

function checkPair(
  name: string,
  a: tf.Tensor,
  aName: string,
  b: tf.Tensor,
  bName: string,
  sharedAxis: 'last' | 'rows',
): void {
  if (a.rank !== 4 || b.rank !== 4) {
    throw new Error(
      `${name}: ${aName} and ${bName} must be 4D (B, nH, ·, ·), got [${a.shape.join(',')}] and [${b.shape.join(',')}].`,
    );
  }
  if (a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) {
    throw new Error(
      `${name}: batch and head axes of ${aName} [${a.shape.join(',')}] and ${bName} [${b.shape.join(',')}] differ; repeat ` +
        'the key/value heads for their query groups first.',
    );
  }
  const aInner = a.shape[3];
  const bInner = sharedAxis === 'last' ? b.shape[3] : b.shape[2];
  if (aInner !== bInner) {
    throw new Error(
      `${name}: ${aName} [${a.shape.join(',')}] and ${bName} [${b.shape.join(',')}] do not share the contracted axis ` +
        `(${aInner} vs ${bInner}).`,
    );
  }
}

const scoresOp: (q: tf.Tensor, k: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [q, k, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([q, k]);
    return {
      value: matMulFast(q, k, false, true), // (B, nH, T, S)
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [qs, ks] = saved as [tf.Tensor, tf.Tensor];
        const g = dy as tf.Tensor; // (B, nH, T, S)
        return [matMulFast(g, ks), matMulFast(g, qs, true, false)]; // dq (B, nH, T, d), dk (B, nH, S, d)
      },
    };
  },
);

const outputOp: (p: tf.Tensor, v: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [p, v, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([p, v]);
    return {
      value: matMulFast(p, v), // (B, nH, T, d)
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [ps, vs] = saved as [tf.Tensor, tf.Tensor];
        const g = dy as tf.Tensor; // (B, nH, T, d)
        return [matMulFast(g, vs, false, true), matMulFast(ps, g, true, false)]; // dp (B, nH, T, S), dv (B, nH, S, d)
      },
    };
  },
);

/** Raw attention scores q · kᵀ: q (B, nH, T, d), k (B, nH, S, d) → (B, nH, T, S); unscaled, unmasked. */
export function attentionScores(q: tf.Tensor, k: tf.Tensor): tf.Tensor {
  checkPair('attentionScores', q, 'q', k, 'k', 'last');
  return scoresOp(q, k);
}

/** Attention output p · v: p (B, nH, T, S), v (B, nH, S, d) → (B, nH, T, d). */
export function attentionOutput(p: tf.Tensor, v: tf.Tensor): tf.Tensor {
  checkPair('attentionOutput', p, 'p', v, 'v', 'rows');
  return outputOp(p, v);
}
