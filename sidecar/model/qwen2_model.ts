// The Qwen2 decoder of HF `Qwen2ForCausalLM`: token embedding, pre-norm blocks, final RMSNorm, and an LM head
// that is the embedding matrix when `tieWordEmbeddings` (Qwen2.5-0.5B) or a separate `lm_head.weight`.
// Inputs are token ids or ready-made vectors (`inputsEmbeds`: a task's prompt with its connector outputs,
// paper Fig. 2); positions are explicit so that a KV cache can continue a sequence. Every weight is a
// tf.Variable named in `namedWeights()` by its HF key, so loading and saving are a name map with shape checks.
import * as tf from '@tensorflow/tfjs';
import { validateQwen2Config, headDim, type Qwen2Config } from './qwen2_config';
import { Qwen2DecoderLayer } from './qwen2_decoder_layer';
import { applyRecomputedBlocks } from './recomputed_block';
import { Qwen2RmsNorm } from './qwen2_rms_norm';
import { causalMask, type AttentionContext } from './qwen2_attention';
import { rotaryTables } from './qwen2_rotary';
import { linear } from './ops/linear';
import { embeddingLookup } from './embedding_lookup';
import type { KvCache } from './kv_cache';
import { LoraLinear, type LoraOptions } from './lora_linear';
import { SeedStream } from './init';
import { randomWeightSource, variableFrom, type WeightSource } from './weight_source';

/** The linear layers LoRA can target, with peft's module names. */
export const loraTargetNames = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof loraTargetNames)[number];

export interface LoraConfig {
  rank: number;
  /** Default 2 · rank (a scale of 2), as the reference code and the config schema. */
  alpha?: number;
  /** Default: every linear layer of every block, as the reference. */
  targets?: readonly LoraTarget[];
  seed?: number;
}

export interface ForwardInputs {
  /** Token ids (B, T), int32; give these or inputsEmbeds. */
  inputIds?: tf.Tensor2D;
  /** Input vectors (B, T, H), e.g. a prompt's token embeddings concatenated with connector outputs. */
  inputsEmbeds?: tf.Tensor3D;
  /** Absolute positions of the T new tokens (rotary); default pastLength … pastLength + T − 1. */
  positions?: readonly number[];
  /** Continue from (and append to) this cache; inference only: cached tensors are not differentiable. */
  cache?: KvCache;
  /** Enables attention dropout. */
  training?: boolean;
  /** Also compute LM-head logits (B, T, vocab). */
  returnLogits?: boolean;
  dropoutSeed?: number;
  /**
   * Training with activation recomputation: each block keeps only its input, and its activations are rebuilt in
   * the backward pass (./recomputed_block.ts); gradients reach only these variables among the blocks' weights.
   */
  recomputeFor?: ReadonlySet<tf.Variable>;
}

export interface ForwardOutputs {
  hidden: tf.Tensor3D; // (B, T, H) after the final norm
  logits?: tf.Tensor3D; // (B, T, vocab)
}

/**
 * The HF key and shape of every backbone weight of `config`, in checkpoint order, without building a model, so
 * that a loader can check a whole checkpoint before allocating anything. A unit test asserts it equals
 * `namedWeights()` of a built model.
 */
export function qwen2WeightShapes(config: Qwen2Config): Map<string, number[]> {
  const hidden = config.hiddenSize;
  const d = headDim(config);
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [config.vocabSize, hidden]]]);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const p = `model.layers.${i}`;
    shapes.set(`${p}.input_layernorm.weight`, [hidden]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [config.numAttentionHeads * d, hidden]);
    shapes.set(`${p}.self_attn.q_proj.bias`, [config.numAttentionHeads * d]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [config.numKeyValueHeads * d, hidden]);
    shapes.set(`${p}.self_attn.k_proj.bias`, [config.numKeyValueHeads * d]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [config.numKeyValueHeads * d, hidden]);
    shapes.set(`${p}.self_attn.v_proj.bias`, [config.numKeyValueHeads * d]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [hidden, config.numAttentionHeads * d]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [hidden]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [config.intermediateSize, hidden]);
    shapes.set(`${p}.mlp.up_proj.weight`, [config.intermediateSize, hidden]);
    shapes.set(`${p}.mlp.down_proj.weight`, [hidden, config.intermediateSize]);
  }
  shapes.set('model.norm.weight', [hidden]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [config.vocabSize, hidden]);
  return shapes;
}

