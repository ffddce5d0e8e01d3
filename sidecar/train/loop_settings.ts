// Converts a resolved config's `training` and `evaluation` sections into the loop's step counts. Lengths
// given in epochs become steps the way the reference does (epochs × steps per epoch); the schedule's
// stable phase, when null, fills whatever warm-up and decay leave of the run.
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { stepsPerEpochFor, type LoopSettings } from './training_loop';
import { phasesFromSteps } from './wsd_schedule';

/** Train metric records per run at most; longer runs log every ⌈steps / this⌉ steps. */
const maxTrainRecords = 2000;

export function loopSettingsFor(config: ResolvedExperimentConfig, trainSize: number): LoopSettings {
  const t = config.training;
  const stepsPerEpoch = stepsPerEpochFor(
    trainSize,
    t.train_ds_multiplicity,
    t.batch_size,
    t.gradient_accumulation_steps,
  );
  const toSteps = (amount: number) => Math.round(t.unit === 'epochs' ? amount * stepsPerEpoch : amount);
  const totalSteps = t.unit === 'epochs' ? toSteps(t.epochs) : t.steps;
  if (!(totalSteps >= 1)) throw new Error(`training.${t.unit} gives ${totalSteps} steps; train for at least one step.`);
  const warmup = toSteps(t.schedule.warmup);
  const decay = toSteps(t.schedule.decay);
  let schedule = phasesFromSteps({ warmup, decay, total: totalSteps });
  if (t.schedule.stable !== null) {
    // An explicit stable length ends the decay early; the rate is 0 after it (no restart).
    const stable = toSteps(t.schedule.stable);
    schedule = { warmup, stable: Math.min(stable, totalSteps - warmup - decay), decay };
  }
  return {
    lr: t.lr,
    optimizer: { kind: t.optimizer, beta1: t.betas[0], beta2: t.betas[1], epsilon: t.eps },
    batchSize: t.batch_size,
    accumulation: t.gradient_accumulation_steps,
    stepsPerEpoch,
    totalSteps,
    schedule,
    maxGradNorm: t.max_grad_norm,
    seed: t.seed,
    multiplicity: t.train_ds_multiplicity,
    validateEvery: Math.max(0, toSteps(config.evaluation.every)),
    checkpointEvery: Math.max(0, toSteps(t.checkpoint_every)),
    keepCheckpoints: t.keep_checkpoints,
    earlyStopping: {
      enabled: t.early_stopping.enabled,
      patience: t.early_stopping.patience,
      minDelta: t.early_stopping.min_delta,
    },
    logEvery: Math.max(1, Math.ceil(totalSteps / maxTrainRecords)),
  };
}
