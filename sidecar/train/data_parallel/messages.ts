// Messages between the data-parallel trainer (main thread) and its workers.
import type { Shard } from './replica';

/** Given to each worker at start (workerData). */
export interface WorkerSetup {
  rank: number;
  workers: number;
  backend: 'wasm' | 'cpu';
  /** Absolute path of the replica module (exports createReplica). */
  replicaModule: string;
  replicaOptions: unknown;
  learningRate: number;
  /** workers × parameterCount float32 gradient slots. */
  gradients: SharedArrayBuffer;
  /** Two int32: barrier arrivals and generation. */
  sync: SharedArrayBuffer;
}

export type ToWorker = { type: 'step'; shard: Shard } | { type: 'weights' } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; parameterCount: number }
  | { type: 'stepped'; loss: number }
  | { type: 'weights'; weights: Float32Array }
  | { type: 'error'; message: string };
