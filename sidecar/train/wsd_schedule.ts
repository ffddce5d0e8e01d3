// The warm-up → stable → decay ("WSD") learning-rate schedule of the paper's Tables 2-3 and of the
// reference code's src/utils/scheduler.py `get_wsd_schedule`: a linear ramp 0 → 1 over the warm-up,
// a constant 1, then a cosine 1 → 0 over the decay. The reference takes `current_step % total`,
// which restarts the schedule when a run goes past its planned length (docs/paper-mapping.md#diff-wsd-restart); we
// do not: past the end the factor stays at 0, so an extra step never jumps back to a high rate.

export interface WsdPhases {
  /** Steps of linear warm-up. */
  warmup: number;
  /** Steps at the full rate. */
  stable: number;
  /** Steps of cosine decay to zero. */
  decay: number;
}

/**
 * The multiplier of the base learning rate at optimizer step `step` (0-based: the factor used for
 * the first update is wsdFactor(0)). As in the reference's LambdaLR, warm-up reaches 1 after
 * `warmup` steps: step s < warmup gives s / warmup, so the very first update has rate 0.
 */
export function wsdFactor(step: number, phases: WsdPhases): number {
  checkPhases(phases);
  if (!Number.isInteger(step) || step < 0) throw new Error(`Schedule step must be an integer ≥ 0, got ${step}.`);
  const { warmup, stable, decay } = phases;
  if (step < warmup) return step / warmup;
  if (step < warmup + stable) return 1;
  if (step < warmup + stable + decay) {
    const progress = (step - warmup - stable) / decay;
    return 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  return decay > 0 ? 0 : 1;
}

/**
 * Converts a schedule given in epochs (the reference's warmup_epochs / decay_epochs) into steps,
 * with the stable phase filling the rest of the run, exactly as the reference multiplies epochs by
 * steps per epoch.
 */
export function phasesFromEpochs(options: {
  warmupEpochs: number;
  decayEpochs: number;
  totalEpochs: number;
  stepsPerEpoch: number;
}): WsdPhases {
  const { warmupEpochs, decayEpochs, totalEpochs, stepsPerEpoch } = options;
  const warmup = Math.round(warmupEpochs * stepsPerEpoch);
  const decay = Math.round(decayEpochs * stepsPerEpoch);
  const total = Math.round(totalEpochs * stepsPerEpoch);
  return phasesFromSteps({ warmup, decay, total });
}

/** A schedule from step counts; `stable` is whatever remains of `total`. */
export function phasesFromSteps(options: { warmup: number; decay: number; total: number }): WsdPhases {
  const { warmup, decay, total } = options;
  if (warmup + decay > total) {
    throw new Error(
      `Learning-rate schedule: warm-up (${warmup} steps) plus decay (${decay} steps) exceed the run length (${total} steps); shorten them or train longer.`,
    );
  }
  const phases = { warmup, stable: total - warmup - decay, decay };
  checkPhases(phases);
  return phases;
}

function checkPhases(phases: WsdPhases): void {
  for (const key of ['warmup', 'stable', 'decay'] as const) {
    const value = phases[key];
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`Learning-rate schedule: ${key} must be a whole number of steps ≥ 0, got ${value}.`);
  }
}
