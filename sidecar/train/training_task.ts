// The seam between the training engine and a task (regression now, generation next): the engine owns
// the loop — batching order, schedule, optimizers, clipping, validation cadence, checkpoints, resume,
// cancel — and asks the task only for what is task-specific: its update phases (which variables each
// optimizer updates and the loss it minimises), how to build a batch, how to validate, and which
// variables a checkpoint holds.
import type * as tf from '@tensorflow/tfjs';
import type { ParameterGroup } from './parameter_group';

/** What a loss function may depend on besides the batch. */
export interface StepContext {
  /** 0-based optimizer step (one step = one batch through every phase). */
  step: number;
  /** Seed for this phase's and micro-batch's random ops (attention dropout, CFM noise). */
  seed: number;
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
  /** The scalar loss of a batch; called inside tf.variableGrads over this phase's variables. */
  loss(batch: Batch, context: StepContext): tf.Scalar;
}

export interface ValidationResult {
  /** The number that best-checkpoint tracking and early stopping compare (lower is better). */
  loss: number;
  /** Further metrics for metrics.jsonl (split 'val'). */
  metrics: Record<string, number>;
}

export interface TrainingTask<Batch> {
  /** Number of training examples (before train_ds_multiplicity). */
  readonly trainSize: number;
  readonly phases: UpdatePhase<Batch>[];
  /** Builds the batch of the given training-example indices (tensors the engine disposes via disposeBatch). */
  batch(indices: Int32Array, context: StepContext): Batch;
  disposeBatch(batch: Batch): void;
  /** Evaluates the validation split with the current weights. */
  validate(): Promise<ValidationResult>;
  /** Every variable a checkpoint saves and restores, by checkpoint key. */
  namedWeights(): [string, tf.Variable][];
}
