// Exact attention computed a block of query rows at a time, so that no whole (T × S) map per head is ever made:
// neither in the forward pass nor in the backward pass, which computes each block's softmax again from q and k.
//
// Why: at the paper's 1353-token windows one attention map for the 14 heads is about 100 MB, and the plain path
// makes several of them (scores, scaled scores, softmax, and as many gradients) in every block's forward and
// backward pass. The wasm backend's heap cannot compact, so space freed between such large maps is not reused and
// the heap grows by about one map a block until it passes its 4 GiB limit. A block of 256 query rows makes maps
// a fifth of the size, which the heap's free space mostly holds (measured at full size: the heap's growth fell from
// about 100 MB to 34 MiB a block, and the step fits).
//
// Each query row's softmax runs over all its keys, so the result is the plain one, not an approximation; only the
// order of the sums that add the key and value gradients over the blocks differs (float rounding). The backward
// pass per block, with P the block's softmax, dO its output gradient and c the 1/sqrt(d) scale:
//   dP = dO · vᵀ,  dS = P ⊙ dP − P ⊙ rowsum(P ⊙ dP) (TF.js's own softmax gradient),
//   dq = c dS · k,  dk += c dSᵀ · q,  dv += Pᵀ · dO.
// The op keeps only q, k, v and the mask for the backward pass (the plain path keeps three maps per head).
import * as tf from '@tensorflow/tfjs';
import { attentionQueryBlockRows as defaultQueryBlockRows } from '../../../schemas/memory_estimate';
import { matMulFast } from './matmul';

// The default block, 256 rows, makes maps of 256 × S per head (19 MB for 14 heads at 1353 keys) in few matmul
// calls; the memory estimate counts with the same constant.
let queryBlockRows = defaultQueryBlockRows;

/**
 * The query rows per block that the model's attention uses (a query length above it is computed in blocks); for
 * tests and benchmarks that compare the blocked and plain paths. `null` restores the default.
 */
export function setAttentionQueryBlockRows(rows: number | null): void {
  if (rows !== null && !(rows >= 1 && (Number.isInteger(rows) || rows === Infinity))) {
    throw new Error(
      `setAttentionQueryBlockRows: give a positive integer, Infinity (never blocked) or null; got ${rows}.`,
    );
  }
  queryBlockRows = rows ?? defaultQueryBlockRows;
}

export function attentionQueryBlockRows(): number {
  return queryBlockRows;
}

interface Shapes {
  batch: number;
  heads: number;
  kvHeads: number;
  groups: number;
  queries: number;
  keys: number;
  headDim: number;
}

function shapesOf(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor | null): Shapes {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(
      `blockedAttention: q, k and v must be 4D (B, heads, length, d); got [${q.shape.join(',')}], ` +
        `[${k.shape.join(',')}] and [${v.shape.join(',')}].`,
    );
  }
  const [batch, heads, queries, headDim] = q.shape;
  const [kBatch, kvHeads, keys, kDim] = k.shape;
  if (kBatch !== batch || kDim !== headDim || v.shape.join(',') !== k.shape.join(',')) {
    throw new Error(
      `blockedAttention: k [${k.shape.join(',')}] and v [${v.shape.join(',')}] must both be ` +
        `(${batch}, nKv, S, ${headDim}) for q [${q.shape.join(',')}].`,
    );
  }
  if (kvHeads < 1 || heads % kvHeads !== 0) {
    throw new Error(
      `blockedAttention: ${heads} query heads cannot share ${kvHeads} key/value heads; the query heads must be a ` +
        'multiple of the key/value heads.',
    );
  }
  if (mask && (mask.rank !== 2 || mask.shape[0] !== queries || mask.shape[1] !== keys)) {
    throw new Error(
      `blockedAttention: the mask must be (queries, keys) = (${queries}, ${keys}), got [${mask.shape.join(',')}].`,
    );
  }
  return { batch, heads, kvHeads, groups: heads / kvHeads, queries, keys, headDim };
}

/** The query blocks: [first row, rows]. */
function blocksOf(queries: number, blockRows: number): [number, number][] {
  const blocks: [number, number][] = [];
  for (let start = 0; start < queries; start += blockRows) blocks.push([start, Math.min(blockRows, queries - start)]);
  return blocks;
}

/** `sum + part`, freeing both; the first part becomes the sum. */
function accumulate(sum: tf.Tensor | null, part: tf.Tensor): tf.Tensor {
  if (sum === null) return part;
  const next = tf.add(sum, part);
  tf.dispose([sum, part]);
  return next;
}