export class Qwen2Model {
  readonly embedTokens: tf.Variable; // (vocab, H)
  readonly layers: Qwen2DecoderLayer[];
  readonly norm: Qwen2RmsNorm;
  readonly lmHead: tf.Variable | null; // (vocab, H), null when tied
  private disposed = false;

  constructor(
    readonly config: Qwen2Config,
    source: WeightSource,
  ) {
    validateQwen2Config(config);
    this.embedTokens = variableFrom(
      source,
      'model.embed_tokens.weight',
      [config.vocabSize, config.hiddenSize],
      'embedding',
    );
    this.layers = [];
    for (let i = 0; i < config.numHiddenLayers; i++) this.layers.push(new Qwen2DecoderLayer(config, i, source));
    this.norm = new Qwen2RmsNorm('model.norm', config.hiddenSize, config.rmsNormEps, source);
    this.lmHead = config.tieWordEmbeddings
      ? null
      : variableFrom(source, 'lm_head.weight', [config.vocabSize, config.hiddenSize], 'linear');
  }

  /** A model with HF's random init (`source: random`); deterministic for a seed. */
  static random(config: Qwen2Config, seed = 0): Qwen2Model {
    return new Qwen2Model(config, randomWeightSource(config.initializerRange, seed));
  }

  /** Token embedding lookup: ids (B, T) → (B, T, H). */
  embed(inputIds: tf.Tensor): tf.Tensor3D {
    return embeddingLookup(this.embedTokens as tf.Tensor2D, inputIds) as tf.Tensor3D; // (B, T, H)
  }

  /** LM head: hidden (B, T, H) → logits (B, T, vocab). */
  logits(hidden: tf.Tensor): tf.Tensor3D {
    return linear(hidden, this.lmHead ?? this.embedTokens) as tf.Tensor3D;
  }

  forward(inputs: ForwardInputs): ForwardOutputs {
    if (this.disposed) throw new Error('Qwen2Model.forward: the model was disposed.');
    if ((inputs.inputIds === undefined) === (inputs.inputsEmbeds === undefined)) {
      throw new Error('Qwen2Model.forward: give exactly one of inputIds (B, T) or inputsEmbeds (B, T, H).');
    }
    if (
      inputs.inputsEmbeds &&
      (inputs.inputsEmbeds.rank !== 3 || inputs.inputsEmbeds.shape[2] !== this.config.hiddenSize)
    ) {
      throw new Error(
        `Qwen2Model.forward: inputsEmbeds must be (B, T, ${this.config.hiddenSize}), got ` +
          `[${inputs.inputsEmbeds.shape.join(', ')}].`,
      );
    }
    if (inputs.inputIds && inputs.inputIds.rank !== 2) {
      throw new Error(`Qwen2Model.forward: inputIds must be (B, T), got [${inputs.inputIds.shape.join(', ')}].`);
    }
    const length = (inputs.inputIds ?? inputs.inputsEmbeds)!.shape[1];
    const pastLength = inputs.cache?.length ?? 0;
    const positions = inputs.positions ?? Array.from({ length }, (_, i) => pastLength + i);
    if (positions.length !== length) {
      throw new Error(
        `Qwen2Model.forward: ${positions.length} positions given for ${length} tokens; give one per token.`,
      );
    }
    return tf.tidy(() => {
      const context: AttentionContext = {
        rotary: rotaryTables(positions, headDim(this.config), this.config.ropeTheta), // (T, d) each
        // With a cache the new tokens attend to every cached one; causality only matters among the new tokens.
        mask: this.config.causal && length > 1 ? causalMask(length, pastLength) : null,
        cache: inputs.cache ?? null,
        training: inputs.training ?? false,
        dropoutSeed: inputs.dropoutSeed,
      };
      let hidden: tf.Tensor = inputs.inputsEmbeds ?? this.embed(inputs.inputIds!); // (B, T, H)
      if (inputs.recomputeFor) hidden = applyRecomputedBlocks(this.layers, hidden, context, inputs.recomputeFor);
      else for (const layer of this.layers) hidden = layer.apply(hidden, context); // (B, T, H)
      const normed = this.norm.apply(hidden) as tf.Tensor3D; // (B, T, H)
      return inputs.returnLogits ? { hidden: normed, logits: this.logits(normed) } : { hidden: normed };
    });
  }

