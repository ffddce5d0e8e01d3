// Messages between the data-parallel pool (the training thread) and its worker threads, and the shared
// memory they exchange weights and gradients through.
import type { StepContext } from '../training_task';

/** The pool's part of a worker's workerData (the rest is the entry's own setup, under `job`). */
export interface ExchangeSetup {
  /** 1 … workers − 1; the training thread itself is rank 0. */
  rank: number;
  workers: number;
  /** Every checkpointed weight, flattened in namedWeights() order: the pool writes those that changed. */
  weights: SharedArrayBuffer;
  /** This worker's gradients of a request, the requested variables' flattened in request order. */
  gradients: SharedArrayBuffer;
  /**
   * One int32 that both sides add to after writing shared memory and read before reading it: the atomic
   * operations order the plain reads and writes around them across threads.
   */
  fence: SharedArrayBuffer;
}

export interface WorkerData {
  exchange: ExchangeSetup;
  job: unknown;
}

/** Compute the gradients of phase `phase` on this worker's rows of each micro-batch. */
export interface GradientsRequest {
  type: 'gradients';
  phase: number;
  /** Indices into namedWeights() of the variables to differentiate, in order. */
  variables: number[];
  /** Indices into namedWeights() of the weights that changed since the last request: read them first. */
  refresh: number[];
  microBatches: { indices: Int32Array; context: StepContext }[];
}

export type FromWorker =
  | { type: 'ready'; weights: { key: string; size: number }[]; trainSize: number }
  | { type: 'gradients'; losses: number[]; missing: number[] }
  | { type: 'error'; message: string };

export function isWorkerData(value: unknown): value is WorkerData {
  if (typeof value !== 'object' || value === null) return false;
  const exchange: unknown = Reflect.get(value, 'exchange');
  if (typeof exchange !== 'object' || exchange === null) return false;
  const field = (key: keyof ExchangeSetup): unknown => Reflect.get(exchange, key);
  return (
    Number.isInteger(field('rank')) &&
    Number.isInteger(field('workers')) &&
    field('weights') instanceof SharedArrayBuffer &&
    field('gradients') instanceof SharedArrayBuffer &&
    field('fence') instanceof SharedArrayBuffer
  );
}

export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== 'object' || value === null) return false;
  const type: unknown = Reflect.get(value, 'type');
  return type === 'ready' || type === 'gradients' || type === 'error';
}

/** A thrown value as the text a worker reports: the message and where it was thrown. */
export function reportedError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
  return frames.length > 0 ? `${String(error)} (${frames[0].trim()})` : String(error);
}
