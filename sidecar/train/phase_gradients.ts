// The gradients of one update phase over a step's micro-batches, on this thread: for each micro-batch in
// order, the batch, the loss and its gradients with respect to the phase's variables, summed. The training
// loop uses it for a step on one worker, and every data-parallel worker for its rows of a step (./data_parallel/),
// so that the two compute a shard the same way. The loss is read asynchronously: the webgpu backend has no
// synchronous read under Node, and on wasm and cpu the awaited read returns the same values at once.
import * as tf from '@tensorflow/tfjs';
import { batchShapes, throwIfDeviceFailed } from '../runtime/gpu_memory_errors';
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
  /** The shapes of the last micro-batch's tensors, for a GPU failure found after the batch is gone. */
  shapes: string;
}

export async function phaseGradients<Batch>(
  task: TrainingTask<Batch>,
  phase: UpdatePhase<Batch>,
  variables: tf.Variable[],
  microBatches: readonly MicroBatch[],
): Promise<PhaseGradients> {
  const losses: number[] = [];
  let shapes = 'none';
  let summed: Record<string, tf.Tensor> | null = null;
  try {
    for (const { indices, context } of microBatches) {
      const { value, grads, shapes: batch } = await microBatchGradients(task, phase, indices, context, variables);
      losses.push(value);
      shapes = batch;
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
  return { losses, grads: summed ?? {}, shapes };
}

async function microBatchGradients<Batch>(
  task: TrainingTask<Batch>,
  phase: UpdatePhase<Batch>,
  indices: Int32Array,
  context: StepContext,
  variables: tf.Variable[],
): Promise<{ value: number; grads: Record<string, tf.Tensor>; shapes: string }> {
  const batch = task.batch(indices, context);
  try {
    const { value, grads } = tf.variableGrads(() => phase.loss(batch, context), variables);
    try {
      const loss = (await value.data())[0];
      // On webgpu a buffer Dawn could not allocate throws nothing and reads as zeros; its error event has
      // arrived by the end of the awaited read, and such a step must fail before it reaches the weights.
      throwIfDeviceFailed(context.step + 1, batch, indices.length);
      return { value: loss, grads, shapes: batchShapes(batch) };
    } catch (error) {
      tf.dispose(Object.values(grads));
      throw error;
    } finally {
      value.dispose();
    }
  } finally {
    task.disposeBatch(batch);
  }
}
