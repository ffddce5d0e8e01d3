// A linear layer of the backbone (HF layout: weight [out, in], optional bias [out]) with an optional LoRA
// adapter, as peft's `lora.Linear`: y = W x + b + (alpha / r) · B A x, with A [r, in] Kaiming-uniform and
// B [out, r] zero, so a fresh adapter leaves the network unchanged (Hu et al. 2021, Eq. 3).
import * as tf from '@tensorflow/tfjs';
import { linear } from './ops/linear';
import { kaimingUniformInit, SeedStream } from './init';
import { variableFrom, type WeightSource } from './weight_source';

/** LoRA hyperparameters (paper: rank r, alpha = 2r in the reference code, dropout 0). */
export interface LoraOptions {
  rank: number;
  /** Scale numerator: the adapter output is multiplied by alpha / rank. */
  alpha: number;
  seed: number;
}

/** One linear map of the backbone, named by its HF key prefix (e.g. `model.layers.0.self_attn.q_proj`). */
export class LoraLinear {
  readonly weight: tf.Variable; // (out, in)
  readonly bias: tf.Variable | null; // (out)
  loraA: tf.Variable | null = null; // (r, in)
  loraB: tf.Variable | null = null; // (out, r)
  loraScale = 0;

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    hasBias: boolean,
    source: WeightSource,
  ) {
    this.weight = variableFrom(source, `${name}.weight`, [outFeatures, inFeatures], 'linear');
    this.bias = hasBias ? variableFrom(source, `${name}.bias`, [outFeatures], 'bias') : null;
  }

  /** Adds an adapter (A Kaiming-uniform, B zero, like peft); throws when one is already there. */
  addLora(options: LoraOptions, seeds: SeedStream): void {
    if (this.loraA) throw new Error(`LoRA on ${this.name}: an adapter is already attached.`);
    if (
      !Number.isInteger(options.rank) ||
      options.rank <= 0 ||
      options.rank > Math.min(this.inFeatures, this.outFeatures)
    ) {
      throw new Error(
        `LoRA on ${this.name}: rank must be an integer in [1, ${Math.min(this.inFeatures, this.outFeatures)}], ` +
          `got ${options.rank}.`,
      );
    }
    const a = kaimingUniformInit([options.rank, this.inFeatures], seeds);
    this.loraA = tf.variable(a, true);
    a.dispose();
    const b = tf.zeros([this.outFeatures, options.rank]);
    this.loraB = tf.variable(b, true);
    b.dispose();
    this.loraScale = options.alpha / options.rank;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const base = linear(x, this.weight, this.bias ?? undefined); // (..., out)
      if (!this.loraA || !this.loraB) return base;
      const down = linear(x, this.loraA); // (..., r)
      const up = linear(down, this.loraB); // (..., out)
      return tf.add(base, tf.mul(up, this.loraScale));
    });
  }

  /** Backbone weights by HF key. */
  namedWeights(): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [[`${this.name}.weight`, this.weight]];
    if (this.bias) out.push([`${this.name}.bias`, this.bias]);
    return out;
  }

  /** Adapter weights by peft key (`<prefix>.lora_A.weight`, `<prefix>.lora_B.weight`). */
  namedLoraWeights(): [string, tf.Variable][] {
    if (!this.loraA || !this.loraB) return [];
    return [
      [`${this.name}.lora_A.weight`, this.loraA],
      [`${this.name}.lora_B.weight`, this.loraB],
    ];
  }

  dispose(): void {
    for (const [, v] of [...this.namedWeights(), ...this.namedLoraWeights()]) v.dispose();
  }
}
