// Checkpoints of a training run: the task's trainable variables, every optimizer's moments and the
// trainer's own counters, written with the checkpoint module (one atomic unit each) into
// <runDir>/checkpoints/. Names: `step-<8 digits>` every `checkpoint_every` and at cancel/end, and
// `best` for the lowest validation loss. Rotation keeps the newest `keep` step checkpoints; `best`
// is never rotated away. A failed write throws and leaves every earlier checkpoint intact, since a
// checkpoint switches to its new files in one rename and old ones are deleted only after that.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assignNamedWeights, deleteCheckpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint';
import type { Qwen2Config } from '../model/qwen2_config';
import type { AdamOptimizer } from './adam_optimizer';
import { listStepCheckpoints, stepCheckpointName } from '../runs/checkpoint_names';
import { errorReason } from '../protocol/error_message';

export { bestCheckpointName, listStepCheckpoints, stepCheckpointName } from '../runs/checkpoint_names';

/** The trainer's counters, stored in the checkpoint metadata so that resume continues exactly. */
export interface TrainerState {
  /** Optimizer steps completed. */
  step: number;
  bestLoss: number | null;
  bestStep: number | null;
  evaluationsWithoutImprovement: number;
  /** Seconds of training before this checkpoint (wall_time continues across resumes). */
  wallTime: number;
  /** Last finite training loss, for the NaN message after a resume. */
  lastFiniteLoss: number | null;
  /** The step of the last validation (-1: none yet); absent in checkpoints written before it was recorded. */
  lastValidatedStep?: number;
}

export interface CheckpointContents {
  weights: [string, tf.Variable][];
  optimizers: { phase: string; optimizer: AdamOptimizer }[];
  state: TrainerState;
  config: Qwen2Config;
  extra?: Record<string, unknown>;
}

/**
 * Saves a checkpoint; throws an error naming the file and the reason when writing fails. `beforeCommit`
 * runs once every tensor has been read, before the new checkpoint replaces the old one of this name: the
 * training loop checks the GPU device there, and its error is thrown as it is.
 */
export async function writeTrainerCheckpoint(
  dir: string,
  name: string,
  contents: CheckpointContents,
  beforeCommit?: () => void,
): Promise<void> {
  const keyOf = new Map(contents.weights.map(([key, variable]) => [variable.name, key]));
  const optimizerTensors: [string, tf.Tensor][] = [];
  const optimizerSteps: Record<string, number> = {};
  try {
    for (const { phase, optimizer } of contents.optimizers) {
      const state = optimizer.getState();
      optimizerSteps[phase] = state.step;
      for (const [slot, tensor] of state.tensors) {
        const variableName = slot.replace(/\/[mv]$/, '');
        const key = keyOf.get(variableName);
        if (key === undefined)
          throw new Error(
            `optimizer of phase "${phase}" updates variable ${variableName}, which the task does not list among its checkpointed weights`,
          );
        optimizerTensors.push([`${phase}:${key}${slot.slice(variableName.length)}`, tensor]);
      }
    }
    await saveCheckpoint({
      dir,
      name,
      config: contents.config,
      step: contents.state.step,
      weights: contents.weights,
      optimizerState: optimizerTensors,
      extra: { ...contents.extra, trainer: contents.state, optimizerSteps },
      beforeCommit: () => {
        try {
          beforeCommit?.();
        } catch (error) {
          throw new CommitRefused(error);
        }
      },
    });
  } catch (error) {
    if (error instanceof CommitRefused) throw error.reason;
    const reason = errorReason(error);
    throw new Error(
      `Could not write checkpoint "${name}" in ${dir}: ${reason}. Earlier checkpoints are intact; free disk space or fix the folder's permissions, then resume the run.`,
      { cause: error },
    );
  } finally {
    tf.dispose(optimizerTensors.map(([, t]) => t));
  }
}

/** What beforeCommit threw, kept apart from a failed write so that it reaches the caller unchanged. */
class CommitRefused extends Error {
  constructor(readonly reason: unknown) {
    super('the checkpoint was not committed');
  }
}

/** Restores weights, optimizer moments and trainer counters; returns the trainer state. */
export function readTrainerCheckpoint(
  dir: string,
  name: string,
  contents: Omit<CheckpointContents, 'state' | 'config'>,
): TrainerState {
  const loaded = loadCheckpoint(dir, name);
  try {
    assignNamedWeights(contents.weights, loaded.weights, join(dir, loaded.metadata.weightsFile));
    const extra = loaded.metadata.extra as { trainer?: TrainerState; optimizerSteps?: Record<string, number> };
    if (!extra.trainer || !extra.optimizerSteps)
      throw new Error(`Checkpoint ${join(dir, name)} has no trainer state; it was not written by the training engine.`);
    const variableOf = new Map(contents.weights.map(([key, variable]) => [key, variable]));
    for (const { phase, optimizer } of contents.optimizers) {
      const tensors = new Map<string, tf.Tensor>();
      for (const [slotKey, tensor] of loaded.optimizerState) {
        if (!slotKey.startsWith(`${phase}:`)) continue;
        const rest = slotKey.slice(phase.length + 1);
        const key = rest.replace(/\/[mv]$/, '');
        const variable = variableOf.get(key);
        if (!variable)
          throw new Error(
            `Checkpoint optimizer slot "${slotKey}" names no weight of this model; the checkpoint belongs to another configuration.`,
          );
        tensors.set(`${variable.name}${rest.slice(key.length)}`, tensor);
      }
      const step = extra.optimizerSteps[phase];
      if (step === undefined)
        throw new Error(
          `Checkpoint ${join(dir, name)} has no optimizer state for phase "${phase}"; it was written with another training setup (training.interleaved changed?).`,
        );
      optimizer.setState({ step, tensors });
    }
    return extra.trainer;
  } finally {
    tf.dispose([...loaded.weights.values(), ...loaded.optimizerState.values()]);
  }
}

/** Assigns only the weights of a checkpoint (e.g. the best one before the test evaluation). */
export function readCheckpointWeights(dir: string, name: string, weights: [string, tf.Variable][]): void {
  const loaded = loadCheckpoint(dir, name);
  try {
    assignNamedWeights(weights, loaded.weights, join(dir, loaded.metadata.weightsFile));
  } finally {
    tf.dispose([...loaded.weights.values(), ...loaded.optimizerState.values()]);
  }
}

/** Deletes step checkpoints beyond the newest `keep` (the JSON first, so no half checkpoint looks complete). */
export function rotateCheckpoints(dir: string, keep: number): void {
  const steps = listStepCheckpoints(dir);
  for (const step of steps.slice(0, Math.max(0, steps.length - Math.max(1, keep))))
    deleteCheckpoint(dir, stepCheckpointName(step));
}
