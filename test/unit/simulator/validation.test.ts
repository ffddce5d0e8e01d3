// Validation of the fiducial model against docs/simulator.md#validation-targets (literature, 21cmFAST and prototype
// targets), on the `test` preset: reionisation midpoint and end, τ_e, the global-signal trough, the
// high-z collisional signal and the 21cm power spectrum at mid-reionisation.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateLightcone, type Lightcone } from '../../../sidecar/data/simulator';
import { powerSpectrum, type PowerSpectrum } from '../../../sidecar/data/simulator/observables';
import { fiducialCdm, neutralFractionAt, observables } from './summary';

let cone: Lightcone;
let midSpectrum: { xHI: number; z: number; spectrum: PowerSpectrum } | null = null;

before(async () => {
  cone = await simulateLightcone(fiducialCdm, {
    size: 'test',
    seed: 11,
    onNode: (node) => {
      let mean = 0;
      for (const v of node.xHI) mean += v;
      mean /= node.xHI.length;
      if (!midSpectrum || Math.abs(mean - 0.5) < Math.abs(midSpectrum.xHI - 0.5)) {
        midSpectrum = {
          xHI: mean,
          z: node.z,
          spectrum: powerSpectrum(node.brightness, node.n, node.boxMpc, node.fft, 8),
        };
      }
    },
  });
});

test('reionisation midpoint is within Planck 2018 z_re = 7.7 ± 0.7 (excursion-set prototype 7.17)', () => {
  const { z50 } = observables(cone);
  assert.ok(z50 >= 6.9 && z50 <= 8.4, `z50 = ${z50}`);
});

test('reionisation ends at z ≈ 5.3–6.5 with x_HI(5.9) within 2σ of McGreer+15 (0.06 + 2×0.05)', () => {
  const { z, xHI } = cone.history;
  const endIndex = Array.from(xHI).findIndex((x) => x < 0.01);
  assert.ok(endIndex > 0, 'never fully reionised');
  assert.ok(z[endIndex] >= 5.3 && z[endIndex] <= 6.5, `x_HI < 0.01 first at z = ${z[endIndex]}`);
  const atEnd = neutralFractionAt(cone, 5.9);
  assert.ok(atEnd <= 0.16, `x_HI(5.9) = ${atEnd}`);
  assert.ok(observables(cone).xHIEnd <= 0.1, 'fails the dataset cut x_HI(5) ≤ 0.1');
});

test('Thomson optical depth is within Planck 2018 τ = 0.054 ± 0.007 (fiducial 0.05–0.065)', () => {
  assert.ok(cone.tau >= 0.047 && cone.tau <= 0.065, `τ = ${cone.tau}`);
});

test('global-signal trough: −148 mK at z 15.5 (prototype) within ±25%, inside the −100…−200 mK, z 14–20 range', () => {
  const { troughTb, troughZ } = observables(cone);
  assert.ok(troughTb <= -148 * 0.75 && troughTb >= -148 * 1.25, `trough ${troughTb} mK`);
  assert.ok(troughZ >= 14 && troughZ <= 20, `trough at z = ${troughZ}`);
  assert.ok(troughTb > -240, 'deeper than the adiabatic floor');
});

test('δT_b(z ≈ 35) is the collisional −6…−10 mK of 21cmFAST', () => {
  const { z, meanTb } = cone.history;
  assert.ok(z[0] >= 34.5 && z[0] <= 37, `first node z = ${z[0]}`);
  assert.ok(meanTb[0] <= -6 && meanTb[0] >= -10, `δT_b = ${meanTb[0]} at z = ${z[0]}`);
});

test('21cm power at mid-reionisation: Δ² ≈ 10–30 mK² at k 0.1–0.5 /Mpc (Lidz+08; prototype 4–24 mK²)', () => {
  assert.ok(midSpectrum, 'no node recorded');
  const { xHI, spectrum } = midSpectrum;
  assert.ok(Math.abs(xHI - 0.5) < 0.15, `closest node has x_HI = ${xHI}`);
  let inRange = 0;
  spectrum.k.forEach((k, i) => {
    if (k < 0.1 || k > 0.5) return;
    inRange++;
    const d2 = spectrum.delta2[i];
    assert.ok(d2 >= 3 && d2 <= 60, `Δ²(k=${k.toFixed(2)}) = ${d2} mK²`);
  });
  assert.ok(inRange >= 3, 'too few k bins in 0.1–0.5 /Mpc');
});

test('lightcone layout: shape, slice redshifts increasing from z_min, finite values', () => {
  assert.deepEqual(cone.shape, [32, 32, 1024]);
  assert.equal(cone.brightness.length, 32 * 32 * 1024);
  assert.ok(Math.abs(cone.redshifts[0] - 5) < 1e-6);
  for (let p = 1; p < cone.redshifts.length; p++) assert.ok(cone.redshifts[p] > cone.redshifts[p - 1]);
  assert.ok(cone.brightness.every(Number.isFinite));
});
