// The seam between the training engine and a task (regression now, generation next): the engine owns
// the loop — batching order, schedule, optimizers, clipping, validation cadence, checkpoints, resume,
// cancel — and asks the task only for what is task-specific: its update phases (which variables each
// optimizer updates and the loss it minimises), how to build a batch, how to validate, and which
// variables a checkpoint holds.
import type * as tf from '@tensorflow/tfjs';
import type { ParameterGroup } from './parameter_group';
import { hashSeed } from './seeded_random';

/** What a loss function may depend on besides the batch. */
export interface StepContext {
  /** 0-based optimizer step (one step = one batch through every phase). */
  step: number;
  /** Seed for this phase's and micro-batch's random ops (attention dropout, CFM noise). */
  seed: number;
  /**
   * Set when data-parallel workers share the step (./data_parallel/): this worker computes rows
   * [start, start + size) of a micro-batch of `of` rows. `batch` still receives all `of` indices and the
   * same seed as every other worker, so that a task can draw the micro-batch's randomness as one worker
   * would and keep its own rows: the step then differs from a one-worker step only in rounding.
   */
  shard?: Shard;
}

/** Rows [start, start + size) of a micro-batch of `of` rows. */
export interface Shard {
  start: number;
  size: number;
  of: number;
}

/** The indices of the rows this worker computes: all of them when the step is not shared. */
export function shardIndices(indices: Int32Array, context: StepContext): Int32Array {
  return context.shard ? indices.subarray(context.shard.start, context.shard.start + context.shard.size) : indices;
}

/**
 * The seed of dropout masks for this worker's rows. Masks are drawn for the tensor a worker holds, so the
 * workers of a shared step need distinct seeds (equal ones would repeat one mask on every shard); the first
 * worker keeps the step's seed, which is all a step that is not shared uses.
 */
export function dropoutSeedOf(context: StepContext): number {
  return context.shard && context.shard.start > 0
    ? hashSeed(context.seed, context.shard.start) & 0x7fffffff
    : context.seed;
}

/**
 * One optimizer's share of a step. The regression task's interleaved update has two phases per batch
 * (input connector + special tokens, then the head on the detached backbone output,
 * docs/paper-mapping.md#regression); joint training has one. Each phase has its own optimizer state and
 * its own clipping, as the reference's two optimizers do.
 */
export interface UpdatePhase<Batch> {
  name: string;
  groups: ParameterGroup[];
  /**
   * The scalar loss of a batch; called inside tf.variableGrads over this phase's variables. It must be the
   * mean over the batch's rows of terms of equal weight, so that the shards' losses weighted by their row
   * counts sum to the batch's loss (data-parallel workers rely on it).
   */
  loss(batch: Batch, context: StepContext): tf.Scalar;
}

export interface ValidationResult {
  /** The number that best-checkpoint tracking and early stopping compare (lower is better). */
  loss: number;
  /** Further metrics for metrics.jsonl (split 'val'). */
  metrics: Record<string, number>;
  /**
   * The first (full-size) validation batch: its tensors' shapes (gpu_memory_errors' batchShapes) and rows,
   * named when the GPU could not hold it.
   */
  batch?: { shapes: string; rows: number };
}

export interface TrainingTask<Batch> {
  /** Number of training examples (before train_ds_multiplicity). */
  readonly trainSize: number;
  readonly phases: UpdatePhase<Batch>[];
  /**
   * Builds the batch of the given training-example indices (tensors the engine disposes via disposeBatch);
   * with `context.shard`, only the shard's rows of them (see StepContext.shard).
   */
  batch(indices: Int32Array, context: StepContext): Batch;
  /**
   * Optional: the indices the next step will ask `batch` for, given while this step computes, so that a
   * task reading its data from disk can have them read ahead. It must not change what `batch` returns.
   */
  prefetch?(indices: Int32Array): void;
  disposeBatch(batch: Batch): void;
  /** Evaluates the validation split with the current weights. */
  validate(): Promise<ValidationResult>;
  /** Every variable a checkpoint saves and restores, by checkpoint key. */
  namedWeights(): [string, tf.Variable][];
}
