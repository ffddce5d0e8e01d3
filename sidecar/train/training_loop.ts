// The training loop shared by every task (nanoGPT-style: short, with named helpers). Each step takes
// the next batch of the epoch's seeded order, runs every update phase of the task (compute the loss and
// gradients of the phase's variables, check the loss is finite, clip, apply AdamW at the scheduled
// rate), yields to the event loop so a cancel request is seen within one step, and periodically logs,
// validates (tracking the best checkpoint and early stopping) and checkpoints. Everything random is a
// function of (seed, epoch, step), so a run resumed from a checkpoint continues with exactly the
// numbers an uninterrupted run would have produced.
import * as tf from '@tensorflow/tfjs';
import type { ProgressParams } from '../protocol/messages';
import type { MetricRecord } from '../protocol/run_folder';
import type { Qwen2Config } from '../model/qwen2_config';
import { AdamOptimizer } from './adam_optimizer';
import { clipByGlobalNorm } from './clip_grad_norm';
import { epochOrder, opSeed } from './seeded_random';
import type { TrainingTask } from './training_task';
import { phaseGradients, type MicroBatch, type PhaseGradients } from './phase_gradients';
import type { GradientPool } from './data_parallel/gradient_pool';
import { wsdFactor, type WsdPhases } from './wsd_schedule';
import {
  bestCheckpointName,
  listStepCheckpoints,
  readTrainerCheckpoint,
  rotateCheckpoints,
  stepCheckpointName,
  writeTrainerCheckpoint,
  type TrainerState,
} from './trainer_checkpoints';
import { readCheckpointMetadata } from '../checkpoint/checkpoint';
import { checkResumable } from './resume_checks';
import { throwIfDeviceFailed } from '../runtime/gpu_memory_errors';

export interface LoopSettings {
  lr: number;
  optimizer: { kind: 'adam' | 'adamw'; beta1: number; beta2: number; epsilon: number };
  batchSize: number;
  accumulation: number;
  stepsPerEpoch: number;
  totalSteps: number;
  schedule: WsdPhases;
  /** ≤ 0 disables clipping. */
  maxGradNorm: number;
  seed: number;
  multiplicity: number;
  /** Steps between validations (0 = only at the end). */
  validateEvery: number;
  /** Steps between checkpoints (0 = only at the end). */
  checkpointEvery: number;
  keepCheckpoints: number;
  earlyStopping: { enabled: boolean; patience: number; minDelta: number };
  /** Steps between train metric records. */
  logEvery: number;
}

/** The loop's progress: the protocol's progress message less what the run driver adds. */
export type LoopProgress = Omit<ProgressParams, 'runDir' | 'phase'>;

export interface LoopIO {
  signal: AbortSignal;
  checkpointDir: string;
  /** Stored in every checkpoint's metadata (the architecture, docs/conventions.md#checkpoint-config). */
  backboneConfig: Qwen2Config;
  checkpointExtra?: Record<string, unknown>;
  metrics(records: MetricRecord[]): Promise<void>;
  /**
   * Called once before the first step with the step training starts from (0 for a fresh start): drops
   * the metric records a previous process wrote after it, which this one writes again.
   */
  rewindMetrics?(step: number): Promise<void>;
  progress(progress: LoopProgress): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /**
   * Data-parallel workers that share each step (./data_parallel/); without them this thread computes the
   * whole batch. The pool's task must be the one the loop trains.
   */
  workers?: GradientPool;
}

export type LoopOutcome = 'completed' | 'early_stopped' | 'cancelled';

export interface LoopResult {
  outcome: LoopOutcome;
  state: TrainerState;
}

/**
 * A non-finite loss: the run fails at once with the step and the last finite loss, rather than
 * training on and ending with weights that are all NaN.
 */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly phase: string,
    readonly value: string,
    readonly lastFiniteLoss: number | null,
  ) {
    super(
      `Loss became ${value} at step ${step} (phase "${phase}"); the last finite loss was ${lastFiniteLoss ?? 'none (the first step already failed)'}. ` +
        'Lower training.lr, enable clipping (training.max_grad_norm), or check the data for NaNs; the run can be resumed from its last checkpoint.',
    );
    this.name = 'NonFiniteLossError';
  }
}

