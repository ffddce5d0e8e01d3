// The test evaluation of a trained regression run on demand (`run/evaluate`): the same evaluation as
// at the end of training (regression_run.ts, Fig. 6 of the paper) on the run's best checkpoint, else
// its newest step checkpoint, rewritten to eval/regression.json; returns that file. Re-running rather
// than returning the stored file means an evaluation setting changed in config.json, or a run
// cancelled before its evaluation, still gets a fresh result.
import { readFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { readCheckpointMetadata } from '../checkpoint/checkpoint';
import { writeFileAtomic } from '../runs/atomic_write';
import { readRun } from '../runs/run_store';
import { selectBackend, type BackendRequest } from '../runtime/backends';
import { evaluateRegression, type RegressionEvaluation } from '../tasks/regression/regression_evaluation';
import { openDataset } from '../data/dataset';
import { loadRegressionData } from '../tasks/regression/regression_data';
import { buildRegressionModel } from '../tasks/regression/regression_setup';
import { RegressionTask } from '../tasks/regression/regression_task';
import { bestCheckpointName, listStepCheckpoints, readCheckpointWeights, stepCheckpointName } from './trainer_checkpoints';

export interface RegressionEvaluateHooks {
  log?: (message: string) => void;
}

/** The checkpoint an evaluation uses: the best one (as training's final evaluation), else the newest step. */
export function evaluationCheckpoint(runDir: string, status: string): { checkpointDir: string; name: string } {
  const checkpointDir = join(runDir, 'checkpoints');
  try {
    readCheckpointMetadata(checkpointDir, bestCheckpointName);
    return { checkpointDir, name: bestCheckpointName };
  } catch {
    const steps = listStepCheckpoints(checkpointDir);
    if (steps.length === 0) throw new Error(`Run ${runDir} has no checkpoint yet (status ${status}); train it (or resume it) until it saves one, then evaluate.`);
    return { checkpointDir, name: stepCheckpointName(steps[steps.length - 1]) };
  }
}

export async function evaluateRegressionRun(runDir: string, signal: AbortSignal, hooks: RegressionEvaluateHooks = {}):
  Promise<{ resultFile: string; evaluation: RegressionEvaluation }> {
  const record = await readRun(runDir);
  const config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as ResolvedExperimentConfig;
  if (config.task !== 'regression') throw new Error(`Run ${runDir} is a ${config.task} run, not a regression run.`);
  const checkpoint = evaluationCheckpoint(runDir, record.status);
  const backend = await selectBackend(config.runtime.backend as BackendRequest);
  hooks.log?.(`Backend ${backend.name} (${backend.device}).`);
  // Relative data paths are relative to the config file, as in training.
  const configDir = record.configPath ? dirname(record.configPath) : runDir;
  const dataset = await openDataset(config.data, { configDir, signal });
  let loaded;
  try {
    loaded = await loadRegressionData(config, dataset);
  } finally {
    await dataset.source.close();
  }
  if (loaded.data.test.ids.length === 0) {
    throw new Error(`Run ${runDir} has an empty test split (data.splits.test_fraction ${config.data.splits.test_fraction}); there is nothing to evaluate.`);
  }
  if (signal.aborted) throw new Error(`Evaluation of ${runDir} was cancelled.`);
  const built = buildRegressionModel(config, record.configPath, runDir);
  try {
    const task = new RegressionTask(built.model, loaded.data, {
      interleaved: config.training.interleaved, lrRatios: config.training.lr_ratios,
      weightDecay: config.training.weight_decay, evalBatchSize: config.evaluation.batch_size,
    });
    readCheckpointWeights(checkpoint.checkpointDir, checkpoint.name, task.namedWeights());
    hooks.log?.(`Loaded checkpoint ${checkpoint.name}.`);
    const predictions = await task.predict(loaded.data.test);
    const evaluation = evaluateRegression(predictions, { samples: config.evaluation.regression_samples, bins: config.evaluation.regression_bins, seed: config.training.seed });
    await mkdir(join(runDir, 'eval'), { recursive: true });
    const resultFile = join(runDir, 'eval', 'regression.json');
    // Non-finite figures (an R² of a constant column) are written as null, as training writes them.
    await writeFileAtomic(resultFile, JSON.stringify(evaluation, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
    return { resultFile, evaluation };
  } finally {
    built.model.dispose();
  }
}
