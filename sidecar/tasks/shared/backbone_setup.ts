// The backbone both tasks build from a resolved config: a random Qwen2 of the configured shape, or a
// pretrained HF checkpoint with its tokenizer's chat pieces; then LoRA for the lora finetune mode.
// Seeds are derived from training.seed with fixed salts, so a run rebuilds the same initial weights.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import { loadHfCheckpoint } from '../../checkpoint/hf_checkpoint';
import { qwen2Config, type Qwen2Config } from '../../model/qwen2_config';
import { Qwen2Model } from '../../model/qwen2_model';
import { Qwen2Tokenizer } from '../../model/qwen2_tokenizer';
import type { FinetuneMode } from '../../model/finetune_groups';
import { hashSeed } from '../../train/seeded_random';

/** Resolves a path of the config relative to the config file's folder. */
export function configRelative(configPath: string | undefined, fallbackDir: string, path: string): string {
  if (isAbsolute(path)) return path;
  return resolve(configPath ? dirname(configPath) : fallbackDir, path);
}

/**
 * The finetune mode of the model module. A random backbone trained in full trains every block weight
 * but not its token-embedding table: on a random backbone the L3M prompts never look up a token id
 * (chat pieces are trainable stand-in vectors), so the table gets no gradient, and training it would
 * only decay it and hold its Adam state (12 bytes a value: 1.6 GB for Qwen2.5-0.5B's table).
 */
export function finetuneModeOf(config: ResolvedExperimentConfig): FinetuneMode {
  return config.backbone.finetune;
}

export function randomBackboneConfig(config: ResolvedExperimentConfig): Qwen2Config {
  const a = config.backbone.architecture;
  return qwen2Config({
    vocabSize: a.vocab_size,
    hiddenSize: a.hidden_size,
    numHiddenLayers: a.num_hidden_layers,
    numAttentionHeads: a.num_attention_heads,
    numKeyValueHeads: a.num_key_value_heads,
    intermediateSize: a.intermediate_size,
    rmsNormEps: a.rms_norm_eps,
    ropeTheta: a.rope_theta,
    maxPositionEmbeddings: a.max_position_embeddings,
    tieWordEmbeddings: a.tie_word_embeddings,
    attentionDropout: config.backbone.attention_dropout,
    causal: config.backbone.causal,
  });
}

export type ChatTokenIds = ReturnType<Qwen2Tokenizer['chatTokenIds']>;

export interface BuiltBackbone {
  backbone: Qwen2Model;
  /** The tokenizer's chat pieces for a pretrained backbone and a chat template; null otherwise. */
  chatIds: ChatTokenIds | null;
  finetune: FinetuneMode;
  /** What the log says about the backbone. */
  description: string;
}

export interface BackboneOptions {
  /** Whether the log names the attention mask of a random backbone (regression has both kinds). */
  describeMask: boolean;
}

export function buildBackbone(
  config: ResolvedExperimentConfig,
  configPath: string | undefined,
  runDir: string,
  options: BackboneOptions,
): BuiltBackbone {
  const seed = config.training.seed;
  let backbone: Qwen2Model;
  let chatIds: ChatTokenIds | null = null;
  let description: string;
  if (config.backbone.source === 'pretrained') {
    const folder = configRelative(configPath, runDir, config.backbone.path);
    const loaded = loadHfCheckpoint(folder, {
      configOverrides: { attentionDropout: config.backbone.attention_dropout, causal: config.backbone.causal },
    });
    backbone = loaded.model;
    // The reference drops Qwen's final norm weight and uses ones (docs/paper-mapping.md#backbone).
    if (config.backbone.reinit_final_norm) backbone.resetFinalNorm();
    if (config.prompt.template !== 'minimal') chatIds = Qwen2Tokenizer.fromFolder(folder).chatTokenIds();
    description = `pretrained ${folder} (${loaded.config.numHiddenLayers} blocks, hidden ${loaded.config.hiddenSize})`;
  } else {
    const backboneConfig = randomBackboneConfig(config);
    backbone = Qwen2Model.random(backboneConfig, hashSeed(seed, 0xb0b) & 0x7fffffff);
    const mask = options.describeMask ? `, ${backboneConfig.causal ? 'causal' : 'non-causal'}` : '';
    description = `random Qwen2 (${backboneConfig.numHiddenLayers} blocks, hidden ${backboneConfig.hiddenSize}${mask})`;
  }
  const finetune = finetuneModeOf(config);
  if (finetune === 'lora') {
    const lora = config.backbone.lora;
    backbone.addLora({
      rank: lora.rank,
      // Unset: the LoRA default of 2 × rank (Qwen2Model.addLora), as the schema documents.
      alpha: lora.alpha ?? undefined,
      targets: lora.targets,
      seed: hashSeed(seed, 0x10a) & 0x7fffffff,
    });
  }
  return { backbone, chatIds, finetune, description };
}
