// Token embedding lookup with a gradient that works on every backend. TF.js's stock gradient of gather is an
// UnsortedSegmentSum, which the wasm backend does not register ("Kernel 'UnsortedSegmentSum' not registered
// for backend 'wasm'"), so training embeddings (reference networks from scratch) would fail there. Where the
// kernel is missing, the gradient is the equivalent one-hot product dW = onehot(ids)ᵀ · dY instead.
import * as tf from '@tensorflow/tfjs';

function segmentSumAvailable(): boolean {
  return tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined;
}

const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [table, flatIds, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([flatIds]);
  return {
    value: tf.gather(table, flatIds), // (N, H)
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [ids] = saved as [tf.Tensor1D];
      const g = dy as tf.Tensor2D; // (N, H)
      const vocab = table.shape[0];
      const dTable = segmentSumAvailable()
        ? tf.unsortedSegmentSum(g, ids, vocab) // (vocab, H)
        : // oneHot is built as int32 and cast: tfjs-backend-wasm 4.22's OneHot with dtype float32 writes the integer
          // bit pattern of 1 (a 1.4e-45 denormal) instead of 1.0.
          tf.matMul(tf.cast(tf.oneHot(ids, vocab), 'float32'), g, true, false); // (vocab, H)
      // Token ids are not differentiable; their "gradient" is zeros so that the tape has one per input.
      return [dTable, tf.zerosLike(ids)];
    },
  };
}) as (table: tf.Tensor2D, flatIds: tf.Tensor1D) => tf.Tensor2D;

/** Rows of `table` (vocab, H) for `ids` (...) int32 → (..., H). */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const asInt = ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
    const rows = lookup(table, asInt.flatten()); // (N, H)
    return rows.reshape([...ids.shape, table.shape[1]]); // (..., H)
  });
}
