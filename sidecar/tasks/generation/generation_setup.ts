// Builds the generation model of a resolved config: the backbone (shared/backbone_setup.ts: random
// Qwen2 or a pretrained HF checkpoint; LoRA for the lora finetune mode, Table 4: r = 8 or r = 2, norms
// trained unless lora.train_norms is false), the prompt, connectors and CFM head.
import type { ResolvedCfmHead, ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import type { Qwen2Config } from '../../model/qwen2_config';
import type { FinetuneMode } from '../../model/finetune_groups';
import { hashSeed } from '../../train/seeded_random';
import { buildBackbone } from '../shared/backbone_setup';
import { buildGenerationPrompt } from './generation_prompt';
import { GenerationModel } from './generation_model';

export interface BuiltGenerationModel {
  model: GenerationModel;
  backboneConfig: Qwen2Config;
  finetune: FinetuneMode;
  description: string;
}

/** The config's CFM head, or a clear error for another head kind. */
export function cfmHeadOf(config: ResolvedExperimentConfig): ResolvedCfmHead {
  if (config.head.kind !== 'cfm') {
    throw new Error(
      `A generation config needs head.kind "cfm", got "${config.head.kind}"; the gaussian head is for task "regression".`,
    );
  }
  return config.head;
}

export function buildGenerationModel(
  config: ResolvedExperimentConfig,
  configPath: string | undefined,
  runDir: string,
  grid: { rows: number; cols: number },
): BuiltGenerationModel {
  const head = cfmHeadOf(config);
  if (!config.backbone.causal) {
    throw new Error(
      'Generation needs a causal backbone (backbone.causal = true): each patch may only see the patches before it.',
    );
  }
  const { backbone, chatIds, finetune, description } = buildBackbone(config, configPath, runDir, {
    describeMask: false,
  });
  const shape = (c: { kind: 'linear' | 'mlp'; mlp_depth: number; mlp_width: number }) => ({
    kind: c.kind,
    depth: c.mlp_depth,
    width: c.mlp_width,
  });
  const model = new GenerationModel(backbone, {
    prompt: buildGenerationPrompt({
      template: config.prompt.template,
      systemTokens: config.prompt.trainable_system_tokens,
      timeStep: config.connectors.t_index.enabled,
      chatIds,
    }),
    patchSize: config.data.patch_size,
    rows: grid.rows,
    cols: grid.cols,
    lightconeConnector: shape(config.connectors.lightcone),
    parameterConnector: shape(config.connectors.parameters),
    timeStepConnector: config.connectors.t_index.enabled ? shape(config.connectors.t_index) : null,
    head: {
      channels: head.channels,
      blocks: head.blocks,
      residualFactor: head.residual_factor,
      kernelSize: head.kernel_size,
      condChannels: head.cond_channels,
      previousSliceResidual: head.previous_slice_residual,
    },
    finetune,
    trainNorms: config.backbone.lora.train_norms,
    seed: hashSeed(config.training.seed, 0xc1) & 0xffffff,
    recomputeActivations: config.training.recompute_activations,
  });
  return { model, backboneConfig: backbone.config, finetune, description };
}

/** The ODE options of the config's CFM head. */
export function odeOptionsOf(config: ResolvedExperimentConfig): {
  solver: ResolvedCfmHead['solver'];
  steps: number;
  rtol: number;
  atol: number;
} {
  const head = cfmHeadOf(config);
  return { solver: head.solver, steps: head.steps, rtol: head.rtol, atol: head.atol };
}
