// The generation task as the jobs see it (tasks/task_definition.ts): its data (sublightcone windows
// cut into patches), its model and GenerationTask, its test evaluation (next-patch scores beside two
// baselines, eval/next_patch.json), the autoregressive samples that end training, and sampling on demand.
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import type { CheckpointMetadata } from '../../checkpoint/checkpoint';
import { tokensPerSlice } from '../../data/tokenization';
import type { TaskData, TaskDefinition, TaskModel, FinishOptions } from '../task_definition';
import { loadGenerationData, type GenerationData } from './generation_data';
import { buildGenerationPrompt, prefixLength } from './generation_prompt';
import type { GenerationModel } from './generation_model';
import { buildGenerationModel, odeOptionsOf } from './generation_setup';
import { GenerationTask } from './generation_task';
import { checkForecastRange, forecastLightcone } from './lightcone_forecast';
import { simulatorSliceSideMpc } from '../../../schemas/simulator_presets';
import { evaluateNextPatch, nextPatchMetrics } from './next_patch_evaluation';
import { nextPatchSummaryLine } from './next_patch_report';

/** What a generation checkpoint stores besides weights, so that sampling needs no retraining of statistics. */
export interface GenerationCheckpointExtra {
  task: 'generation';
  transform: GenerationData['transform'] | null;
  sliceScale: number;
  n: number;
  rows: number;
  cols: number;
  finetune: string;
}

export const generationDefinition: TaskDefinition = {
  name: 'generation',
  evaluationFile: 'next_patch.json',
  emptyTestWarning:
    'The test split is empty; no next-patch evaluation or samples were made (raise data.splits.test_fraction).',
  evaluatesAfterTraining: (config) => config.evaluation.next_patch_mse,
  loadData: async (config, options) =>
    generationData(
      await loadGenerationData(config, options.configDir, options.onDataset, options.signal, options.onPhase),
    ),
  checkCheckpointExtra(extra, path) {
    const grid = extra as Partial<GenerationCheckpointExtra>;
    if (grid.task !== 'generation' || !((grid.rows ?? 0) > 0) || !((grid.cols ?? 0) > 0)) {
      throw new Error(
        `Checkpoint ${path} was not written by a generation run (no patch grid in its metadata); retrain the run with this version.`,
      );
    }
  },
  sampling: { maxSlices },
};

/** The longest sequence in slices the checkpoint's model takes (max_position_embeddings less the prompt). */
function maxSlices(config: ResolvedExperimentConfig, metadata: CheckpointMetadata): number {
  const extra = metadata.extra as unknown as GenerationCheckpointExtra;
  // The prompt's length does not depend on the tokenizer: every chat piece is one token either way.
  const prompt = buildGenerationPrompt({
    template: config.prompt.template,
    systemTokens: config.prompt.trainable_system_tokens,
    timeStep: config.connectors.t_index.enabled,
    chatIds: null,
  });
  return Math.floor(
    (metadata.config.maxPositionEmbeddings - prefixLength(prompt)) / tokensPerSlice(extra.rows, extra.cols),
  );
}

function generationData(data: GenerationData): TaskData {
  return {
    description:
      `${data.train.ids.length} train / ${data.validation.ids.length} validation / ${data.test.ids.length} test lightcones of ${data.n}² slices; ` +
      `${data.trainWindows.length} training windows of ${data.windowLength} slices (${data.contextSlices} context), ${data.rows}×${data.cols} patches of ${data.patchSize}²` +
      (data.cacheMb === undefined ? '.' : `; chunk cache ${data.cacheMb} MB.`),
    testCount: data.test.cones.length,
    restoreFromCheckpoint(stored) {
      // Use the statistics training used (identical unless the data changed since).
      const extra = stored as unknown as GenerationCheckpointExtra;
      data.transform = extra.transform ?? undefined;
      data.sliceScale = extra.sliceScale;
      if (data.rows !== extra.rows || data.cols !== extra.cols) {
        throw new Error(
          `The run was trained on ${extra.rows}×${extra.cols} patches per slice but its data now give ${data.rows}×${data.cols}; the dataset changed since training.`,
        );
      }
    },
    buildModel: (config, paths) => generationModel(config, paths, data),
  };
}