/** Steps per epoch as the reference computes it: ⌊N·multiplicity / (batch·accumulation)⌋ (drop_last). */
export function stepsPerEpochFor(
  trainSize: number,
  multiplicity: number,
  batchSize: number,
  accumulation: number,
): number {
  const steps = Math.floor((trainSize * multiplicity) / (batchSize * accumulation));
  if (steps < 1) {
    throw new Error(
      `The training split has ${trainSize} examples (×${multiplicity}), fewer than one step of ${batchSize}×${accumulation}; ` +
        'lower training.batch_size or use more data.',
    );
  }
  return steps;
}

export async function runLoop<Batch>(
  task: TrainingTask<Batch>,
  settings: LoopSettings,
  io: LoopIO,
): Promise<LoopResult> {
  const optimizers = task.phases.map((phase) => ({
    phase: phase.name,
    optimizer: new AdamOptimizer(phase.groups, settings.optimizer),
  }));
  const weights = task.namedWeights();
  let state: TrainerState = {
    step: 0,
    bestLoss: null,
    bestStep: null,
    evaluationsWithoutImprovement: 0,
    wallTime: 0,
    lastFiniteLoss: null,
  };
  try {
    const resumeFrom = listStepCheckpoints(io.checkpointDir).pop();
    if (resumeFrom !== undefined) {
      const name = stepCheckpointName(resumeFrom);
      checkResumable(io.checkpointDir, name, readCheckpointMetadata(io.checkpointDir, name), {
        stepInName: resumeFrom,
        totalSteps: settings.totalSteps,
        backboneConfig: io.backboneConfig,
        extra: io.checkpointExtra ?? {},
        phases: optimizers.map((o) => o.phase),
      });
      state = readTrainerCheckpoint(io.checkpointDir, name, { weights, optimizers });
      io.log('info', `Resuming from checkpoint ${name} (step ${state.step} of ${settings.totalSteps}).`);
    }
    // Only now that the checkpoint is known to be usable: a refused resume leaves the metrics as they were.
    await io.rewindMetrics?.(state.step);
    const sessionStart = performance.now();
    const sessionStartStep = state.step;
    const wallTimeBefore = state.wallTime;
    const elapsed = () => wallTimeBefore + (performance.now() - sessionStart) / 1000;
    // The shapes of the last step's batch, for a GPU failure that shows only when a checkpoint reads the weights.
    let lastShapes = 'none';
    // A GPU device's failure in the last step's update, or in a validation since, shows once the checkpoint
    // has read every tensor: it is checked then, before the checkpoint replaces the previous one.
    const save = (name: string) =>
      writeTrainerCheckpoint(
        io.checkpointDir,
        name,
        {
          weights,
          optimizers,
          state: { ...state, wallTime: elapsed(), lastValidatedStep },
          config: io.backboneConfig,
          extra: io.checkpointExtra,
        },
        () => throwIfDeviceFailed(state.step, lastShapes, settings.batchSize),
      );
    const epochOf = (step: number) => step / settings.stepsPerEpoch;
    let lastSavedStep = resumeFrom ?? -1;
    // A validation at the checkpoint's step happened before the checkpoint was written; repeating it
    // would write its metrics twice.
    let lastValidatedStep = state.lastValidatedStep ?? -1;
    let lastProgress = 0;
    let pending: MetricRecord[] = [];
    // The metrics of every step up to a checkpoint are written before the checkpoint, so that a resume
    // from it finds them all (and rewinds whatever came after).
    const flushMetrics = async () => {
      if (pending.length === 0) return;
      const records = pending;
      pending = [];
      await io.metrics(records);
    };

    const checkpointNow = async () => {
      await save(stepCheckpointName(state.step));
      lastSavedStep = state.step;
      rotateCheckpoints(io.checkpointDir, settings.keepCheckpoints);
    };
    const validateNow = async (): Promise<boolean> => {
      const result = await task.validate();
      // A validation batch the GPU could not hold reads as zeros (webgpu): the loss it gives must not make a
      // best checkpoint. The validation's reads have let the device's errors arrive.
      throwIfDeviceFailed(state.step, result.batch?.shapes ?? 'none', result.batch?.rows ?? null, 'validation');
      lastValidatedStep = state.step;
      pending.push({
        step: state.step,
        epoch: epochOf(state.step),
        wall_time: elapsed(),
        split: 'val',
        loss: result.loss,
        ...result.metrics,
      });
      const improved =
        Number.isFinite(result.loss) &&
        (state.bestLoss === null || result.loss < state.bestLoss - settings.earlyStopping.minDelta);
      if (improved) {
        state = { ...state, bestLoss: result.loss, bestStep: state.step, evaluationsWithoutImprovement: 0 };
        await save(bestCheckpointName);
      } else {
        state = { ...state, evaluationsWithoutImprovement: state.evaluationsWithoutImprovement + 1 };
      }
      return settings.earlyStopping.enabled && state.evaluationsWithoutImprovement >= settings.earlyStopping.patience;
    };

    let outcome: LoopOutcome = 'completed';
    if (
      resumeFrom !== undefined &&
      settings.earlyStopping.enabled &&
      state.evaluationsWithoutImprovement >= settings.earlyStopping.patience
    ) {
      // The run had stopped early when this checkpoint was written; the process ended before run.json said so.
      outcome = 'early_stopped';
      io.log(
        'info',
        `The run had stopped early at step ${state.step} (no improvement in ${state.evaluationsWithoutImprovement} evaluations); finishing it without further steps.`,
      );
    }
    let order: { epoch: number; indices: Int32Array } | null = null;
    while (outcome === 'completed' && state.step < settings.totalSteps) {
      if (io.signal.aborted) {
        outcome = 'cancelled';
        break;
      }
      const step = state.step;
      const lr = settings.lr * wsdFactor(step, settings.schedule);
      const epoch = Math.floor(step / settings.stepsPerEpoch);
      if (order === null || order.epoch !== epoch)
        order = { epoch, indices: epochOrder(settings.seed, epoch, task.trainSize, settings.multiplicity) };
      // A task that reads its data from disk starts reading the next step's examples while this one computes.
      const next = task.prefetch && nextStepIndices(settings, step + 1, order, task.trainSize);
      if (next) task.prefetch!(next);
      const losses = await trainStep(task, optimizers, settings, { step, lr, order: order.indices }, io.workers);
      const lossValues = [...losses.values()];
      lastShapes = lossValues[lossValues.length - 1]?.shapes ?? lastShapes;
      const firstBad = [...losses].find(([, loss]) => !Number.isFinite(loss.value) || !Number.isFinite(loss.gradNorm));
      if (firstBad) {
        const [phase, { value, gradNorm }] = firstBad;
        throw new NonFiniteLossError(
          step + 1,
          phase,
          Number.isFinite(value) ? `finite (${value}) but its gradient norm is ${gradNorm}` : String(value),
          state.lastFiniteLoss,
        );
      }
      state = { ...state, step: step + 1, lastFiniteLoss: lossValues[0].value };

      const stepsPerSecond =
        (state.step - sessionStartStep) / Math.max(1e-9, (performance.now() - sessionStart) / 1000);
      if (state.step % settings.logEvery === 0 || state.step === settings.totalSteps) {
        const record: MetricRecord = {
          step: state.step,
          epoch: epochOf(state.step),
          wall_time: elapsed(),
          split: 'train',
          loss: lossValues[0].value,
          lr,
          steps_per_s: stepsPerSecond,
        };
        for (const [phase, loss] of losses) {
          record[`grad_norm_${phase}`] = loss.gradNorm;
          if (phase !== task.phases[0].name) record[`loss_${phase}`] = loss.value;
        }
        pending.push(record);
      }
      const now = performance.now();
      if (now - lastProgress > 200 || state.step === settings.totalSteps) {
        lastProgress = now;
        io.progress({
          step: state.step,
          totalSteps: settings.totalSteps,
          epoch: epochOf(state.step),
          loss: lossValues[0].value,
          lr,
          stepsPerSecond,
          etaSeconds: stepsPerSecond > 0 ? (settings.totalSteps - state.step) / stepsPerSecond : null,
        });
      }
      let stopEarly = false;
      if (settings.validateEvery > 0 && state.step % settings.validateEvery === 0 && state.step < settings.totalSteps)
        stopEarly = await validateNow();
      await flushMetrics();
      // The last step's checkpoint is written after the final validation below, so that it records it
      // (and the best loss it may bring): a resume from it then has nothing left to repeat.
      if (
        settings.checkpointEvery > 0 &&
        state.step % settings.checkpointEvery === 0 &&
        state.step < settings.totalSteps
      )
        await checkpointNow();
      if (stopEarly) {
        io.log(
          'info',
          `Early stopping at step ${state.step}: no improvement of the validation loss in ${state.evaluationsWithoutImprovement} evaluations (best ${state.bestLoss} at step ${state.bestStep}).`,
        );
        outcome = 'early_stopped';
        break;
      }
      // Yield once per step so that a cancel request (RPC or SIGINT) is handled before the next step.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (outcome === 'completed' && lastValidatedStep !== state.step) {
      // The last validation happens at the end (the reference evaluates after training if it did not just do so).
      await validateNow();
    }
    await flushMetrics();
    if (lastSavedStep !== state.step) await checkpointNow();
    state = { ...state, wallTime: elapsed() };
    return { outcome, state };
  } finally {
    for (const { optimizer } of optimizers) optimizer.dispose();
  }
}

