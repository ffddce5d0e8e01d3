// Test inputs that mix token embeddings and vectors the way test/reference/reference_qwen2.py builds them
// (`embeds[:, p, :] = vectors[:, n, :]`): the prompt's tokens go through the embedding, and at given
// positions the rows are replaced by vectors. The tasks build their inputs by concatenating prompt
// segments instead (regression_model.ts, generation_model.ts); this scatter exists so the parity and
// gradient tests can place vectors anywhere in a sequence, as the reference does. The replacement is
// a one-hot matmul rather than an index write, so gradients reach the vectors.
import * as tf from '@tensorflow/tfjs';

/**
 * embeds (B, T, H) with rows `positions[n]` replaced by vectors[:, n, :] (B, N, H), or by a shared vectors
 * (N, H) for every batch row. Positions are the same for every sequence of the batch and must be distinct.
 */
export function scatterVectors(embeds: tf.Tensor3D, positions: readonly number[], vectors: tf.Tensor): tf.Tensor3D {
  const [batch, length, hidden] = embeds.shape;
  const count = positions.length;
  const seen = new Set<number>();
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p >= length) {
      throw new Error(`mixInputs: vector position ${p} is outside the sequence [0, ${length}); give token indices.`);
    }
    if (seen.has(p)) throw new Error(`mixInputs: vector position ${p} is given twice; each position takes one vector.`);
    seen.add(p);
  }
  const expected = vectors.rank === 2 ? [count, hidden] : [batch, count, hidden];
  if (vectors.rank < 2 || vectors.rank > 3 || vectors.shape.some((s, i) => s !== expected[i])) {
    throw new Error(
      `mixInputs: vectors must be (B=${batch}, N=${count}, H=${hidden}) or (N, H), got [${vectors.shape.join(', ')}].`,
    );
  }
  if (count === 0) return tf.clone(embeds);
  return tf.tidy(() => {
    const placement = new Float32Array(length * count);
    const keep = new Float32Array(length).fill(1);
    positions.forEach((p, n) => {
      placement[p * count + n] = 1;
      keep[p] = 0;
    });
    const placementMatrix = tf.tensor2d(placement, [length, count]); // (T, N)
    const placed =
      vectors.rank === 2
        ? tf.matMul(placementMatrix, vectors as tf.Tensor2D).expandDims(0) // (1, T, H)
        : tf.matMul(tf.broadcastTo(placementMatrix, [batch, length, count]), vectors); // (B, T, H)
    const kept = tf.mul(embeds, tf.tensor3d(keep, [1, length, 1])); // (B, T, H)
    return tf.add<tf.Tensor3D>(kept, placed);
  });
}

/** Embeds `inputIds` (B, T) with `embed` and scatters `vectors` at `vectorPositions` (see scatterVectors). */
export function mixInputs(
  embed: (ids: tf.Tensor2D) => tf.Tensor3D,
  inputIds: tf.Tensor2D,
  vectorPositions: readonly number[],
  vectors: tf.Tensor,
): tf.Tensor3D {
  return tf.tidy(() => scatterVectors(embed(inputIds), vectorPositions, vectors));
}
