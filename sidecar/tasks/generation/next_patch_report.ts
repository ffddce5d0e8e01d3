// The next-patch evaluation as a person reads it (l3m evaluate, the run's log, bench/quickstart_generation):
// one table of MSE and CRPS for the model's samples and point forecasts beside the two baselines, and
// the verdict whether the model beats both baselines like for like (see next_patch_evaluation.ts on
// why a sample's MSE is not compared with a point forecast's).
import type { MseSummary, NextPatchEvaluation, ScoreSummary } from './next_patch_evaluation';

export interface NextPatchVerdict {
  /** The model's point forecasts: the τ = 0 mean forecast, and the mean of the samples (≥ 2 samples per patch). */
  pointForecasts: { name: 'mean forecast' | 'ensemble mean'; mse: number }[];
  /** Every point forecast's MSE below both baselines' MSE (all of them, so that none is picked for being better). */
  pointBeatsBoth: boolean;
  /** Sample CRPS below both baselines' CRPS (their MAE); null with 1 sample per patch. */
  crpsBeatsBoth: boolean | null;
  /** Sample MSE below both baselines (a sample scores 2·Var(x | past), so this can fail for a perfect model). */
  samplesBeatBoth: boolean;
  /**
   * Sample MSE / (2 · mean-forecast MSE): about 1 when the samples spread as the data do around their
   * mean, below 1 when they are too narrow, above when too wide.
   */
  spreadRatio: number;
}

export function nextPatchVerdict(evaluation: NextPatchEvaluation): NextPatchVerdict {
  const { previousSlice, meanPatch } = evaluation.baselines;
  const below = (value: number) => value < previousSlice.mse && value < meanPatch.mse;
  const pointForecasts: NextPatchVerdict['pointForecasts'] = [
    { name: 'mean forecast', mse: evaluation.conditionalMean.mse },
  ];
  if (evaluation.ensembleMean) pointForecasts.push({ name: 'ensemble mean', mse: evaluation.ensembleMean.mse });
  const crps = evaluation.crps.model;
  return {
    pointForecasts,
    pointBeatsBoth: pointForecasts.every((p) => below(p.mse)),
    crpsBeatsBoth: crps
      ? crps.mean < evaluation.crps.previousSlice.mean && crps.mean < evaluation.crps.meanPatch.mean
      : null,
    samplesBeatBoth: below(evaluation.model.mse),
    spreadRatio: evaluation.model.mse / (2 * evaluation.conditionalMean.mse),
  };
}

/** The table: one row per forecast, MSE and CRPS with their standard errors over windows. */
export function nextPatchTable(evaluation: NextPatchEvaluation): string {
  const number = (value: number) => value.toFixed(4).padStart(8);
  const cell = (s: MseSummary | ScoreSummary | null | undefined) =>
    s ? `${number('mse' in s ? s.mse : s.mean)} ± ${s.sem.toFixed(4)}` : `${'—'.padStart(8)}         `;
  const row = (name: string, mse: MseSummary | null, crps: ScoreSummary | null | undefined) =>
    `  ${name.padEnd(26)} ${cell(mse)}   ${cell(crps)}`;
  const m = evaluation.samplesPerPatch;
  return [
    `Next-patch scores on ${evaluation.windows} test windows (${evaluation.lightcones.length} lightcones, ${evaluation.patchesPerWindow} patches each; ` +
      `${m} sample${m === 1 ? '' : 's'}/patch, ${evaluation.solver} × ${evaluation.steps}):`,
    `  ${''.padEnd(26)} ${'MSE'.padStart(8)}          ${'CRPS'.padStart(8)}`,
    row('model, one sample', evaluation.model, evaluation.crps.model),
    row(`model, mean of ${m} samples`, evaluation.ensembleMean, undefined),
    row('model, mean forecast τ=0', evaluation.conditionalMean, undefined),
    row('previous slice (baseline)', evaluation.baselines.previousSlice, evaluation.crps.previousSlice),
    row('mean patch (baseline)', evaluation.baselines.meanPatch, evaluation.crps.meanPatch),
    "  CRPS of a point forecast is its mean absolute error; a sample's MSE is 2·Var(x | past) even for a perfect model.",
    `  Model − previous slice, paired over windows: mean-forecast MSE ${signed(evaluation.versusPreviousSlice.meanForecastMse)}` +
      (evaluation.versusPreviousSlice.ensembleMeanMse
        ? `, ensemble-mean MSE ${signed(evaluation.versusPreviousSlice.ensembleMeanMse)}`
        : '') +
      (evaluation.versusPreviousSlice.crps ? `, CRPS ${signed(evaluation.versusPreviousSlice.crps)}` : ''),
    `  Sample spread: sample MSE / (2 · mean-forecast MSE) = ${nextPatchVerdict(evaluation).spreadRatio.toFixed(2)} (1 when the samples spread as the data do; below 1: too narrow).`,
  ].join('\n');
}

function signed(s: ScoreSummary): string {
  return `${s.mean >= 0 ? '+' : '−'}${Math.abs(s.mean).toFixed(4)} ± ${s.sem.toFixed(4)}`;
}

/** One line for the run's log. */
export function nextPatchSummaryLine(evaluation: NextPatchEvaluation): string {
  const verdict = nextPatchVerdict(evaluation);
  const { previousSlice, meanPatch } = evaluation.baselines;
  const points = verdict.pointForecasts.map((p) => `${p.name} ${p.mse.toFixed(4)}`).join(', ');
  const crps = evaluation.crps.model
    ? `; CRPS ${evaluation.crps.model.mean.toFixed(4)} (baselines ${evaluation.crps.previousSlice.mean.toFixed(4)}, ${evaluation.crps.meanPatch.mean.toFixed(4)})`
    : '';
  return (
    `Test next-patch MSE: samples ${evaluation.model.mse.toFixed(4)} ± ${evaluation.model.sem.toFixed(4)}, ${points}; ` +
    `baselines previous slice ${previousSlice.mse.toFixed(4)}, mean patch ${meanPatch.mse.toFixed(4)}${crps}. ` +
    `Point forecasts ${verdict.pointBeatsBoth ? 'beat' : 'do not beat'} both baselines.`
  );
}
