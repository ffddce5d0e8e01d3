// Next-patch evaluation (paper Table 4; reference `evaluate_next_patch_l2`,
// docs/paper-mapping.md#next-patch-evaluation): teacher-forced, each patch of the non-context slices of
// a test window is sampled with the CFM ODE given the true preceding patches (one forward pass per
// window), and compared with the true patch by the mean squared error over its pixels, averaged over
// `samples` draws. Beside it, two baselines that need no model, so that a user can see whether the
// model learned anything:
//   previous slice — the patch at the same position in the previous (true) slice: the lightcone
//                    changes slowly along time, so this is a strong baseline;
//   mean patch     — the per-pixel mean of every training patch.
// MSEs are in the transformed (training) space, as the reference's. The spread is the standard
// deviation over windows of the per-window MSE, with the standard error of the mean.
//
// A sample is a draw from the model's conditional distribution, so even a perfect model has a sample
// MSE of 2·Var(x | past) (the truth and the sample are independent draws), while the baselines are
// point predictions with MSE Var(x | past) + bias². When slices change little and unpredictably from
// one to the next (the simulator's thin slices), the previous slice can therefore beat every
// stochastic sampler in sample MSE. So the evaluation also compares like with like, as probabilistic
// weather forecasts are scored (e.g. GenCast: ensemble-mean RMSE and CRPS):
//   ensemble mean  — the MSE of the mean of the samples drawn for a patch (≥ 2 samples), a point
//                    forecast that tends to Var(x | past) as the samples grow;
//   mean forecast  — the model's conditional mean from one velocity evaluation at τ = 0
//                    (GenerationModel.meanForecast), the same point forecast without the ODE solves;
//   CRPS           — the continuous ranked probability score per pixel, a proper score of the whole
//                    predictive distribution, with the unbiased ("fair") ensemble estimator
//                    mean|Xᵢ − y| − Σᵢ<ⱼ|Xᵢ − Xⱼ| / (m(m − 1)) (Ferro 2014; ≥ 2 samples). For a point
//                    forecast the CRPS is its absolute error, so the baselines' CRPS is their MAE.
import * as tf from '@tensorflow/tfjs';
import { hashSeed } from '../../train/seeded_random';
import type { GenerationData } from './generation_data';
import { evaluationWindows, windowBatch } from './generation_data';
import type { GenerationModel } from './generation_model';
import { batchTensors } from './generation_task';
import type { OdeOptions } from './ode_solvers';

export interface MseSummary {
  mse: number;
  /** Standard deviation over windows of the per-window MSE. */
  std: number;
  /** Standard error of the mean. */
  sem: number;
}

/** The same summary of a score other than the MSE (CRPS, MAE). */
export interface ScoreSummary {
  mean: number;
  std: number;
  sem: number;
}

export interface NextPatchEvaluation {
  kind: 'next_patch';
  /** Sample MSE (the reference's metric): each patch drawn with the ODE. */
  model: MseSummary;
  /** MSE of the mean of the samples of each patch; null with 1 sample per patch. */
  ensembleMean: MseSummary | null;
  /** MSE of the model's point forecast, the conditional mean from τ = 0 (see the header). */
  conditionalMean: MseSummary;
  baselines: { previousSlice: MseSummary; meanPatch: MseSummary };
  /** CRPS per pixel: the model's samples (null with 1 sample per patch) and the baselines' (their MAE). */
  crps: { model: ScoreSummary | null; previousSlice: ScoreSummary; meanPatch: ScoreSummary };
  /**
   * Model minus the previous-slice baseline, per window on the same windows (a paired comparison, whose
   * spread is far smaller than either score's): the point forecasts' MSE and the samples' CRPS (null
   * with 1 sample per patch). Negative: the model is better.
   */
  versusPreviousSlice: {
    meanForecastMse: ScoreSummary;
    ensembleMeanMse: ScoreSummary | null;
    crps: ScoreSummary | null;
  };
  /** Model sample MSE per patch position within a slice (rows·cols, row-major). */
  perPosition: number[];
  windows: number;
  patchesPerWindow: number;
  samplesPerPatch: number;
  lightcones: string[];
  solver: string;
  steps: number;
}

export interface NextPatchOptions {
  /** Test lightcones used (−1 = all). */
  lightcones: number;
  samples: number;
  batchSize: number;
  ode: Omit<OdeOptions, 't0' | 't1'>;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

function summary(values: readonly number[]): MseSummary {
  const { mean, std, sem } = scoreSummary(values);
  return { mse: mean, std, sem };
}

function scoreSummary(values: readonly number[]): ScoreSummary {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, sem: std / Math.sqrt(n) };
}

