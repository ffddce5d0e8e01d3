// The Fig. 6 evaluation on hand-made predictions: binning by the true value, clamping of the draws,
// R² and interval coverage per parameter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRegression, regressionMetrics } from '../../sidecar/tasks/regression/regression_evaluation';

/** A diagonal precision factor with marginal std `sigma` for every parameter. */
function choleskyFor(sigma: number): number[] {
  return Array.from({ length: 36 }, (_, e) => (Math.floor(e / 6) === e % 6 ? 1 / sigma : 0));
}

test('exact means with small spread: R² 1, full coverage, bins by truth, draws clamped to [0, 1]', () => {
  const truths = [0.05, 0.15, 0.55, 0.95, 1.0];
  const n = truths.length;
  const truth = Float32Array.from({ length: n * 6 }, (_, k) => truths[Math.floor(k / 6)]);
  const result = evaluateRegression(
    {
      mean: truth.slice(),
      truth,
      nll: new Float32Array(n).fill(-2),
      cholesky: Float32Array.from(Array.from({ length: n }, () => choleskyFor(0.01)).flat()),
      ids: truths.map((_, i) => `c${i}`),
    },
    { samples: 200, bins: 10, seed: 1 },
  );
  assert.equal(result.nll, -2);
  for (const p of result.parameters) {
    assert.equal(p.r2, 1);
    assert.equal(p.coverage95, 1);
    assert.ok(Math.abs(p.meanSigma - 0.01) < 1e-6);
    assert.deepEqual(
      p.bins.map((b) => b.count),
      [1, 1, 0, 0, 0, 1, 0, 0, 0, 2],
    );
    assert.equal(p.bins[2].mean, null);
    // The top bin holds truths 0.95 and 1.0: draws around 1.0 are clamped, so the mean stays ≤ 1.
    assert.ok(p.bins[9].mean! <= 1 && p.bins[9].mean! > 0.95);
    assert.ok(Math.abs(p.bins[0].mean! - 0.05) < 0.005);
  }
  const metrics = regressionMetrics(result);
  assert.equal(metrics.r2_zeta, 1);
  assert.equal(metrics.coverage68_mWDM, result.parameters[0].coverage68);
});

test('means at the average: R² 0; a 1σ-wide miss is inside 95% but outside 68%', () => {
  const truthValues = [0.2, 0.4, 0.6, 0.8];
  const truth = Float32Array.from({ length: 24 }, (_, k) => truthValues[Math.floor(k / 6)]);
  const mean = new Float32Array(24).fill(0.5);
  // σ = 0.15: misses of 0.3 are outside 1σ and 2σ (0.3 = 2σ counts as inside), misses of 0.1 inside both.
  const result = evaluateRegression(
    {
      mean,
      truth,
      nll: new Float32Array(4),
      cholesky: Float32Array.from(Array.from({ length: 4 }, () => choleskyFor(0.15)).flat()),
      ids: ['a', 'b', 'c', 'd'],
    },
    { samples: 10, bins: 5, seed: 2 },
  );
  for (const p of result.parameters) {
    assert.ok(Math.abs(p.r2) < 1e-6);
    assert.equal(p.coverage68, 0.5);
    assert.ok(p.coverage95 >= 0.5);
  }
  assert.throws(
    () =>
      evaluateRegression(
        {
          mean: new Float32Array(0),
          truth: new Float32Array(0),
          nll: new Float32Array(0),
          cholesky: new Float32Array(0),
          ids: [],
        },
        { samples: 1, bins: 1, seed: 0 },
      ),
    /test split is empty/,
  );
});
