// Grouped-query self-attention as HF `Qwen2Attention` (eager path): q/k/v projections with biases, o_proj
// without; rotary on q and k; query head h reads key/value head floor(h / (nHeads / nKv)) (HF `repeat_kv`);
// scores scaled by 1/sqrt(d); an additive causal mask or none; softmax in float32; dropout on the softmax
// weights while training (HF `attention_dropout`). More query rows than one block of ./ops/blocked_attention.ts
// are computed a block at a time, with the same numbers, unless dropout is on.
import * as tf from '@tensorflow/tfjs';
import { headDim, type Qwen2Config } from './qwen2_config';
import { LoraLinear } from './lora_linear';
import { applyRotaryTables, type RotaryTables } from './qwen2_rotary';
import { attentionOutput, attentionScores } from './ops/attention_matmul';
import { attentionQueryBlockRows, blockedAttention } from './ops/blocked_attention';
import type { KvCache } from './kv_cache';
import type { WeightSource } from './weight_source';

/** Per-call inputs shared by every layer of one forward pass. */
export interface AttentionContext {
  /** cos, sin and signed sin, each (T, d), for the new positions. */
  rotary: RotaryTables;
  /** Additive mask (Tq, Tk): 0 where a query may attend, a large negative number where not; null = full attention. */
  mask: tf.Tensor | null;
  cache: KvCache | null;
  training: boolean;
  dropoutSeed?: number;
}

/** The additive mask value: large enough that exp underflows to exactly 0, finite so gradients stay finite. */
export const maskValue = -1e9;

/**
 * Causal mask for `queryLength` new tokens after `pastLength` cached ones: query i (absolute position
 * pastLength + i) sees keys 0 … pastLength + i. Shape (queryLength, pastLength + queryLength).
 */
export function causalMask(queryLength: number, pastLength: number): tf.Tensor2D {
  const keyLength = pastLength + queryLength;
  const values = new Float32Array(queryLength * keyLength);
  for (let i = 0; i < queryLength; i++) {
    for (let j = pastLength + i + 1; j < keyLength; j++) values[i * keyLength + j] = maskValue;
  }
  return tf.tensor2d(values, [queryLength, keyLength]);
}

export class Qwen2Attention {
  readonly qProj: LoraLinear;
  readonly kProj: LoraLinear;
  readonly vProj: LoraLinear;
  readonly oProj: LoraLinear;
  private readonly numHeads: number;
  private readonly numKvHeads: number;
  private readonly headDim: number;
  private readonly dropout: number;

  constructor(
    readonly config: Qwen2Config,
    readonly layerIndex: number,
    name: string,
    source: WeightSource,
  ) {
    this.numHeads = config.numAttentionHeads;
    this.numKvHeads = config.numKeyValueHeads;
    this.headDim = headDim(config);
    this.dropout = config.attentionDropout;
    const hidden = config.hiddenSize;
    this.qProj = new LoraLinear(`${name}.q_proj`, hidden, this.numHeads * this.headDim, true, source);
    this.kProj = new LoraLinear(`${name}.k_proj`, hidden, this.numKvHeads * this.headDim, true, source);
    this.vProj = new LoraLinear(`${name}.v_proj`, hidden, this.numKvHeads * this.headDim, true, source);
    this.oProj = new LoraLinear(`${name}.o_proj`, this.numHeads * this.headDim, hidden, false, source);
  }

  get projections(): Record<'q' | 'k' | 'v' | 'o', LoraLinear> {
    return { q: this.qProj, k: this.kProj, v: this.vProj, o: this.oProj };
  }

  /** (B, T, heads·d) → (B, heads, T, d). */
  private splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
    const [batch, length] = x.shape as [number, number, number];
    return x.reshape([batch, length, heads, this.headDim]).transpose<tf.Tensor4D>([0, 2, 1, 3]);
  }

  apply(x: tf.Tensor, context: AttentionContext): tf.Tensor {
    return tf.tidy(() => {
      const [batch, length] = x.shape as [number, number, number];
      const q = applyRotaryTables(this.splitHeads(this.qProj.apply(x), this.numHeads), context.rotary); // (B, nH, T, d)
      let k = applyRotaryTables(this.splitHeads(this.kProj.apply(x), this.numKvHeads), context.rotary) as tf.Tensor4D; // (B, nKv, T, d)
      let v = this.splitHeads(this.vProj.apply(x), this.numKvHeads); // (B, nKv, T, d)
      if (context.cache) {
        const past = context.cache.get(this.layerIndex);
        if (past) {
          k = tf.concat([past.keys, k], 2); // (B, nKv, Tpast + T, d)
          v = tf.concat([past.values, v], 2);
        }
        context.cache.set(this.layerIndex, { keys: k, values: v });
      }
      const dropping = context.training && this.dropout > 0;
      if (length > attentionQueryBlockRows() && !dropping) {
        // Long windows: a block of query rows at a time, so that no whole (T × Tk) map per head is made
        // (./ops/blocked_attention.ts). Dropout would need the plain path's random draws, so it keeps that path.
        const attended = blockedAttention(q, k, v, context.mask); // (B, nH, T, d)
        const merged = attended.transpose([0, 2, 1, 3]).reshape([batch, length, this.numHeads * this.headDim]); // (B, T, nH·d)
        return this.oProj.apply(merged); // (B, T, H)
      }
      // Grouped-query attention without copying keys/values (equivalent to HF `repeat_kv`): query heads
      // h = kv·groups + g are contiguous per KV head, so folding the group into the query axis lets each KV head
      // serve its `groups` query heads in one batched matmul.
      const groups = this.numHeads / this.numKvHeads;
      const keyLength = k.shape[2];
      const groupedQ = q.reshape([batch, this.numKvHeads, groups * length, this.headDim]); // (B, nKv, groups·T, d)
      let scores = tf
        .mul(attentionScores(groupedQ, k), 1 / Math.sqrt(this.headDim)) // (B, nKv, groups·T, Tk)
        .reshape([batch, this.numHeads, length, keyLength]); // (B, nH, T, Tk)
      if (context.mask) scores = tf.add(scores, context.mask);
      let weights = tf.softmax(scores, -1); // (B, nH, T, Tk)
      if (dropping) {
        // Each layer gets its own seed, so a seeded step does not drop the same positions in every layer.
        const seed = context.dropoutSeed === undefined ? undefined : context.dropoutSeed * 1009 + this.layerIndex;
        weights = tf.dropout(weights, this.dropout, undefined, seed);
      }
      const attended = attentionOutput(weights.reshape([batch, this.numKvHeads, groups * length, keyLength]), v) // (B, nKv, groups·T, d)
        .reshape([batch, this.numHeads, length, this.headDim]); // (B, nH, T, d)
      const merged = attended.transpose([0, 2, 1, 3]).reshape([batch, length, this.numHeads * this.headDim]); // (B, T, nH·d)
      return this.oProj.apply(merged); // (B, T, H)
    });
  }

  dispose(): void {
    for (const projection of Object.values(this.projections)) projection.dispose();
  }
}
