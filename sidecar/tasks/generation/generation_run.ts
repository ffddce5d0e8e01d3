// Trains a generation run end to end with the shared engine: data (simulated and cached, or files),
// model, the loop with checkpoints and validation; then, on the best checkpoint, the next-patch
// evaluation with its two baselines (eval/next_patch.json + test metrics) and autoregressive samples
// of the first test lightcones (samples/), as the reference evaluates after training.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../runs/atomic_write';
import { runLoop } from '../../train/training_loop';
import { loopSettingsFor } from '../../train/loop_settings';
import { bestCheckpointName, readCheckpointWeights } from '../../train/trainer_checkpoints';
import type { TaskOutcome, TaskRunContext } from '../../train/run_training';
import { loadGenerationData, type GenerationData } from './generation_data';
import type { GenerationModel } from './generation_model';
import { buildGenerationModel, odeOptionsOf } from './generation_setup';
import { GenerationTask } from './generation_task';
import { forecastLightcone } from './lightcone_forecast';
import { evaluateNextPatch, nextPatchMetrics } from './next_patch_evaluation';
import { nextPatchSummaryLine } from './next_patch_report';
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';

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

export async function runGeneration(context: TaskRunContext): Promise<TaskOutcome> {
  const { config, runDir, events } = context;
  const phaseProgress = (phase: string) => context.reportProgress({ step: 0, totalSteps: 0, epoch: 0, loss: null, lr: 0, stepsPerSecond: 0, etaSeconds: null, phase });
  const configDir = context.record.configPath ? dirname(context.record.configPath) : runDir;
  const data = await loadGenerationData(config, configDir, (event) => {
    if (event.kind === 'started') events.log('info', `Simulating ${event.count} lightcones into ${event.folder} with ${event.workers} workers.`);
    if (event.kind === 'cached') events.log('info', `Using the cached dataset ${event.folder} (${event.count} lightcones).`);
    if (event.kind === 'finished-cone') phaseProgress(`simulating lightcones ${event.acceptedSoFar}/${event.count}`);
  }, context.signal);
  events.log('info', `Data: ${data.train.ids.length} train / ${data.validation.ids.length} validation / ${data.test.ids.length} test lightcones of ${data.n}² slices; `
    + `${data.trainWindows.length} training windows of ${data.windowLength} slices (${data.contextSlices} context), ${data.rows}×${data.cols} patches of ${data.patchSize}².`);
  const built = buildGenerationModel(config, context.record.configPath, runDir, data);
  try {
    const model = built.model;
    if (data.windowLength > model.maxSlices()) {
      throw new Error(`A window of ${data.windowLength} slices needs ${model.prefixLength + data.windowLength * model.tokensPerSlice} tokens, more than max_position_embeddings ${model.backbone.config.maxPositionEmbeddings}; shorten data.sublightcone.length or raise the backbone's max_position_embeddings.`);
    }
    const task = new GenerationTask(model, data, {
      lrRatios: config.training.lr_ratios, weightDecay: config.training.weight_decay, evalBatchSize: config.evaluation.batch_size,
      augmentation: config.data.augmentation, seed: config.training.seed, maxValidationWindows: 64,
    });
    events.log('info', `Model: ${built.description}; ${model.trainableParameterCount()} trainable parameters (${built.finetune}); velocity CNN ${model.cnn.parameterCount()} parameters.`);
    const settings = loopSettingsFor(config, task.trainSize);
    const checkpointDir = join(runDir, 'checkpoints');
    await mkdir(checkpointDir, { recursive: true });
    const extra: GenerationCheckpointExtra = {
      task: 'generation', transform: data.transform ?? null, sliceScale: data.sliceScale, n: data.n, rows: data.rows, cols: data.cols, finetune: built.finetune,
    };
    const result = await runLoop(task, settings, {
      signal: context.signal, checkpointDir, backboneConfig: built.backboneConfig, checkpointExtra: { ...extra },
      metrics: context.writeMetrics, rewindMetrics: context.rewindMetrics, progress: (p) => context.reportProgress(p), log: events.log,
    });
    const progress = { step: result.state.step, totalSteps: settings.totalSteps, epoch: result.state.step / settings.stepsPerEpoch };
    if (result.outcome === 'cancelled') return { kind: 'cancelled', progress };
    if (existsSync(join(checkpointDir, `${bestCheckpointName}.json`))) readCheckpointWeights(checkpointDir, bestCheckpointName, task.namedWeights());
    await evaluateAfterTraining(model, data, config, context, result.state.step, progress.epoch, result.state.wallTime, phaseProgress);
    if (result.outcome === 'early_stopped') events.log('info', `Stopped early at step ${result.state.step}; best validation loss ${result.state.bestLoss} at step ${result.state.bestStep}.`);
    return { kind: 'completed', progress };
  } finally {
    built.model.dispose();
  }
}

async function evaluateAfterTraining(model: GenerationModel, data: GenerationData, config: ResolvedExperimentConfig, context: TaskRunContext,
  step: number, epoch: number, wallTime: number, phaseProgress: (phase: string) => void): Promise<void> {
  const { runDir, events } = context;
  const ode = odeOptionsOf(config);
  if (data.test.cones.length === 0) {
    events.log('warn', 'The test split is empty; no next-patch evaluation or samples were made (raise data.splits.test_fraction).');
    return;
  }
  if (config.evaluation.next_patch_mse) {
    const evaluation = await evaluateNextPatch(model, data, {
      lightcones: config.evaluation.next_patch_lightcones, samples: config.evaluation.cfm_samples_per_patch, batchSize: config.evaluation.batch_size,
      ode, seed: config.training.seed, signal: context.signal, onProgress: (done, total) => phaseProgress(`next-patch evaluation ${done}/${total} windows`),
    });
    await mkdir(join(runDir, 'eval'), { recursive: true });
    await writeFileAtomic(join(runDir, 'eval', 'next_patch.json'), JSON.stringify(evaluation, null, 1) + '\n');
    await context.writeMetrics([{ step, epoch, wall_time: wallTime, split: 'test', ...nextPatchMetrics(evaluation) }]);
    events.log('info', nextPatchSummaryLine(evaluation));
  }
  const count = Math.min(config.evaluation.generated_lightcones, data.test.cones.length);
  for (let lightcone = 0; lightcone < count; lightcone++) {
    const cone = data.test.cones[lightcone];
    const contextSlices = config.evaluation.generation_context_slices;
    const slices = Math.min(config.evaluation.generation_slices, model.maxSlices() - contextSlices, cone.nt - contextSlices);
    if (slices < 1) {
      events.log('warn', `Test lightcone ${lightcone}: no room to generate after ${contextSlices} context slices; skipped.`);
      continue;
    }
    const entry = await forecastLightcone(model, {
      runDir, cone, lightcone, firstSlice: 0, contextSlices, slices, seed: config.training.seed, ode, patchSize: data.patchSize,
      sliceScale: data.sliceScale, transform: data.transform, signal: context.signal,
      onSlice: (done, total) => phaseProgress(`sampling test lightcone ${lightcone + 1}/${count}: slice ${done}/${total}`),
      onWarning: (message) => events.log('warn', message),
    });
    events.log('info', `Sampled test lightcone ${lightcone}: ${slices} slices after ${contextSlices} context slices → samples/${entry.generated}.`);
  }
}