  /** Every linear layer of the backbone, keyed by peft module name. */
  linearLayers(): { target: LoraTarget; layer: LoraLinear }[] {
    return this.layers.flatMap((block) => [
      { target: 'q_proj' as const, layer: block.selfAttn.qProj },
      { target: 'k_proj' as const, layer: block.selfAttn.kProj },
      { target: 'v_proj' as const, layer: block.selfAttn.vProj },
      { target: 'o_proj' as const, layer: block.selfAttn.oProj },
      { target: 'gate_proj' as const, layer: block.mlp.gateProj },
      { target: 'up_proj' as const, layer: block.mlp.upProj },
      { target: 'down_proj' as const, layer: block.mlp.downProj },
    ]);
  }

  /** Attaches LoRA adapters (B = 0, so the output is unchanged until trained). */
  addLora(options: LoraConfig): void {
    const targets = options.targets ?? loraTargetNames;
    for (const target of targets) {
      if (!loraTargetNames.includes(target)) {
        throw new Error(
          `LoRA target "${target}" is not a linear layer of Qwen2; choose from ${loraTargetNames.join(', ')}.`,
        );
      }
    }
    const loraOptions: LoraOptions = {
      rank: options.rank,
      alpha: options.alpha ?? 2 * options.rank,
      seed: options.seed ?? 0,
    };
    const seeds = new SeedStream(loraOptions.seed);
    for (const { target, layer } of this.linearLayers()) {
      if (targets.includes(target)) layer.addLora(loraOptions, seeds);
    }
  }

  get hasLora(): boolean {
    return this.linearLayers().some(({ layer }) => layer.loraA !== null);
  }

  /** Backbone weights by HF key (lm_head.weight only when untied), in checkpoint order. */
  namedWeights(): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [['model.embed_tokens.weight', this.embedTokens]];
    for (const block of this.layers) {
      out.push(...block.inputLayernorm.namedWeights());
      for (const projection of Object.values(block.selfAttn.projections)) out.push(...projection.namedWeights());
      out.push(...block.postAttentionLayernorm.namedWeights());
      for (const projection of Object.values(block.mlp.projections)) out.push(...projection.namedWeights());
    }
    out.push(...this.norm.namedWeights());
    if (this.lmHead) out.push(['lm_head.weight', this.lmHead]);
    return out;
  }

  /** LoRA adapter weights by peft-style key. */
  namedLoraWeights(): [string, tf.Variable][] {
    return this.linearLayers().flatMap(({ layer }) => layer.namedLoraWeights());
  }

  /** All norm scales (input, post-attention, final), trainable in the lora and full modes. */
  namedNormWeights(): [string, tf.Variable][] {
    return [
      ...this.layers.flatMap((block) => [
        ...block.inputLayernorm.namedWeights(),
        ...block.postAttentionLayernorm.namedWeights(),
      ]),
      ...this.norm.namedWeights(),
    ];
  }

  /** Re-initialises the final norm's scale to ones, as the reference does for pretrained backbones. */
  resetFinalNorm(): void {
    this.norm.resetToOnes();
  }

  /** Number of backbone parameters (adapters excluded). */
  parameterCount(): number {
    return this.namedWeights().reduce((sum, [, v]) => sum + v.size, 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.embedTokens.dispose();
    for (const layer of this.layers) layer.dispose();
    this.norm.dispose();
    this.lmHead?.dispose();
  }
}
