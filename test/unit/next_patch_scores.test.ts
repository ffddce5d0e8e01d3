// The scores of the next-patch evaluation: the fair ensemble CRPS by hand and against the closed form
// for a Gaussian forecast, and the verdict that compares like with like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fairCrps, type NextPatchEvaluation } from '../../sidecar/tasks/generation/next_patch_evaluation';
import { nextPatchTable, nextPatchVerdict } from '../../sidecar/tasks/generation/next_patch_report';
import { mulberry32 } from '../../sidecar/train/seeded_random';

test('fair CRPS by hand: one draw is the absolute error; the spread term is subtracted', () => {
  assert.equal(fairCrps([3], 1), 2);
  assert.equal(fairCrps([1, 3], 2), 0); // (1 + 1)/2 − |1 − 3|/2
  assert.ok(Math.abs(fairCrps([0, 1, 4], 1) - ((1 + 0 + 3) / 3 - (1 + 4 + 3) / 6)) < 1e-12);
});

test('fair CRPS of a perfect Gaussian forecast is σ/√π for any ensemble size; a point forecast at the mean scores σ·√(2/π)', () => {
  const random = mulberry32(7);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const sigma = 0.5;
  const trials = 40000;
  for (const m of [2, 4]) {
    let sum = 0;
    let point = 0;
    const draws = new Float64Array(m);
    for (let t = 0; t < trials; t++) {
      const y = sigma * normal();
      for (let i = 0; i < m; i++) draws[i] = sigma * normal();
      sum += fairCrps(draws, y);
      point += fairCrps([0], y);
    }
    assert.ok(
      Math.abs(sum / trials - sigma / Math.sqrt(Math.PI)) < 0.006,
      `m = ${m}: ${sum / trials} vs ${sigma / Math.sqrt(Math.PI)}`,
    );
    assert.ok(Math.abs(point / trials - sigma * Math.sqrt(2 / Math.PI)) < 0.006);
  }
});

function evaluation(sample: number, ensemble: number | null, mean: number, crps: number | null): NextPatchEvaluation {
  const s = (mse: number) => ({ mse, std: 0, sem: 0 });
  const c = (value: number) => ({ mean: value, std: 0, sem: 0 });
  return {
    kind: 'next_patch',
    model: s(sample),
    ensembleMean: ensemble === null ? null : s(ensemble),
    conditionalMean: s(mean),
    baselines: { previousSlice: s(0.08), meanPatch: s(1.3) },
    crps: { model: crps === null ? null : c(crps), previousSlice: c(0.2), meanPatch: c(0.9) },
    versusPreviousSlice: {
      meanForecastMse: c(mean - 0.08),
      ensembleMeanMse: ensemble === null ? null : c(ensemble - 0.08),
      crps: crps === null ? null : c(crps - 0.2),
    },
    perPosition: [],
    windows: 3,
    patchesPerWindow: 4,
    samplesPerPatch: ensemble === null ? 1 : 4,
    lightcones: ['a'],
    solver: 'rk4',
    steps: 8,
  };
}

test('the verdict needs every point forecast and the CRPS below both baselines', () => {
  const good = nextPatchVerdict(evaluation(0.12, 0.07, 0.06, 0.15));
  assert.deepEqual(good, {
    pointForecasts: [
      { name: 'mean forecast', mse: 0.06 },
      { name: 'ensemble mean', mse: 0.07 },
    ],
    pointBeatsBoth: true,
    crpsBeatsBoth: true,
    samplesBeatBoth: false,
    spreadRatio: 1,
  });
  assert.equal(
    nextPatchVerdict(evaluation(0.12, 0.07, 0.09, 0.15)).pointBeatsBoth,
    false,
    'the mean forecast is above the previous slice',
  );
  const single = nextPatchVerdict(evaluation(0.12, null, 0.06, null));
  assert.deepEqual(single.pointForecasts, [{ name: 'mean forecast', mse: 0.06 }]);
  assert.equal(single.pointBeatsBoth, true);
  assert.equal(single.crpsBeatsBoth, null);
  const table = nextPatchTable(evaluation(0.12, 0.07, 0.06, 0.15));
  assert.match(table, /model, mean of 4 samples +0\.0700/);
  assert.match(table, /previous slice \(baseline\) +0\.0800 ± 0\.0000 +0\.2000/);
  assert.match(
    table,
    /paired over windows: mean-forecast MSE −0\.0200 ± 0\.0000, ensemble-mean MSE −0\.0100 ± 0\.0000, CRPS −0\.0500/,
  );
  assert.match(table, /sample MSE \/ \(2 · mean-forecast MSE\) = 1\.00/);
});