interface PhaseLoss {
  value: number;
  gradNorm: number;
  /** The shapes of the phase's last micro-batch, for a GPU failure found later. */
  shapes: string;
}

/** The training-example indices of step `step` (all its micro-batches), or null past the last step. */
function nextStepIndices(
  settings: LoopSettings,
  step: number,
  current: { epoch: number; indices: Int32Array },
  trainSize: number,
): Int32Array | null {
  if (step >= settings.totalSteps) return null;
  const epoch = Math.floor(step / settings.stepsPerEpoch);
  const order =
    epoch === current.epoch ? current.indices : epochOrder(settings.seed, epoch, trainSize, settings.multiplicity);
  const perStep = settings.batchSize * settings.accumulation;
  const offset = (step % settings.stepsPerEpoch) * perStep;
  return order.subarray(offset, offset + perStep);
}

/**
 * One optimizer step: for each phase in order, the mean loss and gradients over the accumulation
 * micro-batches (on this thread, or shared by data-parallel workers), clipping, and the update. Later phases
 * see the weights earlier phases just updated (the interleaved update recomputes the forward pass after the
 * connector step, as the reference). `order` is the epoch's seeded visiting order (a function of seed and
 * epoch only, so resume-safe).
 */
export async function trainStep<Batch>(
  task: TrainingTask<Batch>,
  optimizers: { phase: string; optimizer: AdamOptimizer }[],
  settings: Pick<LoopSettings, 'batchSize' | 'accumulation' | 'stepsPerEpoch' | 'seed' | 'maxGradNorm'>,
  at: { step: number; lr: number; order: Int32Array },
  workers?: GradientPool,
): Promise<Map<string, PhaseLoss>> {
  const { step, lr, order } = at;
  const perStep = settings.batchSize * settings.accumulation;
  const offset = (step % settings.stepsPerEpoch) * perStep;
  const losses = new Map<string, PhaseLoss>();
  for (let phaseIndex = 0; phaseIndex < task.phases.length; phaseIndex++) {
    const phase = task.phases[phaseIndex];
    const optimizer = optimizers[phaseIndex].optimizer;
    const variables = optimizer.updatedVariables();
    if (variables.length === 0) continue;
    const microBatches: MicroBatch[] = Array.from({ length: settings.accumulation }, (_, micro) => ({
      indices: order.subarray(offset + micro * settings.batchSize, offset + (micro + 1) * settings.batchSize),
      context: { step, seed: opSeed(settings.seed, step, phaseIndex * 4096 + micro) },
    }));
    const computed: PhaseGradients = workers
      ? await workers.phaseGradients(phaseIndex, variables, microBatches)
      : await phaseGradients(task, phase, variables, microBatches);
    let lossSum = 0;
    for (const value of computed.losses) lossSum += value;
    const accumulated = computed.grads;
    const mean =
      settings.accumulation === 1
        ? accumulated
        : Object.fromEntries(Object.entries(accumulated).map(([name, g]) => [name, tf.div(g, settings.accumulation)]));
    if (mean !== accumulated) tf.dispose(Object.values(accumulated));
    const loss = lossSum / settings.accumulation;
    let clipped: Awaited<ReturnType<typeof clipByGlobalNorm>>;
    try {
      clipped = await clipByGlobalNorm(mean, settings.maxGradNorm);
    } finally {
      tf.dispose(Object.values(mean));
    }
    const { gradients, norm } = clipped;
    try {
      // The norm's read has let the device report the accumulation and the clipping (webgpu reads zeros
      // from a buffer it could not allocate and throws nothing): a failure stops here, before the update.
      throwIfDeviceFailed(step + 1, computed.shapes, settings.batchSize);
    } catch (error) {
      tf.dispose(Object.values(gradients));
      throw error;
    }
    losses.set(phase.name, { value: loss, gradNorm: norm, shapes: computed.shapes });
    // A non-finite loss or gradient must not reach the weights: the rest of the step is skipped and
    // the caller fails the run, so the last checkpoint and the weights stay as they were.
    const finite = Number.isFinite(loss) && Number.isFinite(norm);
    if (finite) {
      optimizer.apply(gradients, lr);
      workers?.updated(variables);
    }
    tf.dispose(Object.values(gradients));
    if (!finite) break;
  }
  return losses;
}
