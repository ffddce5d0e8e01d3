// Trains a regression run end to end with the shared engine: data (simulated and cached, or files),
// model, the loop with checkpoints and validation, then the test evaluation of Fig. 6 on the best
// checkpoint (eval/regression.json + test metrics).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../runs/atomic_write';
import { runLoop } from '../../train/training_loop';
import { loopSettingsFor } from '../../train/loop_settings';
import { bestCheckpointName, readCheckpointWeights } from '../../train/trainer_checkpoints';
import type { TaskOutcome, TaskRunContext } from '../../train/run_training';
import { evaluateRegression, regressionMetrics } from './regression_evaluation';
import { openDataset } from '../../data/dataset';
import { loadRegressionData } from './regression_data';
import { buildRegressionModel } from './regression_setup';
import { RegressionTask } from './regression_task';

export async function runRegression(context: TaskRunContext): Promise<TaskOutcome> {
  const { config, runDir, events } = context;
  const phaseProgress = (phase: string) => context.reportProgress({ step: 0, totalSteps: 0, epoch: 0, loss: null, lr: 0, stepsPerSecond: 0, etaSeconds: null, phase });
  // Relative data paths are relative to the config file, as the editor's checks resolve them.
  const configDir = context.record.configPath ? dirname(context.record.configPath) : runDir;
  const dataset = await openDataset(config.data, { configDir, signal: context.signal, onProgress: (event) => {
    if (event.kind === 'started') events.log('info', `Simulating ${event.count} lightcones into ${event.folder} with ${event.workers} workers.`);
    if (event.kind === 'cached') events.log('info', `Using the cached dataset ${event.folder} (${event.count} lightcones).`);
    if (event.kind === 'finished-cone') phaseProgress(`simulating lightcones ${event.acceptedSoFar}/${event.count}`);
  } });
  let loaded;
  try {
    loaded = await loadRegressionData(config, dataset, (done, total) => phaseProgress(`reading lightcones ${done}/${total}`));
  } finally {
    await dataset.source.close();
  }
  const { data } = loaded;
  events.log('info', `Data: ${loaded.description}; ${data.train.ids.length} train / ${data.validation.ids.length} validation / ${data.test.ids.length} test lightcones, ${data.tokenCount} tokens each.`);

  const built = buildRegressionModel(config, context.record.configPath, runDir);
  try {
    const task = new RegressionTask(built.model, data, {
      interleaved: config.training.interleaved,
      lrRatios: config.training.lr_ratios,
      weightDecay: config.training.weight_decay,
      evalBatchSize: config.evaluation.batch_size,
    });
    events.log('info', `Model: ${built.description}; ${built.model.trainableParameterCount()} trainable parameters (${built.finetune}), `
      + `${config.training.interleaved ? 'interleaved connector/head updates' : 'joint updates'}.`);
    const settings = loopSettingsFor(config, task.trainSize);
    const checkpointDir = join(runDir, 'checkpoints');
    await mkdir(checkpointDir, { recursive: true });
    const result = await runLoop(task, settings, {
      signal: context.signal,
      checkpointDir,
      backboneConfig: built.backboneConfig,
      checkpointExtra: { task: 'regression', standardization: loaded.standardization, finetune: built.finetune },
      metrics: context.writeMetrics,
      rewindMetrics: context.rewindMetrics,
      progress: (p) => context.reportProgress(p),
      log: events.log,
    });
    const progress = { step: result.state.step, totalSteps: settings.totalSteps, epoch: result.state.step / settings.stepsPerEpoch };
    if (result.outcome === 'cancelled') return { kind: 'cancelled', progress };

    // The test evaluation uses the best checkpoint, as the reference's load_best_model() before evaluation.
    if (existsSync(join(checkpointDir, `${bestCheckpointName}.json`))) readCheckpointWeights(checkpointDir, bestCheckpointName, task.namedWeights());
    if (data.test.ids.length > 0) {
      phaseProgress('evaluating the test split');
      const predictions = await task.predict(data.test);
      const evaluation = evaluateRegression(predictions, { samples: config.evaluation.regression_samples, bins: config.evaluation.regression_bins, seed: config.training.seed });
      await mkdir(join(runDir, 'eval'), { recursive: true });
      await writeFileAtomic(join(runDir, 'eval', 'regression.json'), JSON.stringify(evaluation, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
      await context.writeMetrics([{
        step: result.state.step, epoch: progress.epoch, wall_time: result.state.wallTime, split: 'test', ...regressionMetrics(evaluation),
      }]);
      const r2 = evaluation.parameters.map((p) => `${p.name} ${p.r2.toFixed(2)}`).join(', ');
      events.log('info', `Test: NLL ${evaluation.nll.toFixed(3)} nats (uniform prior: 0); R² ${r2}.`);
    } else {
      events.log('warn', 'The test split is empty; no evaluation was written (raise data.splits.test_fraction).');
    }
    if (result.outcome === 'early_stopped') events.log('info', `Stopped early at step ${result.state.step}; best validation loss ${result.state.bestLoss} at step ${result.state.bestStep}.`);
    return { kind: 'completed', progress };
  } finally {
    built.model.dispose();
  }
}
