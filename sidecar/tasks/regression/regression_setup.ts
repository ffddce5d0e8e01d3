// Builds the regression model of a resolved config: the backbone (random Qwen2 of the configured shape,
// or a pretrained HF checkpoint with its tokenizer), LoRA when asked, the prompt template, the
// connectors and the Gaussian head. The paper's reference networks (Table 2) are the same code with
// `backbone.source = random`, `finetune = full` (everything trained from scratch), a non-causal mask,
// the minimal template and `training.interleaved = false`.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ResolvedExperimentConfig, ResolvedGaussianHead } from '../../../schemas/generated/experiment_config';
import { loadHfCheckpoint } from '../../checkpoint/hf_checkpoint';
import { qwen2Config, type Qwen2Config } from '../../model/qwen2_config';
import { Qwen2Model, type LoraTarget } from '../../model/qwen2_model';
import { Qwen2Tokenizer } from '../../model/qwen2_tokenizer';
import type { FinetuneMode } from '../../model/finetune_groups';
import { hashSeed } from '../../train/seeded_random';
import { buildPrompt } from './prompt_template';
import { RegressionModel } from './regression_model';

export interface BuiltRegressionModel {
  model: RegressionModel;
  /** The backbone architecture, stored in checkpoints. */
  backboneConfig: Qwen2Config;
  finetune: FinetuneMode;
  /** What the log should say about the backbone. */
  description: string;
}

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
    vocabSize: a.vocab_size, hiddenSize: a.hidden_size, numHiddenLayers: a.num_hidden_layers,
    numAttentionHeads: a.num_attention_heads, numKeyValueHeads: a.num_key_value_heads,
    intermediateSize: a.intermediate_size, rmsNormEps: a.rms_norm_eps, ropeTheta: a.rope_theta,
    maxPositionEmbeddings: a.max_position_embeddings, tieWordEmbeddings: a.tie_word_embeddings,
    attentionDropout: config.backbone.attention_dropout, causal: config.backbone.causal,
  });
}

export function buildRegressionModel(config: ResolvedExperimentConfig, configPath: string | undefined, runDir: string): BuiltRegressionModel {
  if (config.head.kind !== 'gaussian') {
    throw new Error(`A regression config needs head.kind "gaussian", got "${config.head.kind}"; the cfm head is for task "generation".`);
  }
  const head = config.head as ResolvedGaussianHead;
  const seed = config.training.seed;
  let backbone: Qwen2Model;
  let chatIds = null;
  let description: string;
  const template = config.prompt.template;
  if (config.backbone.source === 'pretrained') {
    const folder = configRelative(configPath, runDir, config.backbone.path);
    const loaded = loadHfCheckpoint(folder, { configOverrides: { attentionDropout: config.backbone.attention_dropout, causal: config.backbone.causal } });
    backbone = loaded.model;
    // The reference drops Qwen's final norm weight and uses ones (L3M-REFERENCE.md §2d).
    if (config.backbone.reinit_final_norm) backbone.resetFinalNorm();
    if (template !== 'minimal') chatIds = Qwen2Tokenizer.fromFolder(folder).chatTokenIds();
    description = `pretrained ${folder} (${loaded.config.numHiddenLayers} blocks, hidden ${loaded.config.hiddenSize})`;
  } else {
    const backboneConfig = randomBackboneConfig(config);
    backbone = Qwen2Model.random(backboneConfig, hashSeed(seed, 0xb0b) & 0x7fffffff);
    description = `random Qwen2 (${backboneConfig.numHiddenLayers} blocks, hidden ${backboneConfig.hiddenSize}, ${backboneConfig.causal ? 'causal' : 'non-causal'})`;
  }
  const finetune = finetuneModeOf(config);
  if (finetune === 'lora') {
    const lora = config.backbone.lora;
    backbone.addLora({ rank: lora.rank, alpha: lora.alpha ?? undefined, targets: lora.targets as LoraTarget[], seed: hashSeed(seed, 0x10a) & 0x7fffffff });
  }
  const model = new RegressionModel(backbone, {
    prompt: buildPrompt({
      template, systemTokens: config.prompt.trainable_system_tokens, lightconeTokens: config.prompt.trainable_lightcone_tokens, chatIds,
    }),
    inputConnector: { kind: config.connectors.lightcone.kind, depth: config.connectors.lightcone.mlp_depth, width: config.connectors.lightcone.mlp_width },
    headDepth: head.mlp_depth,
    headWidth: head.mlp_width,
    covariance: head.covariance,
    finetune,
    seed: hashSeed(seed, 0xc0) & 0xffffff,
  });
  return { model, backboneConfig: backbone.config, finetune, description };
}
