import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hdf5FilesSource, loadH5wasm, readLightconeHdf5 } from '../../sidecar/data/hdf5_source';
import { ComovingDistanceTable } from '../../sidecar/data/comoving_distance';
import { cube, voxel, writeV3 as writeV3Lightcone, writeV4 as writeV4Lightcone } from '../fixtures/hdf5_lightcones';

const dir = mkdtempSync(join(tmpdir(), 'l3m-h5-'));
const nx = 4;
const ny = 3;
const nLos = 10;

/** Files in 21cmFAST's own layouts (test/fixtures/hdf5_lightcones.ts) with the paper's model flags. */
const writeV3 = (path: string, withDistances: boolean) => writeV3Lightcone(path, { nx, ny, nLos, withDistances });
const writeV4 = (path: string) => writeV4Lightcone(path, { nx, ny, nLos });

/** v4 files are cold dark matter, so m_WDM is given explicitly. */
const cdm = { labels: { fixed: { mWDM: 2 } } };

test('comoving distance: inversion round-trips and the dataset cone reaches z ≈ 24.8 at Ω_m = 0.31', () => {
  const table = new ComovingDistanceTable({ omegaM: 0.30966, hubble: 0.6766 });
  for (const z of [0.5, 5, 12.3, 35]) assert.ok(Math.abs(table.redshift(table.distance(z)) - z) < 1e-6);
  // The paper's cones (docs/paper-mapping.md#data-formats): 2350 cells of 200/140 Mpc from z = 5 end
  // near z = 24.8 for Ω_m = 0.31.
  const zEnd = table.redshift(table.distance(5) + 2350 * (200 / 140));
  assert.ok(Math.abs(zEnd - 24.8) < 0.4, `far end z = ${zEnd}`);
});

test('v3.0–3.2 layout: axes, distances from attrs.redshift, parameters from the groups (BigInt ints)', async () => {
  const path = join(dir, 'v3.h5');
  await writeV3(path, false);
  const h5 = await loadH5wasm();
  const raw = new h5.File(path, 'r');
  // The reader must cope with int64 attributes arriving as BigInt (docs/paper-mapping.md#data-21cmfast-hdf5).
  assert.equal(typeof (raw.get('user_params') as import('h5wasm').Group).attrs.HII_DIM.value, 'bigint');
  raw.close();
  const record = await readLightconeHdf5(path);
  assert.deepEqual(record.shape, { nx, ny, nt: nLos });
  // [t, x, y] layout: slice k at (i, j) holds the file's [i, j, k].
  assert.equal(record.brightness[(7 * nx + 2) * ny + 1], voxel(2, 1, 7));
  assert.deepEqual(record.params, { mWDM: 3.5, omegaM: 0.31, E0: 700, log10LX: 40.2, log10Tvir: 4.8, zeta: 55 });
  assert.ok(Math.abs(record.redshifts![0] - 5) < 1e-6);
  // linspace(0, N·BOX_LEN/HII_DIM, N): spacing = 10·50/9 Mpc.
  const table = new ComovingDistanceTable({ omegaM: 0.31, hubble: 0.6766 });
  assert.ok(Math.abs(table.distance(record.redshifts![9]) - table.distance(5) - 500) < 1e-3);
  assert.deepEqual(Array.from(record.history!.z), [5, 10, 20]);
  assert.deepEqual(Array.from(record.history!.xHI!), [0.01, 0.5, 1]);
});

test('v3.4 layout: stored distances are used', async () => {
  const path = join(dir, 'v34.h5');
  await writeV3(path, true);
  const record = await readLightconeHdf5(path, { start: 3, end: 6 });
  const table = new ComovingDistanceTable({ omegaM: 0.31, hubble: 0.6766 });
  assert.equal(record.shape.nt, 3);
  assert.equal(record.firstSlice, 3);
  assert.ok(Math.abs(table.distance(record.redshifts![0]) - table.distance(5) - 150) < 1e-3);
  assert.equal(record.brightness[0], voxel(0, 0, 3));
});

