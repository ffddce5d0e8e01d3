// What a checkpoint must agree with before a run resumes from it. The loop trusts the trainer's counters
// it reads back (a step past the end finishes the run at once, as "completed") and builds nothing from
// the recorded architecture (the model comes from the run's config), so a checkpoint that was edited,
// damaged, or copied from another run would otherwise be used without a word. Each check names the
// checkpoint, the recorded value, the expected one, and what to do.
import { join } from 'node:path';
import type { CheckpointMetadata } from '../checkpoint/checkpoint';
import type { Qwen2Config } from '../model/qwen2_config';
import type { TrainerState } from './trainer_checkpoints';

export interface ResumeExpectations {
  /** The step the checkpoint's name says (step-<8 digits>). */
  stepInName: number;
  totalSteps: number;
  /** The architecture this run builds from its config. */
  backboneConfig: Qwen2Config;
  /** What this run would record beside the trainer state (task, finetune mode, patch grid, ...). */
  extra: Record<string, unknown>;
  /** The update phases this run trains (one optimizer each). */
  phases: readonly string[];
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isFiniteOrNull = (value: unknown) => value === null || (typeof value === 'number' && Number.isFinite(value));

/**
 * The differences between the checkpoint's recorded backbone and this run's, one "key: checkpoint X,
 * this run Y" each; empty when they agree.
 */
export function architectureDifferences(recorded: Partial<Qwen2Config>, expected: Qwen2Config): string[] {
  // Read as plain records: a checkpoint's config may hold keys that Qwen2Config does not name.
  const recordedFields: Record<string, unknown> = { ...recorded };
  const expectedFields: Record<string, unknown> = { ...expected };
  const keys = new Set([...Object.keys(expectedFields), ...Object.keys(recordedFields)]);
  return [...keys]
    .filter((key) => JSON.stringify(recordedFields[key]) !== JSON.stringify(expectedFields[key]))
    .map(
      (key) =>
        `${key}: checkpoint ${JSON.stringify(recordedFields[key]) ?? 'absent'}, this run ${JSON.stringify(expectedFields[key]) ?? 'absent'}`,
    );
}

/** Throws when the checkpoint `name` in `dir` must not be resumed from this run; returns its trainer state. */
export function checkResumable(
  dir: string,
  name: string,
  metadata: CheckpointMetadata,
  expected: ResumeExpectations,
): TrainerState {
  const where = `Checkpoint ${join(dir, `${name}.json`)}`;
  const refuse = (problem: string, fix: string) => new Error(`${where} ${problem}. ${fix}`);
  const notThisRun =
    'It does not belong to this run or was damaged; delete it to resume from the checkpoint before it, or start a new run.';
  const extra = metadata.extra as
    { trainer?: Partial<TrainerState>; optimizerSteps?: Record<string, unknown> } | undefined;
  const trainer = extra?.trainer;
  if (!trainer || typeof trainer !== 'object' || !extra?.optimizerSteps || typeof extra.optimizerSteps !== 'object') {
    throw refuse(
      'has no trainer state (extra.trainer and extra.optimizerSteps)',
      'It was not written by the training engine; delete it to resume from the checkpoint before it.',
    );
  }
  if (!isCount(trainer.step))
    throw refuse(
      `records trainer step ${JSON.stringify(trainer.step)}; expected an integer from 0 to ${expected.totalSteps}`,
      notThisRun,
    );
  if (trainer.step !== metadata.step || trainer.step !== expected.stepInName) {
    throw refuse(
      `records trainer step ${trainer.step} and step ${metadata.step}, but its name says step ${expected.stepInName}; the three must agree`,
      notThisRun,
    );
  }
  if (trainer.step > expected.totalSteps) {
    throw refuse(
      `is at step ${trainer.step}, past the ${expected.totalSteps} steps this run trains (training.steps or epochs in its config.json)`,
      "Raise the run's training length in config.json to at least that step, or start a new run.",
    );
  }
  const bestStep = trainer.bestStep;
  if (
    !(bestStep === null || (isCount(bestStep) && bestStep <= trainer.step)) ||
    !isFiniteOrNull(trainer.bestLoss) ||
    (bestStep === null) !== (trainer.bestLoss === null)
  ) {
    throw refuse(
      `records best loss ${JSON.stringify(trainer.bestLoss)} at step ${JSON.stringify(bestStep)}; expected both null, or a finite loss at a step ≤ ${trainer.step}`,
      notThisRun,
    );
  }
  if (!isCount(trainer.evaluationsWithoutImprovement)) {
    throw refuse(
      `records ${JSON.stringify(trainer.evaluationsWithoutImprovement)} evaluations without improvement; expected an integer ≥ 0`,
      notThisRun,
    );
  }
  if (typeof trainer.wallTime !== 'number' || !Number.isFinite(trainer.wallTime) || trainer.wallTime < 0) {
    throw refuse(`records wall time ${JSON.stringify(trainer.wallTime)} s; expected a finite number ≥ 0`, notThisRun);
  }
  if (!isFiniteOrNull(trainer.lastFiniteLoss ?? null))
    throw refuse(`records last finite loss ${JSON.stringify(trainer.lastFiniteLoss)}`, notThisRun);
  const validated = trainer.lastValidatedStep;
  if (validated !== undefined && !(validated === -1 || (isCount(validated) && validated <= trainer.step))) {
    throw refuse(
      `records last validation at step ${JSON.stringify(validated)}; expected -1 (none) or an integer from 0 to ${trainer.step}`,
      notThisRun,
    );
  }
  for (const phase of expected.phases) {
    const steps = extra.optimizerSteps[phase];
    if (steps === undefined) continue; // Named by readTrainerCheckpoint, which knows the training setup.
    if (!isCount(steps) || steps > trainer.step) {
      throw refuse(
        `records ${JSON.stringify(steps)} optimizer steps for phase "${phase}"; expected an integer from 0 to the trainer step ${trainer.step}`,
        notThisRun,
      );
    }
  }
  const differences = architectureDifferences(metadata.config, expected.backboneConfig);
  if (differences.length > 0) {
    throw refuse(
      `records another backbone architecture than this run's config builds (${differences.join('; ')})`,
      'Resume with the config the run was started with (its config.json, backbone section), or start a new run.',
    );
  }
  const recordedExtra = metadata.extra;
  for (const [key, value] of Object.entries(expected.extra)) {
    // Strings and integers (task, finetune mode, patch grid) identify the setup; measured numbers and objects may legitimately differ in their last bits.
    if (!(typeof value === 'string' || Number.isSafeInteger(value)) || !(key in recordedExtra)) continue;
    if (recordedExtra[key] !== value) {
      throw refuse(
        `records ${key} ${JSON.stringify(recordedExtra[key])}, but this run has ${key} ${JSON.stringify(value)}`,
        'Resume with the config the run was started with (its config.json), or start a new run.',
      );
    }
  }
  // Each field as checked above; lastFiniteLoss absent (older checkpoints) reads as none.
  return {
    ...trainer,
    step: trainer.step,
    bestLoss: trainer.bestLoss ?? null,
    bestStep: bestStep ?? null,
    evaluationsWithoutImprovement: trainer.evaluationsWithoutImprovement,
    wallTime: trainer.wallTime,
    lastFiniteLoss: trainer.lastFiniteLoss ?? null,
  };
}
