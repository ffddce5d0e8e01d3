// Builds the regression model of a resolved config: the backbone (shared/backbone_setup.ts), the prompt
// template, the connectors and the Gaussian head. The paper's reference networks (Table 2) are the same
// code with `backbone.source = random`, `finetune = full` (everything trained from scratch), a non-causal
// mask, the minimal template and `training.interleaved = false`.
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import type { Qwen2Config } from '../../model/qwen2_config';
import type { FinetuneMode } from '../../model/finetune_groups';
import { hashSeed } from '../../train/seeded_random';
import { buildBackbone } from '../shared/backbone_setup';
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

export function buildRegressionModel(
  config: ResolvedExperimentConfig,
  configPath: string | undefined,
  runDir: string,
): BuiltRegressionModel {
  if (config.head.kind !== 'gaussian') {
    throw new Error(
      `A regression config needs head.kind "gaussian", got "${config.head.kind}"; the cfm head is for task "generation".`,
    );
  }
  const head = config.head;
  const { backbone, chatIds, finetune, description } = buildBackbone(config, configPath, runDir, {
    describeMask: true,
  });
  const model = new RegressionModel(backbone, {
    prompt: buildPrompt({
      template: config.prompt.template,
      systemTokens: config.prompt.trainable_system_tokens,
      lightconeTokens: config.prompt.trainable_lightcone_tokens,
      chatIds,
    }),
    inputConnector: {
      kind: config.connectors.lightcone.kind,
      depth: config.connectors.lightcone.mlp_depth,
      width: config.connectors.lightcone.mlp_width,
    },
    headDepth: head.mlp_depth,
    headWidth: head.mlp_width,
    covariance: head.covariance,
    finetune,
    seed: hashSeed(config.training.seed, 0xc0) & 0xffffff,
  });
  return { model, backboneConfig: backbone.config, finetune, description };
}
