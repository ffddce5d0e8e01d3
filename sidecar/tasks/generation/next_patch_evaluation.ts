// Next-patch evaluation (paper Table 4; reference `evaluate_next_patch_l2`, L3M-REFERENCE.md §7.2):
// teacher-forced, each patch of the non-context slices of a test window is sampled with the CFM ODE
// given the true preceding patches (one forward pass per window), and compared with the true patch by
// the mean squared error over its pixels, averaged over `samples` draws. Beside it, two baselines that
// need no model, so that a user can see whether the model learned anything:
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
// stochastic sampler in sample MSE. So that model and baselines can also be compared like for like,
// the evaluation reports the model's point forecast too: the conditional mean E[x₁ | past], which
// for linear paths the velocity field gives in one evaluation at τ = 0 — there x_τ = ε is independent
// of x₁, so the optimal field is v(ε, 0) = E[x₁ | past] − ε and ε + v(ε, 0) estimates the mean for any ε
// (averaged over `meanDraws` draws to wash out the learned field's imperfections).
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

export interface NextPatchEvaluation {
  kind: 'next_patch';
  /** Sample MSE (the reference's metric): each patch drawn with the ODE. */
  model: MseSummary;
  /** MSE of the model's point forecast ε + v(ε, 0), the conditional mean (see the header). */
  conditionalMean: MseSummary;
  baselines: { previousSlice: MseSummary; meanPatch: MseSummary };
  /** Model MSE per patch position within a slice (rows·cols, row-major). */
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
  const n = values.length;
  const mse = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mse) ** 2, 0) / (n - 1)) : 0;
  return { mse, std, sem: std / Math.sqrt(n) };
}

export async function evaluateNextPatch(model: GenerationModel, data: GenerationData, options: NextPatchOptions): Promise<NextPatchEvaluation> {
  const cones = data.test.cones;
  const windows = evaluationWindows(cones, { length: data.windowLength, context: data.contextSlices, stride: data.stride }, options.lightcones);
  if (windows.length === 0) {
    throw new Error(`Next-patch evaluation: the test split has no window of ${data.windowLength} slices (${cones.length} test lightcones); raise data.splits.test_fraction or shorten data.sublightcone.length.`);
  }
  if (!Number.isInteger(options.samples) || options.samples < 1) throw new Error(`evaluation.cfm_samples_per_patch must be an integer ≥ 1, got ${options.samples}.`);
  const p2 = data.patchSize * data.patchSize;
  const perSlice = data.rows * data.cols;
  const scored = data.windowLength - data.contextSlices;
  const patchesPerWindow = scored * perSlice;
  const modelMse: number[] = [];
  const conditionalMeanMse: number[] = [];
  const meanDraws = 4;
  const previousMse: number[] = [];
  const meanMse: number[] = [];
  const perPosition = new Float64Array(perSlice);
  const size = Math.max(1, options.batchSize);
  for (let start = 0; start < windows.length; start += size) {
    if (options.signal?.aborted) throw new Error('Evaluation was cancelled.');
    const chunk = windows.slice(start, start + size);
    const batch = windowBatch(cones, chunk, data.windowLength, data.patchSize);
    const inputs = batchTensors(batch, data);
    const squaredErrors = new Float64Array(chunk.length * patchesPerWindow); // per patch, averaged over samples
    const meanErrors = new Float64Array(chunk.length * patchesPerWindow); // per patch, of the conditional-mean forecast
    try {
      const cond = tf.tidy(() => model.conditions(model.predictingHidden(model.hidden(inputs, { training: false }), data.windowLength, data.contextSlices)));
      const truth = tf.tidy(() => tf.reshape(tf.slice(inputs.patches, [0, data.contextSlices, 0, 0], [chunk.length, scored, perSlice, p2]), [-1, p2]));
      for (let s = 0; s < options.samples; s++) {
        const errors = tf.tidy(() => {
          const noise = tf.randomNormal([truth.shape[0], p2], 0, 1, 'float32', hashSeed(options.seed, start, s) & 0x7fffffff) as tf.Tensor2D;
          const sampled = model.samplePatches(cond, noise, options.ode);
          return tf.mean(tf.square(tf.sub(sampled, truth)), 1);
        });
        const values = errors.dataSync();
        for (let i = 0; i < values.length; i++) squaredErrors[i] += values[i] / options.samples;
        errors.dispose();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const meanError = tf.tidy(() => {
        let sum: tf.Tensor = tf.zerosLike(truth);
        for (let j = 0; j < meanDraws; j++) {
          const noise = tf.randomNormal([truth.shape[0], p2], 0, 1, 'float32', hashSeed(options.seed, start, 0x3ea, j) & 0x7fffffff);
          sum = tf.add(sum, tf.add(noise, model.cnn.apply(noise, 0, cond)));
        }
        return tf.mean(tf.square(tf.sub(tf.div(sum, meanDraws), truth)), 1);
      });
      meanErrors.set(meanError.dataSync());
      tf.dispose([cond, truth, meanError]);
    } finally {
      tf.dispose([inputs.patches, inputs.params, inputs.timeSteps]);
    }
    const perWindow = data.windowLength * perSlice * p2;
    for (let b = 0; b < chunk.length; b++) {
      let modelSum = 0;
      let conditionalMeanSum = 0;
      let previousSum = 0;
      let meanSum = 0;
      for (let k = 0; k < patchesPerWindow; k++) {
        const error = squaredErrors[b * patchesPerWindow + k];
        modelSum += error;
        conditionalMeanSum += meanErrors[b * patchesPerWindow + k];
        perPosition[k % perSlice] += error;
        const slice = data.contextSlices + Math.floor(k / perSlice);
        const at = b * perWindow + (slice * perSlice + (k % perSlice)) * p2;
        const before = at - perSlice * p2;
        let previous = 0;
        let mean = 0;
        for (let j = 0; j < p2; j++) {
          const value = batch.patches[at + j];
          previous += (value - batch.patches[before + j]) ** 2;
          mean += (value - data.meanPatch[j]) ** 2;
        }
        previousSum += previous / p2;
        meanSum += mean / p2;
      }
      modelMse.push(modelSum / patchesPerWindow);
      conditionalMeanMse.push(conditionalMeanSum / patchesPerWindow);
      previousMse.push(previousSum / patchesPerWindow);
      meanMse.push(meanSum / patchesPerWindow);
    }
    options.onProgress?.(Math.min(windows.length, start + size), windows.length);
  }
  const usedCones = [...new Set(windows.map((w) => w.cone))];
  return {
    kind: 'next_patch',
    model: summary(modelMse),
    conditionalMean: summary(conditionalMeanMse),
    baselines: { previousSlice: summary(previousMse), meanPatch: summary(meanMse) },
    perPosition: Array.from(perPosition, (v) => v / (windows.length * scored)),
    windows: windows.length,
    patchesPerWindow,
    samplesPerPatch: options.samples,
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
    baseline_previous_slice_mse: evaluation.baselines.previousSlice.mse,
    baseline_mean_patch_mse: evaluation.baselines.meanPatch.mse,
  };
}
