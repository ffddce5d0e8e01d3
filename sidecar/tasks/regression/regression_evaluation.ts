// The regression evaluation of the paper's Fig. 6 (reference regression/evaluation.py,
// docs/paper-mapping.md#regression-evaluation): for each test lightcone, `samples` draws from the
// predicted Gaussian N(μ, P⁻¹), clamped to [0, 1], binned by the TRUE value of each parameter into `bins`
// equal bins of [0, 1]; per bin the mean and standard deviation of the draws and the mean |draw − truth|
// (the ratio panel). Also, per parameter: R² of the predicted mean, and the calibration: the fraction of
// test lightcones whose true value lies in the central 68.27% and 95.45% intervals of the predicted
// marginal (μ ± 1σ, μ ± 2σ). A calibrated head gives ≈ 0.68 and ≈ 0.95. The result is written as
// eval/regression.json for the panels.
import { parameterInfo, parameterNames } from '../../data/parameters';
import { hashSeed, mulberry32 } from '../../train/seeded_random';
import { covarianceFromPrecisionCholesky, normalSampler, samplePrecisionGaussian } from './precision_gaussian';
import { paramCount } from './gaussian_head';

export interface RegressionPredictions {
  /** (N, 6) predicted means, normalised. */
  mean: Float32Array;
  /** (N, 6, 6) Cholesky factors of the precision. */
  cholesky: Float32Array;
  /** (N, 6) true values, normalised. */
  truth: Float32Array;
  /** (N,) full NLL in nats. */
  nll: Float32Array;
  /** Lightcone ids, in the same order. */
  ids: string[];
  /** The first (full-size) evaluation batch: its tensors' shapes and rows (for a GPU failure's message). */
  batch?: { shapes: string; rows: number };
}

export interface RegressionBin {
  /** Bin range of the true value, normalised. */
  lo: number;
  hi: number;
  /** Number of test lightcones in the bin. */
  count: number;
  /** Mean and std of the clamped draws of those lightcones (normalised), null when empty. */
  mean: number | null;
  std: number | null;
  /** Mean |draw − truth| in normalised units (= relative to the prior range, the reference's ratio panel). */
  meanAbsError: number | null;
}

export interface ParameterEvaluation {
  name: string;
  label: string;
  unit: string;
  /** Prior bounds, to turn normalised values back into physical units. */
  min: number;
  max: number;
  r2: number;
  coverage68: number;
  coverage95: number;
  /** Mean of the predicted marginal standard deviations (normalised). */
  meanSigma: number;
  bins: RegressionBin[];
}

export interface RegressionEvaluation {
  kind: 'regression';
  formatVersion: 1;
  testLightcones: number;
  samplesPerLightcone: number;
  /** Mean full NLL per lightcone (nats); the uniform prior on the unit cube scores 0. */
  nll: number;
  parameters: ParameterEvaluation[];
  /** Per test lightcone: id, truth, mean, marginal sigma (normalised), for scatter plots. */
  points: { id: string; truth: number[]; mean: number[]; sigma: number[] }[];
}

