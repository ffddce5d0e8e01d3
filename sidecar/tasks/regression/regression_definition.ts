// The regression task as the jobs see it (tasks/task_definition.ts): its data (the dataset's
// lightcones as scalar tokens, standardised), its model and RegressionTask, and its test evaluation
// of Fig. 6 (eval/regression.json: NLL, R², coverage).
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import { openDataset } from '../../data/dataset';
import type { DataOptions, TaskData, TaskDefinition, TaskModel } from '../task_definition';
import { evaluateRegression, regressionMetrics } from './regression_evaluation';
import { loadRegressionData, type LoadedRegressionData } from './regression_data';
import { buildRegressionModel } from './regression_setup';
import { RegressionTask } from './regression_task';

export const regressionDefinition: TaskDefinition = {
  name: 'regression',
  evaluationFile: 'regression.json',
  emptyTestWarning: 'The test split is empty; no evaluation was written (raise data.splits.test_fraction).',
  evaluatesAfterTraining: () => true,
  loadData: async (config, options) => regressionData(await readRegressionData(config, options), config),
  checkCheckpointExtra(extra, path) {
    if (extra.task !== 'regression') {
      throw new Error(
        `Checkpoint ${path} was not written by a regression run (its task is ${JSON.stringify(extra.task)}); use it with the run that wrote it.`,
      );
    }
  },
};

async function readRegressionData(
  config: ResolvedExperimentConfig,
  options: DataOptions,
): Promise<LoadedRegressionData> {
  const dataset = await openDataset(config.data, {
    configDir: options.configDir,
    signal: options.signal,
    onProgress: options.onDataset,
    onPhase: options.onPhase,
    // Regression reads each cone once, for its tokens: nothing to read ahead.
    prefetchWorkers: 0,
  });
  const onPhase = options.onPhase;
  try {
    return await loadRegressionData(
      config,
      dataset,
      onPhase && ((done, total) => onPhase(`reading lightcones ${done}/${total}`)),
    );
  } finally {
    await dataset.source.close();
  }
}

function regressionData(loaded: LoadedRegressionData, config: ResolvedExperimentConfig): TaskData {
  const { data } = loaded;
  return {
    description: `${loaded.description}; ${data.train.ids.length} train / ${data.validation.ids.length} validation / ${data.test.ids.length} test lightcones, ${data.tokenCount} tokens each; chunk cache ${config.data.cache_mb} MB.`,
    testCount: data.test.ids.length,
    // The standardisation is fitted again on the same training split, which reproduces the stored one
    // unless the data changed; evaluation has always used the data's own.
    restoreFromCheckpoint: () => undefined,
    buildModel: (config, paths) => regressionModel(config, paths, loaded),
  };
}

function regressionModel(
  config: ResolvedExperimentConfig,
  paths: { configPath: string | undefined; runDir: string },
  loaded: LoadedRegressionData,
): TaskModel {
  const built = buildRegressionModel(config, paths.configPath, paths.runDir);
  let task: RegressionTask;
  try {
    task = new RegressionTask(built.model, loaded.data, {
      interleaved: config.training.interleaved,
      lrRatios: config.training.lr_ratios,
      weightDecay: config.training.weight_decay,
      evalBatchSize: config.evaluation.batch_size,
    });
  } catch (error) {
    built.model.dispose();
    throw error;
  }
  return {
    description:
      `${built.description}; ${built.model.trainableParameterCount()} trainable parameters (${built.finetune}), ` +
      `${config.training.interleaved ? 'interleaved connector/head updates' : 'joint updates'}.`,
    backboneConfig: built.backboneConfig,
    training: task,
    checkpointExtra: () => ({ task: 'regression', standardization: loaded.standardization, finetune: built.finetune }),
    async evaluate(options) {
      options.onPhase?.('evaluating the test split');
      const predictions = await task.predict(loaded.data.test);
      const evaluation = evaluateRegression(predictions, {
        samples: config.evaluation.regression_samples,
        bins: config.evaluation.regression_bins,
        seed: config.training.seed,
      });
      const r2 = evaluation.parameters.map((p) => `${p.name} ${p.r2.toFixed(2)}`).join(', ');
      return {
        // Non-finite figures (an R² of a constant column) are written as null, as JSON has no NaN.
        json:
          JSON.stringify(evaluation, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) +
          '\n',
        metrics: regressionMetrics(evaluation),
        summary: `Test: NLL ${evaluation.nll.toFixed(3)} nats (uniform prior: 0); R² ${r2}.`,
      };
    },
    dispose: () => built.model.dispose(),
  };
}