test('v4 layout: buffers stripped, slice range read, m_WDM given explicitly', async () => {
  const path = join(dir, 'v4.h5');
  await writeV4(path);
  const full = await readLightconeHdf5(path, undefined, cdm);
  assert.equal(full.shape.nt, nLos);
  // Kept slice 0 is stored slice 2 (the low-z buffer is 2 pixels).
  assert.equal(full.brightness[0], voxel(0, 0, 2));
  assert.equal(full.brightness[(nLos - 1) * nx * ny + (3 * ny + 2)], voxel(3, 2, nLos + 1));
  const table = new ComovingDistanceTable({ omegaM: 0.25, hubble: 0.6766 });
  assert.ok(Math.abs(table.distance(full.redshifts![0]) - (table.distance(6) + 40)) < 1e-3);
  assert.deepEqual(full.params, { mWDM: 2, omegaM: 0.25, E0: 500, log10LX: 40.5, log10Tvir: 4.69897, zeta: 30 });
  const part = await readLightconeHdf5(path, { start: 4, end: 6 }, { labels: { fixed: { mWDM: 1.5 } } });
  assert.equal(part.params.mWDM, 1.5);
  assert.deepEqual(
    Array.from(part.brightness.subarray(0, nx * ny)),
    Array.from(full.brightness.subarray(4 * nx * ny, 5 * nx * ny)),
  );
  const source = new Hdf5FilesSource([path, join(dir, 'v3.h5')], cdm);
  assert.deepEqual(
    (await source.list()).map((e) => e.id),
    ['v3.h5', 'v4.h5'],
  );
});

test('bad HDF5 input: missing, truncated, non-21cmFAST, wrong rank, NaN, outside priors', async () => {
  await assert.rejects(
    readLightconeHdf5(join(dir, 'absent.h5')),
    /absent\.h5: does not exist; expected a 21cmFAST lightcone \.h5 file/,
  );
  const bytes = readFileSync(join(dir, 'v3.h5'));
  const truncated = join(dir, 'truncated.h5');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
  await assert.rejects(readLightconeHdf5(truncated), /truncated\.h5: .*(truncated|damaged|not HDF5|missing)/);
  const h5 = await loadH5wasm();
  const other = join(dir, 'other.h5');
  let f = new h5.File(other, 'w');
  f.create_dataset({ name: 'x', data: new Float32Array(4), shape: [4], dtype: '<f' });
  f.close();
  await assert.rejects(
    readLightconeHdf5(other),
    /other\.h5: not a 21cmFAST lightcone file .*expected groups "lightcones"/,
  );

  const rank = join(dir, 'rank.h5');
  await writeV3(rank, false);
  f = new h5.File(rank, 'a');
  (f.get('lightcones') as import('h5wasm').Group).create_dataset({
    name: 'flat',
    data: new Float32Array(8),
    shape: [8],
    dtype: '<f',
  });
  f.close();
  await assert.rejects(
    readLightconeHdf5(rank, undefined, { field: 'flat' }),
    /rank\.h5: dataset "lightcones\/flat" has shape \[8\] \(rank 1\); expected rank 3/,
  );

  const nan = join(dir, 'nan.h5');
  await writeV3(nan, false);
  f = new h5.File(nan, 'a');
  const values = cube(nx, ny, nLos);
  values[5] = NaN;
  (f.get('lightcones') as import('h5wasm').Group).create_dataset({
    name: 'bad',
    data: values,
    shape: [nx, ny, nLos],
    dtype: '<f',
  });
  f.close();
  await assert.rejects(
    readLightconeHdf5(nan, undefined, { field: 'bad' }),
    /nan\.h5: dataset "lightcones\/bad" holds NaN/,
  );

  const prior = join(dir, 'prior.h5');
  await writeV3(prior, false);
  f = new h5.File(prior, 'a');
  const astro = f.get('astro_params') as import('h5wasm').Group;
  astro.delete_attribute('HII_EFF_FACTOR');
  astro.create_attribute('HII_EFF_FACTOR', 900.0);
  f.close();
  await assert.rejects(readLightconeHdf5(prior), /prior\.h5: .*ζ \(zeta\) = 900, outside the prior \[10, 250\]/);
});
