// The data-parallel workers of a training run: how many (runtime.threads, L3M_THREADS, the cores, the
// backend and the batch decide; ../train/data_parallel/worker_count.ts), and starting them. Each worker is a
// thread that runs ./training_worker.ts: it opens the same run, loads the same data and builds the same task
// as the training thread, so the pool only has to keep the trained weights in step.
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { GradientPool } from '../train/data_parallel/gradient_pool';
import { workerCountFor, type WorkerCount } from '../train/data_parallel/worker_count';
import type { TrainingTask } from '../train/training_task';

/** What a worker needs to build the run's task (its workerData.job). */
export interface TrainingWorkerJob {
  runDir: string;
  /** Relative data paths resolve against it, as on the training thread. */
  configDir: string;
  configPath: string | undefined;
  /** The backend the training thread selected (only the thread-bound ones have workers). */
  backend: 'wasm' | 'cpu';
}

export function isTrainingWorkerJob(value: unknown): value is TrainingWorkerJob {
  if (typeof value !== 'object' || value === null) return false;
  const field = (key: keyof TrainingWorkerJob): unknown => Reflect.get(value, key);
  return (
    typeof field('runDir') === 'string' &&
    typeof field('configDir') === 'string' &&
    (field('configPath') === undefined || typeof field('configPath') === 'string') &&
    (field('backend') === 'wasm' || field('backend') === 'cpu')
  );
}

/** The run's worker count, from its config, L3M_THREADS and this machine. */
export function runWorkerCount(
  config: ResolvedExperimentConfig,
  backend: string,
  environment: string | undefined = process.env.L3M_THREADS,
): WorkerCount {
  return workerCountFor({
    configThreads: config.runtime.threads,
    environment,
    cores: availableParallelism(),
    backend,
    batchSize: config.training.batch_size,
  });
}

/** The log line that says how many workers train and why. */
export function describeWorkerCount(count: WorkerCount): string {
  const asked = count.requested === 0 ? '0 = every core' : String(count.requested);
  return count.workers === 1
    ? `Training on 1 worker (${count.source} ${asked}).`
    : `Training on ${count.workers} data-parallel workers, one thread each (${count.source} ${asked}); the batch's rows are shared among them.`;
}

/** Starts workers 1 … N − 1 for the task the training thread built (none for one worker). */
export async function startTrainingWorkers(
  workers: number,
  job: TrainingWorkerJob,
  task: TrainingTask<unknown>,
  batchSize: number,
): Promise<GradientPool | undefined> {
  if (workers <= 1) return undefined;
  // The built worker lies next to the sidecar bundle (dist/training_worker.js); from source, next to this file.
  const entry = join(dirname(__filename), 'training_worker');
  return GradientPool.start({ workers, entry, job, task, batchSize });
}
