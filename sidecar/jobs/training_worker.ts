// Worker-thread entry of data-parallel training (built as dist/training_worker.js; ./training_workers.ts
// starts it): selects the training thread's backend with the same kernels, opens the run, loads its data
// and builds its task exactly as the training job does, then computes the gradients of its rows of every
// step (../train/data_parallel/gradient_worker.ts).
import { join } from 'node:path';
import { readRunConfig } from '../runs/run_access';
import { taskDefinition } from '../tasks/registry';
import { serveGradients, workerJob } from '../train/data_parallel/gradient_worker';
import { selectRuntime } from './select_runtime';
import { isTrainingWorkerJob } from './training_workers';

serveGradients(async () => {
  const job = workerJob();
  if (!isTrainingWorkerJob(job)) {
    throw new Error(
      `training worker: workerData.job is ${JSON.stringify(job)}, not { runDir, configDir, configPath, backend }; it is started only by the training job.`,
    );
  }
  // The same selection as the training thread's, with the environment's L3M_BACKEND set aside: the worker
  // must compute with the backend that thread ended up with, whatever was asked for.
  await selectRuntime(job.backend, '');
  const config = await readRunConfig(job.runDir);
  const definition = taskDefinition(config.task, join(job.runDir, 'config.json'));
  const data = await definition.loadData(config, { configDir: job.configDir });
  return data.buildModel(config, { configPath: job.configPath, runDir: job.runDir }).training;
});
