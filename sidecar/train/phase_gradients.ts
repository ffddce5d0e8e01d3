// The gradients of one update phase over a step's micro-batches, on this thread: for each micro-batch in
// order, the batch, the loss and its gradients with respect to the phase's variables, summed. The training
// loop uses it for a step on one worker, and every data-parallel worker for its rows of a step (./data_parallel/),
// so that the two compute a shard the same way.
import * as tf from '@tensorflow/tfjs';
import type { StepContext, TrainingTask, UpdatePhase } from './training_task';

/** One micro-batch of a step: its training-example indices and its context. */
export interface MicroBatch {
  indices: Int32Array;
  context: StepContext;
}

export interface PhaseGradients {
  /** The loss of each micro-batch, in order. */
  losses: number[];
  /** The gradients summed over the micro-batches, by variable name (a variable the loss does not reach has none). */
  grads: Record<string, tf.Tensor>;
}

export function phaseGradients<Batch>(
  task: TrainingTask<Batch>,
  phase: UpdatePhase<Batch>,
  variables: tf.Variable[],
  microBatches: readonly MicroBatch[],
): PhaseGradients {
  const losses: number[] = [];
  let summed: Record<string, tf.Tensor> | null = null;
  try {
    for (const { indices, context } of microBatches) {
      const { value, grads } = microBatchGradients(task, phase, indices, context, variables);
      losses.push(value);
      if (summed === null) summed = grads;
      else {
        const previous: Record<string, tf.Tensor> = summed;
        summed = Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.add(previous[name], g)]));
        tf.dispose([...Object.values(previous), ...Object.values(grads)]);
      }
    }
  } catch (error) {
    if (summed !== null) tf.dispose(Object.values(summed));
    throw error;
  }
  return { losses, grads: summed ?? {} };
}

function microBatchGradients<Batch>(
  task: TrainingTask<Batch>,
  phase: UpdatePhase<Batch>,
  indices: Int32Array,
  context: StepContext,
  variables: tf.Variable[],
): { value: number; grads: Record<string, tf.Tensor> } {
  const batch = task.batch(indices, context);
  try {
    const { value, grads } = tf.variableGrads(() => phase.loss(batch, context), variables);
    const loss = value.dataSync()[0];
    value.dispose();
    return { value: loss, grads };
  } finally {
    task.disposeBatch(batch);
  }
}