function generationModel(
  config: ResolvedExperimentConfig,
  paths: { configPath: string | undefined; runDir: string },
  data: GenerationData,
): TaskModel {
  const built = buildGenerationModel(config, paths.configPath, paths.runDir, data);
  const model = built.model;
  let task: GenerationTask;
  try {
    if (data.windowLength > model.maxSlices()) {
      throw new Error(
        `A window of ${data.windowLength} slices needs ${model.prefixLength + data.windowLength * model.tokensPerSlice} tokens, more than max_position_embeddings ${model.backbone.config.maxPositionEmbeddings}; shorten data.sublightcone.length or raise the backbone's max_position_embeddings.`,
      );
    }
    task = new GenerationTask(model, data, {
      lrRatios: config.training.lr_ratios,
      weightDecay: config.training.weight_decay,
      evalBatchSize: config.evaluation.batch_size,
      augmentation: config.data.augmentation,
      seed: config.training.seed,
      maxValidationWindows: config.evaluation.validation_windows,
    });
  } catch (error) {
    model.dispose();
    throw error;
  }
  const ode = odeOptionsOf(config);
  return {
    description: `${built.description}; ${model.trainableParameterCount()} trainable parameters (${built.finetune}); velocity CNN ${model.cnn.parameterCount()} parameters.`,
    backboneConfig: built.backboneConfig,
    training: task,
    checkpointExtra: (): Record<string, unknown> =>
      ({
        task: 'generation',
        transform: data.transform ?? null,
        sliceScale: data.sliceScale,
        n: data.n,
        rows: data.rows,
        cols: data.cols,
        finetune: built.finetune,
      }) satisfies GenerationCheckpointExtra,
    async evaluate(options) {
      const evaluation = await evaluateNextPatch(model, data, {
        lightcones: config.evaluation.next_patch_lightcones,
        samples: config.evaluation.cfm_samples_per_patch,
        batchSize: config.evaluation.batch_size,
        ode,
        seed: config.training.seed,
        signal: options.signal,
        onProgress: (done, total) => {
          options.onPhase?.(`next-patch evaluation ${done}/${total} windows`);
          options.onProgress?.(done, total);
        },
      });
      return {
        json: JSON.stringify(evaluation, null, 1) + '\n',
        metrics: nextPatchMetrics(evaluation),
        summary: nextPatchSummaryLine(evaluation),
      };
    },
    finishTraining: (options) => sampleTestLightcones(model, data, config, options),
    async sample(request, hooks) {
      const cones = data.test.cones;
      if (request.lightcone >= cones.length) {
        throw new Error(
          `Sampling: the run's test split has ${cones.length} lightcones (0…${cones.length - 1}); lightcone ${request.lightcone} does not exist.`,
        );
      }
      checkForecastRange(
        cones[request.lightcone],
        request.lightcone,
        request.firstSlice,
        request.contextSlices,
        request.slices,
      );
      return forecastLightcone(model, {
        ...request,
        cone: cones[request.lightcone],
        boxMpc: sliceSideMpc(config, data.n),
        ode,
        patchSize: data.patchSize,
        sliceScale: data.sliceScale,
        transform: data.transform,
        signal: hooks.signal,
        onSlice: hooks.onSlice,
        onWarning: hooks.onWarning,
      });
    },
    dispose: () => {
      model.dispose();
      void data.close?.();
    },
  };
}

/**
 * The comoving side of a slice [Mpc]: known for the built-in simulator, whose preset fixes the box,
 * while its cells are the slice's; lightcone files do not say it.
 */
export function sliceSideMpc(config: ResolvedExperimentConfig, n: number): number | undefined {
  return config.data.source === 'simulator' ? simulatorSliceSideMpc(config.data.simulator.preset, n) : undefined;
}

/** Autoregressive samples of the first test lightcones into samples/, as the reference evaluates after training. */
async function sampleTestLightcones(
  model: GenerationModel,
  data: GenerationData,
  config: ResolvedExperimentConfig,
  options: FinishOptions,
): Promise<void> {
  const ode = odeOptionsOf(config);
  const count = Math.min(config.evaluation.generated_lightcones, data.test.cones.length);
  for (let lightcone = 0; lightcone < count; lightcone++) {
    const cone = data.test.cones[lightcone];
    const contextSlices = config.evaluation.generation_context_slices;
    const slices = Math.min(
      config.evaluation.generation_slices,
      model.maxSlices() - contextSlices,
      cone.nt - contextSlices,
    );
    if (slices < 1) {
      options.log(
        'warn',
        `Test lightcone ${lightcone}: no room to generate after ${contextSlices} context slices; skipped.`,
      );
      continue;
    }
    const entry = await forecastLightcone(model, {
      runDir: options.runDir,
      cone,
      lightcone,
      firstSlice: 0,
      contextSlices,
      slices,
      seed: config.training.seed,
      checkpointStep: options.checkpointStep,
      boxMpc: sliceSideMpc(config, data.n),
      ode,
      patchSize: data.patchSize,
      sliceScale: data.sliceScale,
      transform: data.transform,
      signal: options.signal,
      onSlice: (done, total) =>
        options.onPhase(`sampling test lightcone ${lightcone + 1}/${count}: slice ${done}/${total}`),
      onWarning: (message) => options.log('warn', message),
    });
    options.log(
      'info',
      `Sampled test lightcone ${lightcone}: ${slices} slices after ${contextSlices} context slices → samples/${entry.generated}.`,
    );
  }
}
