// Structure of the pipeline (docs/simulator.md#validation-structure): initial conditions, Zel'dovich density,
// ionisation bounds, lightcone assembly and determinism.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateLightcone } from '../../../sidecar/data/simulator';
import { Cosmology } from '../../../sidecar/data/simulator/cosmology';
import { createFft3 } from '../../../sidecar/data/simulator/fft';
import { HaloModel } from '../../../sidecar/data/simulator/hmf';
import { generateInitialConditions } from '../../../sidecar/data/simulator/ics';
import { IonizationSolver, filterRadii } from '../../../sidecar/data/simulator/ionize';
import { makeKGrid } from '../../../sidecar/data/simulator/kspace';
import { powerSpectrum } from '../../../sidecar/data/simulator/observables';
import { INITIAL_REDSHIFT, zeldovichDensity } from '../../../sidecar/data/simulator/perturb';
import { topHatWindow } from '../../../sidecar/data/simulator/powerspec';
import { Rng } from '../../../sidecar/data/simulator/rng';
import { fiducialCdm, tinySize } from './summary';

const n = 32;
const boxMpc = 100;
const cosmology = new Cosmology(0.30966);
const halos = new HaloModel(cosmology, null, 4.69897);

function stats(a: Float32Array, b?: Float32Array): { mean: number; std: number; corr: number } {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i];
    mb += b ? b[i] : 0;
  }
  ma /= a.length;
  mb /= a.length;
  let va = 0;
  let vb = 0;
  let cov = 0;
  for (let i = 0; i < a.length; i++) {
    va += (a[i] - ma) ** 2;
    if (b) {
      vb += (b[i] - mb) ** 2;
      cov += (a[i] - ma) * (b[i] - mb);
    }
  }
  return { mean: ma, std: Math.sqrt(va / a.length), corr: b ? cov / Math.sqrt(va * vb) : Number.NaN };
}

test('initial conditions: zero mean, P(k) = P_lin(k) W²(kR) within cosmic variance, reproducible', async () => {
  const fft = await createFft3(n);
  try {
    const grid = makeKGrid(n, boxMpc);
    const ics = generateInitialConditions(halos.power, grid, fft, 3);
    assert.ok(Math.abs(stats(ics.delta0).mean) < 1e-5);
    const spectrum = powerSpectrum(ics.delta0, n, boxMpc, fft, 10);
    const radius = (0.620350491 * boxMpc) / n;
    spectrum.k.forEach((k, i) => {
      const expected = (k ** 3 * halos.power.power(k) * topHatWindow(k * radius) ** 2) / (2 * Math.PI ** 2);
      const tolerance = 4 / Math.sqrt(spectrum.modes[i] / 2) + 0.1; // 4σ cosmic variance + binning
      assert.ok(
        Math.abs(spectrum.delta2[i] / expected - 1) < tolerance,
        `k=${k}: Δ² ${spectrum.delta2[i]} vs ${expected}`,
      );
    });
    const again = generateInitialConditions(halos.power, grid, fft, 3);
    assert.deepEqual(again.delta0, ics.delta0);
  } finally {
    fft.dispose();
  }
});

test("Zel'dovich density: zero mean, linear response ≈ 0.8–0.95 and correlated with δ0 at high z", async () => {
  const fft = await createFft3(n);
  try {
    const grid = makeKGrid(n, boxMpc);
    const ics = generateInitialConditions(halos.power, grid, fft, 4);
    const density = new Float32Array(n ** 3);
    const sd0 = stats(ics.delta0).std;
    const ratios: number[] = [];
    for (const z of [30, 20]) {
      const growth = cosmology.growth(z);
      zeldovichDensity(ics, n, boxMpc / n, growth, cosmology.growth(INITIAL_REDSHIFT), density);
      const s = stats(density, ics.delta0);
      assert.ok(Math.abs(s.mean) < 1e-5, `⟨δ_NL⟩ = ${s.mean}`);
      assert.ok(s.corr > 0.75, `corr(δ_NL, δ0) = ${s.corr} at z=${z}`);
      ratios.push(s.std / (growth * sd0));
    }
    for (const r of ratios) assert.ok(r > 0.75 && r < 0.98, `std ratio ${r}`);
    assert.ok(Math.abs(ratios[0] / ratios[1] - 1) < 0.05, `ratio not constant in z: ${ratios.join(',')}`);
  } finally {
    fft.dispose();
  }
});

