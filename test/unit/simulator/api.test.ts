// The simulator's public API: presets, parameter sampling from the dataset priors, the acceptance cut,
// and clear errors for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isAccepted,
  resolveSize,
  sampleParams,
  simulateLightcone,
  simulatorPresets,
  simulatorVersion,
  type Lightcone,
} from '../../../sidecar/data/simulator';
import { parameterInfo, parameterNames } from '../../../sidecar/data/parameters';
import { fiducialCdm } from './summary';

test('presets: half_paper is exactly half the paper resolution, faithful is 64³ on 200 Mpc', () => {
  assert.equal(simulatorPresets.half_paper.n, 70);
  assert.equal(simulatorPresets.half_paper.boxMpc, 200);
  assert.equal(simulatorPresets.half_paper.nLos, 2350 / 2);
  assert.equal(simulatorPresets.faithful.n, 64);
  assert.equal(simulatorPresets.faithful.zStepFactor, 1.02);
  assert.match(simulatorVersion, /^\d+\.\d+\.\d+$/);
});

test('sampleParams: deterministic, inside the priors, different per index', () => {
  assert.deepEqual(sampleParams(3, 7), sampleParams(3, 7));
  assert.notDeepEqual(sampleParams(3, 7), sampleParams(3, 8));
  assert.notDeepEqual(sampleParams(3, 7), sampleParams(4, 7));
  const draws = Array.from({ length: 400 }, (_, i) => sampleParams(1, i));
  for (const name of parameterNames) {
    const { min, max } = parameterInfo[name];
    const values = draws.map((d) => d[name]);
    assert.ok(
      values.every((v) => v >= min && v <= max),
      `${name} outside [${min}, ${max}]`,
    );
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    // Uniform in the stored value (log10 for T_vir and L_X): the mean sits mid-prior.
    assert.ok(Math.abs(mean - (min + max) / 2) < 0.08 * (max - min), `${name} mean ${mean}`);
  }
});

function fakeCone(tau: number, xHIEnd: number): Lightcone {
  return {
    brightness: new Float32Array(0),
    shape: [0, 0, 0],
    redshifts: new Float64Array(0),
    params: fiducialCdm,
    tau,
    history: {
      z: Float64Array.of(10, 5),
      xHI: Float64Array.of(1, xHIEnd),
      meanTb: new Float64Array(2),
      meanTs: new Float64Array(2),
      meanTk: new Float64Array(2),
    },
  };
}

test('isAccepted applies τ ≤ 0.089 and x_HI(z_min) ≤ 0.1 and says why it rejects', () => {
  assert.deepEqual(isAccepted(fakeCone(0.055, 0)), { ok: true });
  const early = isAccepted(fakeCone(0.095, 0));
  assert.equal(early.ok, false);
  assert.match(early.reason!, /τ = 0\.0950 > 0\.089/);
  const late = isAccepted(fakeCone(0.05, 0.3));
  assert.equal(late.ok, false);
  assert.match(late.reason!, /x_HI\(z=5\.00\) = 0\.300 > 0\.1/);
});

test('bad input: parameters, sizes and presets are refused with the name, the value and the expectation', async () => {
  await assert.rejects(
    simulateLightcone({ ...fiducialCdm, zeta: Number.NaN }, { size: 'test', seed: 1 }),
    /parameter 'zeta' = NaN.*expected ζ/,
  );
  await assert.rejects(
    simulateLightcone({ ...fiducialCdm, E0: 5000 }, { size: 'test', seed: 1 }),
    /'E0' = 5000.*\[100, 2000\)/,
  );
  await assert.rejects(simulateLightcone(fiducialCdm, { size: 'huge' as never, seed: 1 }), /unknown preset 'huge'/);
  assert.throws(
    () => resolveSize({ ...simulatorPresets.test, n: 31 }),
    /'n' = 31 is invalid; expected an even integer/,
  );
  await assert.rejects(
    simulateLightcone(fiducialCdm, { size: 'test', seed: Number.NaN }),
    /seed must be a finite number/,
  );
});

test("global_signal preset: default's cells and line of sight on a 16-cell box, and the same global signal", async () => {
  const small = simulatorPresets.global_signal;
  const reference = simulatorPresets.default;
  assert.equal(small.n, 16);
  assert.equal(small.boxMpc / small.n, reference.boxMpc / reference.n, 'same cell size');
  assert.equal(small.nLos, reference.nLos);
  assert.deepEqual(resolveSize('global_signal'), { ...small });
  // The regression task reads only the box mean of each slice; binned as its tokens are, the small
  // box's global signal must follow the default box's for the same parameters.
  const params = { ...fiducialCdm };
  const bins = 47;
  const binned = async (size: 'global_signal' | 'default') => {
    const cone = await simulateLightcone(params, { size, seed: 3 });
    const [nx, ny, nt] = cone.shape;
    const means = new Float64Array(nt);
    for (let i = 0; i < nx * ny; i++) for (let k = 0; k < nt; k++) means[k] += cone.brightness[i * nt + k] / (nx * ny);
    return Array.from({ length: bins }, (_, b) => {
      const from = Math.floor((b * nt) / bins);
      const to = Math.floor(((b + 1) * nt) / bins);
      let s = 0;
      for (let k = from; k < to; k++) s += means[k];
      return s / (to - from);
    });
  };
  const a = await binned('global_signal');
  const b = await binned('default');
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < bins; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  const correlation = sab / Math.sqrt(saa * sbb);
  console.log(
    `global signal correlation global_signal vs default: ${correlation.toFixed(4)}; trough ${Math.min(...a).toFixed(1)} vs ${Math.min(...b).toFixed(1)} mK`,
  );
  assert.ok(correlation > 0.95, `correlation ${correlation}`);
  assert.ok(
    Math.abs(Math.min(...a) - Math.min(...b)) < 0.25 * Math.abs(Math.min(...b)),
    'absorption trough within 25%',
  );
});
