// Data-parallel training on worker threads. The training thread is worker 0 and keeps everything but the
// gradients of the other rows: the optimizers, clipping, validation, checkpoints and resume. For each update
// phase it writes the weights that changed into shared memory, asks workers 1 … N − 1 for the gradients of
// their rows of every micro-batch (./shards.ts), computes its own rows meanwhile, and sums the N results in
// rank order, each weighted by its share of the rows. The sum order is fixed, so a run on N workers is
// reproducible; a task draws a shared step's randomness for the whole micro-batch (StepContext.shard), so a
// run on N workers differs from a run on one only in rounding.
// Why worker threads: the wasm backend's own thread pool is off under Node (tfjs-backend-wasm 4.22 reports
// no multithread support there), so one thread computes on one core; N workers on 1/N of the rows each use N.
import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import { phaseGradients, type MicroBatch, type PhaseGradients } from '../phase_gradients';
import type { Shard, TrainingTask } from '../training_task';
import { isFromWorker, reportedError, type FromWorker, type GradientsRequest, type WorkerData } from './messages';
import { shardsOf } from './shards';
import { startWorkerThread } from './worker_thread';

export interface GradientPoolOptions {
  /** Workers in all, the training thread included (≥ 2; one worker needs no pool). */
  workers: number;
  /** The worker entry module, without its extension (./worker_thread.ts). */
  entry: string;
  /** The entry's own setup (how it builds the same task), passed as workerData.job. */
  job: unknown;
  /** The training thread's task: its weights are the ones the workers' must match. */
  task: TrainingTask<unknown>;
  batchSize: number;
}

/** A worker failed (threw, or its thread ended): the step that needed it fails with its error. */
export class WorkerFailedError extends Error {
  constructor(
    readonly rank: number,
    readonly workers: number,
    readonly detail: string,
  ) {
    super(
      `Data-parallel worker ${rank} of ${workers} failed: ${detail}. ` +
        'The run can be resumed from its last checkpoint; set runtime.threads (or L3M_THREADS) to 1 to train on one thread.',
    );
    this.name = 'WorkerFailedError';
  }
}

interface Waiting {
  resolve: (message: FromWorker) => void;
  reject: (error: Error) => void;
}

export class GradientPool {
  private failure: WorkerFailedError | null = null;
  private closing = false;
  private readonly waiting = new Map<number, Waiting>();
  /** Weights (indices into namedWeights) the workers do not hold yet: all of them before the first request. */
  private readonly stale: Set<number>;
  private readonly offsets: number[];
  private readonly indexOf: Map<tf.Variable, number>;
  private readonly fence: Int32Array;
  private readonly weights: Float32Array;
  private readonly slots: Float32Array[];
  readonly shards: Shard[];

  private constructor(
    private readonly options: GradientPoolOptions,
    private readonly threads: Worker[],
    buffers: { weights: SharedArrayBuffer; gradients: SharedArrayBuffer[]; fence: SharedArrayBuffer },
  ) {
    const named = options.task.namedWeights();
    this.offsets = [];
    let offset = 0;
    for (const [, variable] of named) {
      this.offsets.push(offset);
      offset += variable.size;
    }
    this.indexOf = new Map(named.map(([, variable], i) => [variable, i]));
    this.stale = new Set(named.map((_, i) => i));
    this.fence = new Int32Array(buffers.fence);
    this.weights = new Float32Array(buffers.weights);
    this.slots = buffers.gradients.map((buffer) => new Float32Array(buffer));
    this.shards = shardsOf(options.batchSize, options.workers);
    threads.forEach((thread, i) => this.watch(thread, i + 1));
  }

  /** Starts workers 1 … N − 1 and waits until each has built its task and holds the same weights. */
  static async start(options: GradientPoolOptions): Promise<GradientPool> {
    const named = options.task.namedWeights();
    const total = named.reduce((sum, [, v]) => sum + v.size, 0);
    const buffers = {
      weights: new SharedArrayBuffer(4 * total),
      gradients: Array.from({ length: options.workers - 1 }, () => new SharedArrayBuffer(4 * total)),
      fence: new SharedArrayBuffer(4),
    };
    const threads: Worker[] = [];
    let pool: GradientPool | null = null;
    try {
      for (let rank = 1; rank < options.workers; rank++) {
        const workerData: WorkerData = {
          exchange: {
            rank,
            workers: options.workers,
            weights: buffers.weights,
            gradients: buffers.gradients[rank - 1],
            fence: buffers.fence,
          },
          job: options.job,
        };
        threads.push(startWorkerThread(options.entry, workerData));
      }
      pool = new GradientPool(options, threads, buffers);
      const replies = await pool.fromEveryWorker();
      replies.forEach((reply, i) => pool!.checkReady(reply, i + 1));
      return pool;
    } catch (error) {
      if (pool !== null) await pool.close();
      else await Promise.all(threads.map((thread) => thread.terminate()));
      throw error;
    }
  }

  get workers(): number {
    return this.options.workers;
  }

