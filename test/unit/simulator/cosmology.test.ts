// Cosmology, Eisenstein & Hu + WDM power, σ(M), M_min and collapsed fractions against the NumPy
// prototype the simulator was ported next to (values from a run with numpy 1.24; docs/simulator.md#validation-components).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cosmology } from '../../../sidecar/data/simulator/cosmology';
import { HaloModel } from '../../../sidecar/data/simulator/hmf';
import { LinearPower, wdmCutoffRadius, wdmJeansMass } from '../../../sidecar/data/simulator/powerspec';

const fiducialOmegaM = 0.30966;
const cosmology = new Cosmology(fiducialOmegaM);
const cdm = new HaloModel(cosmology, null, 4.69897);

function close(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${what}: got ${actual}, expected ${expected} ±${relative * 100}%`,
  );
}

test('σ(8/h Mpc) equals σ8 after normalisation', () => {
  close(cdm.power.sigmaOfRadius(8 / cosmology.h), 0.8102, 1e-9, 'σ8');
});

test('EH transfer function and P(k) match the prototype', () => {
  const ks = [1e-3, 1e-2, 0.1, 0.5, 1.0, 5.0];
  const transfer = [0.986066, 0.681689, 0.0817297, 0.00755339, 0.00243135, 0.000151179];
  const power = [17427.1, 77105.5, 10260.6, 415.193, 84.0636, 1.53974];
  ks.forEach((k, i) => {
    close(cdm.power.transfer(k), transfer[i], 1e-4, `T(${k})`);
    close(cdm.power.power(k), power[i], 2e-3, `P(${k})`);
  });
});

test('σ(M) for CDM and WDM, and the WDM scales, match the prototype', () => {
  const masses = [1e8, 1e9, 1e10, 1e12, 1e14];
  const sigmas = [5.8163, 4.7931, 3.842, 2.2052, 1.006];
  masses.forEach((m, i) => close(cdm.power.sigmaOfMass(m), sigmas[i], 5e-3, `σ(${m})`));
  const wdm: Array<[number, number, number, number]> = [
    [0.3, 2.4716, 0.77555, 1.8861e12],
    [1, 3.8727, 0.19422, 1.5277e10],
    [2, 4.4883, 0.087522, 9.5481e8],
    [10, 4.7875, 0.01375, 1.5277e6],
  ];
  for (const [mass, sigma9, cutoff, jeans] of wdm) {
    close(new LinearPower(cosmology, mass).sigmaOfMass(1e9), sigma9, 5e-3, `σ(1e9) at ${mass} keV`);
    close(wdmCutoffRadius(fiducialOmegaM, cosmology.omegaB, mass), cutoff, 1e-4, `R_c at ${mass} keV`);
    close(wdmJeansMass(fiducialOmegaM, cosmology.omegaB, mass), jeans, 1e-4, `M_J at ${mass} keV`);
  }
});

test('M_min, F_ST, F_PS and D(z) match the prototype within 2%', () => {
  const rows: Array<[number, number, number, number, number]> = [
    [8, 1.2464e9, 0.018893, 0.011577, 0.14161],
    [10, 9.2266e8, 0.0061488, 0.0026734, 0.11588],
    [15, 5.2592e8, 0.00021921, 3.2117e-5, 0.079665],
    [20, 3.4966e8, 3.7276e-6, 1.3542e-7, 0.060686],
  ];
  for (const [z, mMin, fST, fPS, growth] of rows) {
    close(cdm.minimumMass(z), mMin, 0.02, `M_min(${z})`);
    close(cdm.fST(z), fST, 0.02, `F_ST(${z})`);
    close(cdm.fPS(z), fPS, 0.02, `F_PS(${z})`);
    close(cosmology.growth(z), growth, 0.005, `D(${z})`);
  }
});

test('Ω_m changes σ(M) as the prototype does', () => {
  close(new LinearPower(new Cosmology(0.2), null).sigmaOfMass(1e10), 3.0608, 5e-3, 'σ(1e10), Ω_m = 0.2');
  close(new LinearPower(new Cosmology(0.4), null).sigmaOfMass(1e10), 4.4495, 5e-3, 'σ(1e10), Ω_m = 0.4');
});

test('comoving distances: monotone, and their inverse round-trips', () => {
  const chi5 = cosmology.comovingDistance(5);
  const chi35 = cosmology.comovingDistance(35);
  assert.ok(chi5 > 7800 && chi5 < 8100, `χ(5) = ${chi5}`);
  assert.ok(chi35 > chi5);
  close(cosmology.comovingDistance(cosmology.redshiftAtDistance(9000)), 9000, 1e-6, 'round trip');
});

test('a bad Ω_m is refused with the value and the allowed range', () => {
  assert.throws(() => new Cosmology(1.5), /Ω_m must be in \(0\.05, 1\), got 1\.5/);
});