test('excursion set: ⟨x_HII⟩ ≤ ζ F_ST (+ Poisson noise), and monotone in ζ', async () => {
  const fft = await createFft3(n);
  try {
    const grid = makeKGrid(n, boxMpc);
    const ics = generateInitialConditions(halos.power, grid, fft, 5);
    const z = 8;
    const deltaNl = new Float32Array(n ** 3);
    zeldovichDensity(ics, n, boxMpc / n, cosmology.growth(z), cosmology.growth(INITIAL_REDSHIFT), deltaNl);
    const deltaNlK = new Float32Array(2 * fft.halfLength);
    fft.forward(deltaNl, deltaNlK);
    const ionised: number[] = [];
    for (const zeta of [10, 20, 40]) {
      const solver = new IonizationSolver(cosmology, halos, grid, fft, new Rng(1, 2));
      const xHI = new Float32Array(n ** 3);
      const analytic = solver.solve(
        {
          z,
          zeta,
          deltaNl,
          deltaNlK,
          recombinations: new Float32Array(n ** 3),
          xe: new Float32Array(n ** 3),
          radii: filterRadii(boxMpc, n, 1.2, 3),
        },
        xHI,
      );
      const xHII = 1 - stats(xHI).mean;
      assert.ok(xHII <= Math.min(1, analytic) * 1.1 + 0.01, `ζ=${zeta}: ⟨x_HII⟩ ${xHII} vs ζF_ST ${analytic}`);
      ionised.push(xHII);
    }
    assert.ok(ionised[0] < ionised[1] && ionised[1] < ionised[2], `not monotone in ζ: ${ionised.join(',')}`);
  } finally {
    fft.dispose();
  }
});

test('same seed → identical cone; another seed → a different cone; progress runs from 0 to 1', async () => {
  const fractions: number[] = [];
  const a = await simulateLightcone(fiducialCdm, { size: tinySize, seed: 21, onProgress: (f) => fractions.push(f) });
  assert.equal(fractions[0], 0);
  assert.equal(fractions[fractions.length - 1], 1);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i] >= fractions[i - 1], 'progress went backwards');
  const b = await simulateLightcone(fiducialCdm, { size: tinySize, seed: 21 });
  const c = await simulateLightcone(fiducialCdm, { size: tinySize, seed: 22 });
  assert.deepEqual(a.brightness, b.brightness);
  assert.deepEqual(a.history, b.history);
  assert.notDeepEqual(a.brightness, c.brightness);
});

test('lightcone: slice 0 is the z_min coeval slice, slices tile the box periodically, Ω_m sets the far end', async () => {
  const size = { ...tinySize, nLos: 200 };
  let lowest: Float32Array | null = null;
  const cone = await simulateLightcone(fiducialCdm, {
    size,
    seed: 8,
    onNode: (node) => {
      if (Math.abs(node.z - size.zMin) < 1e-9) lowest = Float32Array.from(node.brightness);
    },
  });
  assert.ok(lowest, 'no node at z_min');
  const box = lowest as Float32Array;
  const m = size.n;
  for (let ij = 0; ij < m * m; ij++) assert.equal(cone.brightness[ij * size.nLos], box[ij * m]);
  assert.deepEqual(cone.shape, [m, m, 200]);
  const far = async (omegaM: number): Promise<number> => {
    const c = await simulateLightcone({ ...fiducialCdm, omegaM }, { size: { ...tinySize, nLos: 1024 }, seed: 8 });
    return c.redshifts[1023];
  };
  const [low, high] = await Promise.all([far(0.2), far(0.4)]);
  assert.ok(high > low + 5, `far-end z: Ω_m 0.2 → ${low}, 0.4 → ${high}`);
});

test('the fft.js fallback gives the same cone as kissfft-wasm up to float32 rounding', async () => {
  const kiss = await simulateLightcone(fiducialCdm, { size: tinySize, seed: 9, fftBackend: 'kissfft' });
  const js = await simulateLightcone(fiducialCdm, { size: tinySize, seed: 9, fftBackend: 'fftjs' });
  for (let i = 0; i < kiss.history.z.length; i++) {
    assert.ok(
      Math.abs(kiss.history.meanTb[i] - js.history.meanTb[i]) < 0.05 + 1e-3 * Math.abs(kiss.history.meanTb[i]),
      `⟨δT_b⟩ at z=${kiss.history.z[i]}: ${kiss.history.meanTb[i]} vs ${js.history.meanTb[i]}`,
    );
    assert.ok(Math.abs(kiss.history.xHI[i] - js.history.xHI[i]) < 0.01, `x_HI at z=${kiss.history.z[i]}`);
  }
});

test('corners of the prior (no sources, no heating, very early reionisation) give finite cones', async () => {
  const corners = [
    { mWDM: 0.3, omegaM: 0.2, E0: 100, log10LX: 38, log10Tvir: 5.3, zeta: 10 },
    { mWDM: 10, omegaM: 0.4, E0: 1500, log10LX: 42, log10Tvir: 4.0, zeta: 250 },
    { mWDM: 0.3, omegaM: 0.4, E0: 1500, log10LX: 38, log10Tvir: 4.0, zeta: 250 },
  ];
  for (const params of corners) {
    const cone = await simulateLightcone(params, { size: tinySize, seed: 3 });
    assert.ok(cone.brightness.every(Number.isFinite), `non-finite δT_b for ${JSON.stringify(params)}`);
    assert.ok(
      cone.history.meanTb.every((v) => Number.isFinite(v) && v > -400),
      `global signal for ${JSON.stringify(params)}`,
    );
    assert.ok(Number.isFinite(cone.tau));
  }
});