  /**
   * The gradients of `phase` over the micro-batches (each given whole), summed over the workers' rows in
   * rank order, each worker's weighted by its share of the rows: the same as phaseGradients on one worker
   * up to rounding.
   */
  async phaseGradients(
    phase: number,
    variables: tf.Variable[],
    microBatches: readonly MicroBatch[],
  ): Promise<PhaseGradients> {
    if (this.failure) throw this.failure;
    const task = this.options.task;
    const named = task.namedWeights();
    const variableIndices = variables.map((variable) => {
      const index = this.indexOf.get(variable);
      if (index === undefined) {
        throw new Error(
          `Data-parallel step: phase "${task.phases[phase].name}" trains a variable (${variable.name}) that namedWeights() does not list; every trained weight must be checkpointed.`,
        );
      }
      return index;
    });
    const refresh = [...this.stale].sort((a, b) => a - b);
    for (const index of refresh) this.weights.set(await named[index][1].data(), this.offsets[index]);
    this.stale.clear();
    Atomics.add(this.fence, 0, 1);
    const replies = this.fromEveryWorker();
    this.threads.forEach((thread, i) => {
      const request: GradientsRequest = {
        type: 'gradients',
        phase,
        variables: variableIndices,
        refresh,
        microBatches: microBatches.map(({ indices, context }) => ({
          // A copy: a view would take the whole epoch order it views along into the message.
          indices: indices.slice(),
          context: { ...context, shard: this.shards[i + 1] },
        })),
      };
      thread.postMessage(request);
    });
    let own: PhaseGradients;
    try {
      own = await phaseGradients(
        task,
        task.phases[phase],
        variables,
        microBatches.map(({ indices, context }) => ({ indices, context: { ...context, shard: this.shards[0] } })),
      );
    } catch (error) {
      // The workers' replies are still due; a failure among them is reported by the next request.
      replies.catch(() => undefined);
      throw error;
    }
    let others: FromWorker[];
    try {
      others = await replies;
    } catch (error) {
      tf.dispose(Object.values(own.grads));
      throw error;
    }
    Atomics.load(this.fence, 0);
    return this.sum(own, others, variables, variableIndices);
  }

  /** Marks weights an optimizer just changed: the next request sends them. */
  updated(variables: readonly tf.Variable[]): void {
    for (const variable of variables) {
      const index = this.indexOf.get(variable);
      if (index !== undefined) this.stale.add(index);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }

  /** Worker 0's gradients plus the others', in rank order, each weighted by its share of the rows. */
  private async sum(
    own: PhaseGradients,
    replies: FromWorker[],
    variables: tf.Variable[],
    variableIndices: number[],
  ): Promise<PhaseGradients> {
    try {
      const others = replies.map((reply, i) => {
        if (reply.type !== 'gradients') {
          throw new WorkerFailedError(i + 1, this.workers, `answered a gradients request with "${reply.type}"`);
        }
        const differing = variableIndices.find(
          (index, v) => reply.missing.includes(index) !== (own.grads[variables[v].name] === undefined),
        );
        if (differing !== undefined) {
          throw new WorkerFailedError(
            i + 1,
            this.workers,
            `its loss reaches ${this.options.task.namedWeights()[differing][0]} where worker 0's does not, or the reverse; the workers built different models`,
          );
        }
        return reply;
      });
      const share = this.shards.map((shard) => shard.size / shard.of);
      const losses = own.losses.map((loss, micro) =>
        others.reduce((sum, reply, i) => sum + share[i + 1] * reply.losses[micro], share[0] * loss),
      );
      const grads: Record<string, tf.Tensor> = {};
      let offset = 0;
      for (const variable of variables) {
        const mine = own.grads[variable.name];
        if (mine !== undefined) {
          const total = new Float32Array(await mine.data());
          for (let i = 0; i < total.length; i++) total[i] *= share[0];
          this.slots.forEach((slot, s) => {
            const part = slot.subarray(offset, offset + total.length);
            for (let i = 0; i < total.length; i++) total[i] += share[s + 1] * part[i];
          });
          grads[variable.name] = tf.tensor(total, variable.shape);
        }
        offset += variable.size;
      }
      return { losses, grads, shapes: own.shapes };
    } finally {
      tf.dispose(Object.values(own.grads));
    }
  }

  private checkReady(reply: FromWorker, rank: number): void {
    const named = this.options.task.namedWeights();
    const mine = named.map(([key, variable]) => ({ key, size: variable.size }));
    if (reply.type !== 'ready') throw new WorkerFailedError(rank, this.workers, `sent "${reply.type}" before "ready"`);
    const same =
      reply.trainSize === this.options.task.trainSize &&
      reply.weights.length === mine.length &&
      reply.weights.every((w, i) => w.key === mine[i].key && w.size === mine[i].size);
    if (!same) {
      throw new WorkerFailedError(
        rank,
        this.workers,
        `it built a task with ${reply.trainSize} training examples and ${reply.weights.length} weights where the training thread has ` +
          `${this.options.task.trainSize} and ${mine.length}; the data or the model changed while the run started`,
      );
    }
  }

  /** The next message of every worker, in rank order; rejects with the first failure. */
  private fromEveryWorker(): Promise<FromWorker[]> {
    return Promise.all(
      this.threads.map(
        (_, i) =>
          new Promise<FromWorker>((resolve, reject) => {
            if (this.failure) reject(this.failure);
            else this.waiting.set(i + 1, { resolve, reject });
          }),
      ),
    );
  }

  private watch(thread: Worker, rank: number): void {
    thread.on('message', (message: unknown) => {
      if (!isFromWorker(message)) return this.fail(rank, `sent an unknown message ${JSON.stringify(message)}`);
      if (message.type === 'error') return this.fail(rank, message.message);
      const waiting = this.waiting.get(rank);
      if (waiting === undefined) return this.fail(rank, `sent "${message.type}" unasked`);
      this.waiting.delete(rank);
      waiting.resolve(message);
    });
    thread.on('error', (error) => this.fail(rank, reportedError(error)));
    thread.on('messageerror', (error) => this.fail(rank, `a message could not be read: ${error.message}`));
    thread.on('exit', (code) => {
      if (!this.closing) this.fail(rank, `its thread ended (exit code ${code})`);
    });
  }

  private fail(rank: number, detail: string): void {
    if (this.closing) return;
    // The first failure is the cause; later ones (the others stopping) are its consequences.
    this.failure ??= new WorkerFailedError(rank, this.workers, detail);
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
  }
}