/**
 * softmax(q kᵀ / sqrt(d) + mask) v, one block of `blockRows` query rows at a time (the last block may be
 * shorter). q (B, nH, T, d); k and v (B, nKv, S, d), query head h reading key/value head floor(h / (nH / nKv))
 * as HF's `repeat_kv`; mask (T, S), additive, or null. Returns (B, nH, T, d). Differentiable in q, k and v; the
 * mask gets a zero gradient (it is a constant).
 */
export function blockedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor | null,
  blockRows = queryBlockRows,
): tf.Tensor {
  if (!(Number.isInteger(blockRows) && blockRows >= 1)) {
    throw new Error(`blockedAttention: blockRows must be a positive integer, got ${blockRows}.`);
  }
  const s = shapesOf(q, k, v, mask);
  const scale = 1 / Math.sqrt(s.headDim);
  const blocks = blocksOf(s.queries, blockRows);

  /** The block's queries, grouped per key/value head: (B, nKv, groups·n, d). */
  const groupedRows = (x: tf.Tensor, [start, rows]: [number, number]) =>
    tf
      .slice(x, [0, 0, start, 0], [s.batch, s.heads, rows, s.headDim])
      .reshape([s.batch, s.kvHeads, s.groups * rows, s.headDim]);

  /** The block's softmax weights (B, nH, n, S), by the plain path's ops in its order. */
  const weightsOf = (qRows: tf.Tensor, keys: tf.Tensor, m: tf.Tensor | null, [start, rows]: [number, number]) => {
    let scores = tf
      .mul(matMulFast(qRows, keys, false, true), scale) // (B, nKv, groups·n, S)
      .reshape([s.batch, s.heads, rows, s.keys]); // (B, nH, n, S)
    if (m) scores = tf.add(scores, tf.slice(m, [start, 0], [rows, s.keys]));
    return tf.softmax(scores, -1); // (B, nH, n, S)
  };

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const given = args.slice(0, -1) as tf.Tensor[];
    const [qs, ks, vs] = given;
    const ms = given[3] ?? null;
    save(given);
    const outputs = blocks.map((block) =>
      tf.tidy(() => {
        const weights = weightsOf(groupedRows(qs, block), ks, ms, block);
        return matMulFast(weights.reshape([s.batch, s.kvHeads, s.groups * block[1], s.keys]), vs) // (B, nKv, groups·n, d)
          .reshape([s.batch, s.heads, block[1], s.headDim]); // (B, nH, n, d)
      }),
    );
    const value = outputs.length === 1 ? outputs[0] : tf.concat(outputs, 2); // (B, nH, T, d)
    if (outputs.length > 1) tf.dispose(outputs);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [qk, kk, vk] = saved;
        const mk = saved[3] ?? null;
        const upstream = dy as tf.Tensor; // (B, nH, T, d)
        const dqBlocks: tf.Tensor[] = [];
        let dk: tf.Tensor | null = null;
        let dv: tf.Tensor | null = null;
        for (const block of blocks) {
          const rows = block[1];
          const [dq, dkPart, dvPart] = tf.tidy((): tf.Tensor[] => {
            const qRows = groupedRows(qk, block);
            const weights = weightsOf(qRows, kk, mk, block); // (B, nH, n, S)
            const dOut = groupedRows(upstream, block); // (B, nKv, groups·n, d)
            const dWeights = matMulFast(dOut, vk, false, true).reshape([s.batch, s.heads, rows, s.keys]); // (B, nH, n, S)
            const dyTimesY = tf.mul(dWeights, weights);
            const dScores = tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, -1, true), weights)); // (B, nH, n, S)
            const dRaw = tf.mul(dScores, scale).reshape([s.batch, s.kvHeads, s.groups * rows, s.keys]);
            const groupedWeights = weights.reshape([s.batch, s.kvHeads, s.groups * rows, s.keys]);
            return [
              matMulFast(dRaw, kk).reshape([s.batch, s.heads, rows, s.headDim]), // dq (B, nH, n, d)
              matMulFast(dRaw, qRows, true, false), // dk (B, nKv, S, d)
              matMulFast(groupedWeights, dOut, true, false), // dv (B, nKv, S, d)
            ];
          });
          dqBlocks.push(dq);
          dk = accumulate(dk, dkPart);
          dv = accumulate(dv, dvPart);
        }
        const dq = dqBlocks.length === 1 ? dqBlocks[0] : tf.concat(dqBlocks, 2);
        if (dqBlocks.length > 1) tf.dispose(dqBlocks);
        return [dq, dk!, dv!, ...(mk ? [tf.zerosLike(mk)] : [])];
      },
    };
  });
  return mask ? op(q, k, v, mask) : op(q, k, v);
}
