// Each of the six parameters moves the observables in the direction of the literature and of the
// prototype scan (docs/simulator.md#validation-sensitivity), on a tiny box: global quantities barely depend on N.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateLightcone } from '../../../sidecar/data/simulator';
import type { AstroParams } from '../../../sidecar/data/parameters';
import { fiducialCdm, observables, tinySize, type Observables } from './summary';

const cache = new Map<string, Promise<Observables>>();
function run(change: Partial<AstroParams>): Promise<Observables> {
  const key = JSON.stringify(change);
  if (!cache.has(key)) {
    cache.set(key, simulateLightcone({ ...fiducialCdm, ...change }, { size: tinySize, seed: 5 }).then(observables));
  }
  return cache.get(key)!;
}

test('more ζ → earlier reionisation and larger τ', async () => {
  const [low, high] = await Promise.all([run({ zeta: 20 }), run({ zeta: 60 })]);
  assert.ok(high.z50 > low.z50 + 0.3, `z50: ζ=20 ${low.z50}, ζ=60 ${high.z50}`);
  assert.ok(high.tau > low.tau, `τ: ${low.tau} vs ${high.tau}`);
});

test('more L_X → shallower and earlier absorption trough (prototype: −259 mK at 10^38, −23 mK at 10^42)', async () => {
  const [low, mid, high] = await Promise.all([run({ log10LX: 38 }), run({}), run({ log10LX: 42 })]);
  assert.ok(
    low.troughTb < mid.troughTb && mid.troughTb < high.troughTb,
    `troughs ${low.troughTb}, ${mid.troughTb}, ${high.troughTb}`,
  );
  assert.ok(low.troughTb < -180 && high.troughTb > -60, `extremes ${low.troughTb}, ${high.troughTb}`);
  assert.ok(high.troughZ > low.troughZ, `trough z ${low.troughZ} vs ${high.troughZ}`);
});

test('harder X-rays (E_0 = 1500 eV) heat later: deeper trough than E_0 = 100 eV (prototype −178 vs −145 mK)', async () => {
  const [soft, hard] = await Promise.all([run({ E0: 100 }), run({ E0: 1500 })]);
  assert.ok(hard.troughTb < soft.troughTb - 10, `troughs: 100 eV ${soft.troughTb}, 1500 eV ${hard.troughTb}`);
  assert.ok(hard.troughZ <= soft.troughZ, `trough z: ${soft.troughZ} vs ${hard.troughZ}`);
});

test('higher T_vir → fewer, later sources: later reionisation and a later trough', async () => {
  const [low, high] = await Promise.all([run({ log10Tvir: 4.0 }), run({ log10Tvir: 5.3 })]);
  assert.ok(low.z50 > high.z50 + 1, `z50: 10^4 K ${low.z50}, 10^5.3 K ${high.z50}`);
  assert.ok(low.troughZ > high.troughZ + 3, `trough z: ${low.troughZ} vs ${high.troughZ}`);
});

test('lower m_WDM → delayed structure: later reionisation and trough (prototype trough z 9.9 at 1 keV vs 15.5 CDM)', async () => {
  const [warm, cold] = await Promise.all([run({ mWDM: 1 }), run({})]);
  assert.ok(warm.troughZ < cold.troughZ - 2, `trough z: 1 keV ${warm.troughZ}, CDM ${cold.troughZ}`);
  assert.ok(warm.xHIEnd > cold.xHIEnd + 0.2, `x_HI(5): 1 keV ${warm.xHIEnd}, CDM ${cold.xHIEnd}`);
});

test('higher Ω_m → earlier structure: earlier trough and reionisation (prototype trough z 12.5 at 0.2, 17.6 at 0.4)', async () => {
  const [low, high] = await Promise.all([run({ omegaM: 0.2 }), run({ omegaM: 0.4 })]);
  assert.ok(high.troughZ > low.troughZ + 2, `trough z: ${low.troughZ} vs ${high.troughZ}`);
  assert.ok(high.tau > low.tau, `τ: ${low.tau} vs ${high.tau}`);
});