export function evaluateRegression(
  predictions: RegressionPredictions,
  options: { samples: number; bins: number; seed: number },
): RegressionEvaluation {
  const n = predictions.ids.length;
  const d = paramCount;
  if (n === 0)
    throw new Error(
      'Regression evaluation: the test split is empty; set data.splits.test_fraction above 0 or use more lightcones.',
    );
  if (!(Number.isInteger(options.bins) && options.bins >= 1))
    throw new Error(`evaluation.regression_bins must be an integer ≥ 1, got ${options.bins}.`);
  const normal = normalSampler(mulberry32(hashSeed(options.seed, 0xe7a1)));
  const sigmas = new Float64Array(n * d);
  const binSums = Array.from({ length: d }, () =>
    Array.from({ length: options.bins }, () => ({ count: 0, draws: 0, sum: 0, sumSq: 0, absErr: 0 })),
  );
  const points: RegressionEvaluation['points'] = [];
  for (let i = 0; i < n; i++) {
    const mean = predictions.mean.subarray(i * d, (i + 1) * d);
    const lower = predictions.cholesky.subarray(i * d * d, (i + 1) * d * d);
    const truth = predictions.truth.subarray(i * d, (i + 1) * d);
    const covariance = covarianceFromPrecisionCholesky(lower, d);
    for (let p = 0; p < d; p++) sigmas[i * d + p] = Math.sqrt(covariance[p * d + p]);
    const draws = samplePrecisionGaussian(mean, lower, options.samples, normal);
    for (let p = 0; p < d; p++) {
      const bin = Math.min(options.bins - 1, Math.max(0, Math.floor(truth[p] * options.bins)));
      const acc = binSums[p][bin];
      acc.count += 1;
      for (let s = 0; s < options.samples; s++) {
        const value = Math.min(1, Math.max(0, draws[s * d + p]));
        acc.draws += 1;
        acc.sum += value;
        acc.sumSq += value * value;
        acc.absErr += Math.abs(value - truth[p]);
      }
    }
    points.push({
      id: predictions.ids[i],
      truth: Array.from(truth),
      mean: Array.from(mean),
      sigma: Array.from(sigmas.subarray(i * d, (i + 1) * d)),
    });
  }
  const parameters = parameterNames.map((name, p): ParameterEvaluation => {
    let truthMean = 0;
    for (let i = 0; i < n; i++) truthMean += predictions.truth[i * d + p] / n;
    let residual = 0;
    let total = 0;
    let in68 = 0;
    let in95 = 0;
    let sigmaSum = 0;
    for (let i = 0; i < n; i++) {
      const y = predictions.truth[i * d + p];
      const error = y - predictions.mean[i * d + p];
      residual += error * error;
      total += (y - truthMean) ** 2;
      const sigma = sigmas[i * d + p];
      sigmaSum += sigma;
      if (Math.abs(error) <= sigma) in68 += 1;
      if (Math.abs(error) <= 2 * sigma) in95 += 1;
    }
    const info = parameterInfo[name];
    return {
      name,
      label: info.label,
      unit: info.unit,
      min: info.min,
      max: info.max,
      // R² is undefined when every test truth is equal; report NaN (null in JSON) rather than a made-up number.
      r2: total > 0 ? 1 - residual / total : NaN,
      coverage68: in68 / n,
      coverage95: in95 / n,
      meanSigma: sigmaSum / n,
      bins: binSums[p].map((acc, b) => {
        const mean = acc.draws > 0 ? acc.sum / acc.draws : null;
        return {
          lo: b / options.bins,
          hi: (b + 1) / options.bins,
          count: acc.count,
          mean,
          std: mean !== null ? Math.sqrt(Math.max(0, acc.sumSq / acc.draws - mean * mean)) : null,
          meanAbsError: acc.draws > 0 ? acc.absErr / acc.draws : null,
        };
      }),
    };
  });
  let nll = 0;
  for (let i = 0; i < n; i++) nll += predictions.nll[i] / n;
  return {
    kind: 'regression',
    formatVersion: 1,
    testLightcones: n,
    samplesPerLightcone: options.samples,
    nll,
    parameters,
    points,
  };
}

/** The evaluation as metric values for metrics.jsonl (split 'test'): nll, r2_<param>, coverage68_<param>, coverage95_<param>. */
export function regressionMetrics(evaluation: RegressionEvaluation): Record<string, number> {
  const metrics: Record<string, number> = { nll: evaluation.nll };
  for (const p of evaluation.parameters) {
    metrics[`r2_${p.name}`] = p.r2;
    metrics[`coverage68_${p.name}`] = p.coverage68;
    metrics[`coverage95_${p.name}`] = p.coverage95;
  }
  return metrics;
}