/**
 * The fair (unbiased) ensemble CRPS of draws X₁…Xₘ against y: mean|Xᵢ − y| − Σᵢ<ⱼ|Xᵢ − Xⱼ| / (m(m − 1))
 * (Ferro 2014); with one draw, its absolute error. Hand-written: a few lines, no library scores tensors.
 */
export function fairCrps(draws: ArrayLike<number>, y: number): number {
  const m = draws.length;
  let absolute = 0;
  let spread = 0;
  for (let i = 0; i < m; i++) {
    absolute += Math.abs(draws[i] - y);
    for (let j = i + 1; j < m; j++) spread += Math.abs(draws[i] - draws[j]);
  }
  return m > 1 ? absolute / m - spread / (m * (m - 1)) : absolute;
}

/** Per-window means of per-patch scores (windows × patchesPerWindow, window-major). */
function windowMeans(scores: Float64Array, windows: number, patchesPerWindow: number): number[] {
  return Array.from({ length: windows }, (_, b) => {
    let sum = 0;
    for (let k = 0; k < patchesPerWindow; k++) sum += scores[b * patchesPerWindow + k];
    return sum / patchesPerWindow;
  });
}

export async function evaluateNextPatch(
  model: GenerationModel,
  data: GenerationData,
  options: NextPatchOptions,
): Promise<NextPatchEvaluation> {
  const cones = data.test.cones;
  const windows = evaluationWindows(
    cones,
    { length: data.windowLength, context: data.contextSlices, stride: data.stride },
    options.lightcones,
  );
  if (windows.length === 0) {
    throw new Error(
      `Next-patch evaluation: the test split has no window of ${data.windowLength} slices (${cones.length} test lightcones); raise data.splits.test_fraction or shorten data.sublightcone.length.`,
    );
  }
  if (!Number.isInteger(options.samples) || options.samples < 1)
    throw new Error(`evaluation.cfm_samples_per_patch must be an integer ≥ 1, got ${options.samples}.`);
  const m = options.samples;
  const p2 = data.patchSize * data.patchSize;
  const perSlice = data.rows * data.cols;
  const scored = data.windowLength - data.contextSlices;
  const patchesPerWindow = scored * perSlice;
  const meanDraws = 4;
  // Per-window scores, in window order.
  const scores = {
    sample: [] as number[],
    ensemble: [] as number[],
    mean: [] as number[],
    crps: [] as number[],
    previousMse: [] as number[],
    previousMae: [] as number[],
    meanPatchMse: [] as number[],
    meanPatchMae: [] as number[],
  };
  const perPosition = new Float64Array(perSlice);
  const size = Math.max(1, options.batchSize);
  for (let start = 0; start < windows.length; start += size) {
    if (options.signal?.aborted) throw new Error('Evaluation was cancelled.');
    const chunk = windows.slice(start, start + size);
    const batch = windowBatch(cones, chunk, data.windowLength, data.patchSize);
    const inputs = batchTensors(batch, data);
    const patchCount = chunk.length * patchesPerWindow;
    const samples: Float32Array[] = [];
    let meanForecast: Float32Array;
    try {
      const cond = tf.tidy(() =>
        model.conditions(
          model.predictingHidden(model.hidden(inputs, { training: false }), data.windowLength, data.contextSlices),
          model.previousPatches(inputs.patches, data.contextSlices),
        ),
      );
      try {
        for (let s = 0; s < m; s++) {
          const noise = tf.randomNormal<tf.Rank.R2>(
            [patchCount, p2],
            0,
            1,
            'float32',
            hashSeed(options.seed, start, s) & 0x7fffffff,
          );
          let sampled: tf.Tensor2D;
          try {
            sampled = await model.samplePatches(cond, noise, options.ode);
          } finally {
            noise.dispose();
          }
          // Every read is awaited: the webgpu backend has no synchronous read under Node.
          try {
            samples.push((await sampled.data()) as Float32Array);
          } finally {
            sampled.dispose();
          }
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const forecast = tf.tidy(() =>
          model.meanForecast(
            cond,
            Array.from({ length: meanDraws }, (_, j) =>
              tf.randomNormal<tf.Rank.R2>(
                [patchCount, p2],
                0,
                1,
                'float32',
                hashSeed(options.seed, start, 0x3ea, j) & 0x7fffffff,
              ),
            ),
          ),
        );
        try {
          meanForecast = (await forecast.data()) as Float32Array;
        } finally {
          forecast.dispose();
        }
      } finally {
        cond.dispose();
      }
    } finally {
      tf.dispose([inputs.patches, inputs.params, inputs.timeSteps]);
    }
    // Per-patch scores (pixel means), patches ordered window, slice, position as the samples.
    const per = {
      sample: new Float64Array(patchCount),
      ensemble: new Float64Array(patchCount),
      mean: new Float64Array(patchCount),
      crps: new Float64Array(patchCount),
      previousMse: new Float64Array(patchCount),
      previousMae: new Float64Array(patchCount),
      meanPatchMse: new Float64Array(patchCount),
      meanPatchMae: new Float64Array(patchCount),
    };
    const perWindow = data.windowLength * perSlice * p2;
    const draws = new Float64Array(m);
    for (let i = 0; i < patchCount; i++) {
      const b = Math.floor(i / patchesPerWindow);
      const k = i % patchesPerWindow;
      const at = b * perWindow + ((data.contextSlices + Math.floor(k / perSlice)) * perSlice + (k % perSlice)) * p2;
      const before = at - perSlice * p2;
      let sample = 0,
        ensemble = 0,
        mean = 0,
        crps = 0;
      let previousMse = 0,
        previousMae = 0,
        meanPatchMse = 0,
        meanPatchMae = 0;
      for (let j = 0; j < p2; j++) {
        const y = batch.patches[at + j];
        let sum = 0;
        for (let s = 0; s < m; s++) {
          const x = samples[s][i * p2 + j];
          draws[s] = x;
          sum += x;
          sample += (x - y) ** 2;
        }
        ensemble += (sum / m - y) ** 2;
        crps += fairCrps(draws, y);
        mean += (meanForecast[i * p2 + j] - y) ** 2;
        const dp = y - batch.patches[before + j];
        previousMse += dp * dp;
        previousMae += Math.abs(dp);
        const dm = y - data.meanPatch[j];
        meanPatchMse += dm * dm;
        meanPatchMae += Math.abs(dm);
      }
      per.sample[i] = sample / (m * p2);
      per.ensemble[i] = ensemble / p2;
      per.mean[i] = mean / p2;
      per.crps[i] = crps / p2;
      per.previousMse[i] = previousMse / p2;
      per.previousMae[i] = previousMae / p2;
      per.meanPatchMse[i] = meanPatchMse / p2;
      per.meanPatchMae[i] = meanPatchMae / p2;
      perPosition[k % perSlice] += per.sample[i];
    }
    for (const key of Object.keys(scores) as (keyof typeof scores)[])
      scores[key].push(...windowMeans(per[key], chunk.length, patchesPerWindow));
    options.onProgress?.(Math.min(windows.length, start + size), windows.length);
  }
  const usedCones = [...new Set(windows.map((w) => w.cone))];
  return {
    kind: 'next_patch',
    model: summary(scores.sample),
    ensembleMean: m > 1 ? summary(scores.ensemble) : null,
    conditionalMean: summary(scores.mean),
    baselines: { previousSlice: summary(scores.previousMse), meanPatch: summary(scores.meanPatchMse) },
    crps: {
      model: m > 1 ? scoreSummary(scores.crps) : null,
      previousSlice: scoreSummary(scores.previousMae),
      meanPatch: scoreSummary(scores.meanPatchMae),
    },
    versusPreviousSlice: {
      meanForecastMse: scoreSummary(scores.mean.map((v, i) => v - scores.previousMse[i])),
      ensembleMeanMse: m > 1 ? scoreSummary(scores.ensemble.map((v, i) => v - scores.previousMse[i])) : null,
      crps: m > 1 ? scoreSummary(scores.crps.map((v, i) => v - scores.previousMae[i])) : null,
    },
    perPosition: Array.from(perPosition, (v) => v / (windows.length * scored)),
    windows: windows.length,
    patchesPerWindow,
    samplesPerPatch: m,
    lightcones: usedCones.map((c) => data.test.ids[c]),
    solver: options.ode.solver,
    steps: options.ode.steps,
  };
}

/** The test metrics for metrics.jsonl. */
export function nextPatchMetrics(evaluation: NextPatchEvaluation): Record<string, number> {
  return {
    next_patch_mse: evaluation.model.mse,
    next_patch_mse_std: evaluation.model.std,
    next_patch_mean_forecast_mse: evaluation.conditionalMean.mse,
    ...(evaluation.ensembleMean ? { next_patch_ensemble_mean_mse: evaluation.ensembleMean.mse } : {}),
    ...(evaluation.crps.model ? { next_patch_crps: evaluation.crps.model.mean } : {}),
    baseline_previous_slice_mse: evaluation.baselines.previousSlice.mse,
    baseline_mean_patch_mse: evaluation.baselines.meanPatch.mse,
    baseline_previous_slice_crps: evaluation.crps.previousSlice.mean,
    baseline_mean_patch_crps: evaluation.crps.meanPatch.mean,
  };
}
