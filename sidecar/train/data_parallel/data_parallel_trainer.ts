// Data-parallel training on worker threads: N replicas, each on 1/N of the batch, gradients averaged over a
// SharedArrayBuffer, Adam applied identically in every replica (see ./worker.ts). Equivalent to one Adam step
// on the whole batch when the loss is a mean and the shards are equal.
// Not used by `l3m train` yet, which is to train through it next; bench/train_step measures it meanwhile.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Shard } from './replica';
import type { FromWorker, ToWorker, WorkerSetup } from './messages';

export interface DataParallelOptions {
  workers: number;
  /** The replica module (exports createReplica), as a path. */
  replicaModule: string;
  replicaOptions: unknown;
  /** Total trainable parameters of one replica (sizes the shared gradient buffer). */
  parameterCount: number;
  learningRate: number;
  backend?: 'wasm' | 'cpu';
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Starts ./worker.js when built, else ./worker.ts through tsx's loader: Node 20 cannot start a .ts worker by
 * itself, and `execArgv: ['--import', 'tsx']` does not reach the worker's entry file, so a one-line bootstrap
 * registers tsx's require hook inside the worker and then loads the TypeScript entry.
 */
function startWorker(setup: WorkerSetup): Worker {
  const built = path.join(here, 'worker.js');
  if (existsSync(built)) return new Worker(built, { workerData: setup });
  const entry = path.join(here, 'worker.ts');
  // The same bootstrap as sidecar/data/simulated_dataset.ts uses for its worker.
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData: setup });
}

export class DataParallelTrainer {
  private constructor(private readonly workers: Worker[]) {}

  static async create(options: DataParallelOptions): Promise<DataParallelTrainer> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`DataParallelTrainer: workers must be a positive integer, got ${options.workers}.`);
    }
    const gradients = new SharedArrayBuffer(4 * options.workers * options.parameterCount);
    const sync = new SharedArrayBuffer(8);
    const workers: Worker[] = [];
    for (let rank = 0; rank < options.workers; rank++) {
      const setup: WorkerSetup = {
        rank,
        workers: options.workers,
        backend: options.backend ?? 'wasm',
        replicaModule: path.resolve(options.replicaModule),
        replicaOptions: options.replicaOptions,
        learningRate: options.learningRate,
        gradients,
        sync,
      };
      workers.push(startWorker(setup));
    }
    const trainer = new DataParallelTrainer(workers);
    try {
      const ready = await trainer.collect('ready');
      for (const r of ready) {
        if (r.parameterCount !== options.parameterCount) {
          throw new Error(
            `DataParallelTrainer: a replica has ${r.parameterCount} parameters, options say ${options.parameterCount}.`,
          );
        }
      }
    } catch (error) {
      await trainer.close();
      throw error;
    }
    return trainer;
  }

  /** Waits for one message of `type` from every worker (in rank order); a worker error rejects. */
  private collect<K extends FromWorker['type']>(type: K): Promise<Extract<FromWorker, { type: K }>[]> {
    return Promise.all(
      this.workers.map(
        (worker, rank) =>
          new Promise<Extract<FromWorker, { type: K }>>((resolve, reject) => {
            const onMessage = (message: FromWorker): void => {
              if (message.type === 'error') {
                cleanup();
                reject(new Error(`data-parallel worker ${rank}: ${message.message}`));
              } else if (isOfType(message, type)) {
                cleanup();
                resolve(message);
              }
            };
            const onError = (error: Error): void => {
              cleanup();
              reject(error);
            };
            const cleanup = (): void => {
              worker.off('message', onMessage);
              worker.off('error', onError);
            };
            worker.on('message', onMessage);
            worker.on('error', onError);
          }),
      ),
    );
  }

  private send(rank: number, message: ToWorker): void {
    this.workers[rank].postMessage(message);
  }

  /** One Adam step on the whole batch, given as one shard per worker (equal sizes); returns the mean loss. */
  async step(shards: Shard[]): Promise<number> {
    if (shards.length !== this.workers.length) {
      throw new Error(
        `DataParallelTrainer.step: ${shards.length} shards for ${this.workers.length} workers; give one each.`,
      );
    }
    const done = this.collect('stepped');
    shards.forEach((shard, rank) => this.send(rank, { type: 'step', shard }));
    const losses = await done;
    return losses.reduce((sum, r) => sum + r.loss, 0) / losses.length;
  }

  /** The flattened weights of replica 0 (all replicas hold the same). */
  async weights(rank = 0): Promise<Float32Array> {
    const reply = new Promise<{ type: 'weights'; weights: Float32Array }>((resolve) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type === 'weights') {
          this.workers[rank].off('message', onMessage);
          resolve(message);
        }
      };
      this.workers[rank].on('message', onMessage);
    });
    this.send(rank, { type: 'weights' });
    return (await reply).weights;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.postMessage({ type: 'close' } satisfies ToWorker);
            setTimeout(() => void worker.terminate(), 5000).unref();
          }),
      ),
    );
  }
}

function isOfType<K extends FromWorker['type']>(
  message: FromWorker,
  type: K,
): message is Extract<FromWorker, { type: K }> {
  return message.type === type;
}
