import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hdf5FilesSource, loadH5wasm, readLightconeHdf5 } from '../../sidecar/data/hdf5_source';
import { ComovingDistanceTable } from '../../sidecar/data/comoving_distance';

const dir = mkdtempSync(join(tmpdir(), 'l3m-h5-'));
const nx = 4;
const ny = 3;
const nLos = 10;

/** h5wasm's typings omit bigint, but its runtime writes a BigInt with dtype '<q' as a true int64 attribute. */
const int64 = (value: number) => BigInt(value) as unknown as number;

/** Voxel value encodes its file position (x, y, k) so that axis mix-ups show. */
const voxel = (i: number, j: number, k: number) => i * 100 + j * 10 + k + 0.5;

function cube(n: number): Float32Array {
  const data = new Float32Array(nx * ny * n);
  for (let i = 0; i < nx; i++)
    for (let j = 0; j < ny; j++) for (let k = 0; k < n; k++) data[(i * ny + j) * n + k] = voxel(i, j, k);
  return data;
}

/** Writes a file in the v3 layout of 21cmFAST 3.1.2 (docs/paper-mapping.md#data-21cmfast-hdf5), ints as int64 (BigInt). */
async function writeV3(path: string, withDistances: boolean): Promise<void> {
  const h5 = await loadH5wasm();
  const f = new h5.File(path, 'w');
  f.create_attribute('redshift', 5.0);
  f.create_attribute('random_seed', int64(12345), null, '<q');
  f.create_attribute('version', '3.1.2');
  const user = f.create_group('user_params');
  user.create_attribute('HII_DIM', int64(nx), null, '<q');
  user.create_attribute('BOX_LEN', int64(200), null, '<q');
  const cosmo = f.create_group('cosmo_params');
  cosmo.create_attribute('OMm', 0.31);
  cosmo.create_attribute('hlittle', 0.6766);
  const astro = f.create_group('astro_params');
  astro.create_attribute('HII_EFF_FACTOR', 55.0);
  astro.create_attribute('ION_Tvir_MIN', 4.8);
  astro.create_attribute('L_X', 40.2);
  astro.create_attribute('NU_X_THRESH', 700.0);
  const globals = f.create_group('_globals');
  globals.create_attribute('M_WDM', 3.5);
  globals.create_attribute('P_CUTOFF', int64(1), null, '<q');
  f.create_group('flag_options');
  const lc = f.create_group('lightcones');
  lc.create_dataset({ name: 'brightness_temp', data: cube(nLos), shape: [nx, ny, nLos], dtype: '<f' });
  f.create_dataset({ name: 'node_redshifts', data: new Float64Array([20, 10, 5]), shape: [3], dtype: '<d' });
  const gq = f.create_group('global_quantities');
  gq.create_dataset({ name: 'xH_box', data: new Float64Array([1, 0.5, 0.01]), shape: [3], dtype: '<d' });
  gq.create_dataset({ name: 'brightness_temp', data: new Float64Array([-50, 10, 0.1]), shape: [3], dtype: '<d' });
  if (withDistances) {
    const chi0 = new ComovingDistanceTable({ omegaM: 0.31, hubble: 0.6766 }).distance(5);
    f.create_dataset({
      name: 'distances',
      data: Float64Array.from({ length: nLos }, (_, i) => chi0 + 50 * i),
      shape: [nLos],
      dtype: '<d',
    });
  }
  f.close();
}

/** Writes a file in the v4 layout (docs/paper-mapping.md#data-21cmfast-hdf5) with 2 low-z and 3 high-z buffer slices. */
async function writeV4(path: string): Promise<void> {
  const h5 = await loadH5wasm();
  const f = new h5.File(path, 'w');
  f.create_attribute('lightcone', 1, null, '|b1');
  f.create_attribute('lowz_buffer_pixels', int64(2), null, '<q');
  f.create_attribute('highz_buffer_pixels', int64(3), null, '<q');
  f.create_attribute('__version__', '4.0.0');
  const inputs = f.create_group('InputParameters');
  inputs.create_attribute('random_seed', int64(7), null, '<q');
  const sim = inputs.create_group('simulation_options');
  sim.create_attribute('HII_DIM', int64(nx), null, '<q');
  sim.create_attribute('BOX_LEN', 200.0);
  const cosmo = inputs.create_group('cosmo_params');
  cosmo.create_attribute('OMm', 0.25);
  cosmo.create_attribute('hlittle', 0.6766);
  const astro = inputs.create_group('astro_params');
  astro.create_attribute('HII_EFF_FACTOR', 30.0);
  astro.create_attribute('ION_Tvir_MIN', 4.69897);
  astro.create_attribute('L_X', 40.5);
  astro.create_attribute('NU_X_THRESH', 500.0);
  inputs.create_dataset({ name: 'node_redshifts', data: new Float64Array([30, 6]), shape: [2], dtype: '<d' });
  const lc = f.create_group('lightcones');
  lc.create_dataset({ name: 'brightness_temp', data: cube(nLos + 5), shape: [nx, ny, nLos + 5], dtype: '<f' });
  const table = new ComovingDistanceTable({ omegaM: 0.25, hubble: 0.6766 });
  const chi0 = table.distance(6);
  f.create_dataset({
    name: 'lightcone_distances',
    data: Float64Array.from({ length: nLos + 5 }, (_, i) => chi0 + 20 * i),
    shape: [nLos + 5],
    dtype: '<d',
  });
  f.close();
}

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

test('v4 layout: buffers stripped, slice range read, m_WDM fallback', async () => {
  const path = join(dir, 'v4.h5');
  await writeV4(path);
  const full = await readLightconeHdf5(path);
  assert.equal(full.shape.nt, nLos);
  // Kept slice 0 is stored slice 2 (the low-z buffer is 2 pixels).
  assert.equal(full.brightness[0], voxel(0, 0, 2));
  assert.equal(full.brightness[(nLos - 1) * nx * ny + (3 * ny + 2)], voxel(3, 2, nLos + 1));
  const table = new ComovingDistanceTable({ omegaM: 0.25, hubble: 0.6766 });
  assert.ok(Math.abs(table.distance(full.redshifts![0]) - (table.distance(6) + 40)) < 1e-3);
  assert.deepEqual(full.params, { mWDM: 2, omegaM: 0.25, E0: 500, log10LX: 40.5, log10Tvir: 4.69897, zeta: 30 });
  const part = await readLightconeHdf5(path, { start: 4, end: 6 }, { mWDMFallback: 1.5 });
  assert.equal(part.params.mWDM, 1.5);
  assert.deepEqual(
    Array.from(part.brightness.subarray(0, nx * ny)),
    Array.from(full.brightness.subarray(4 * nx * ny, 5 * nx * ny)),
  );
  const source = new Hdf5FilesSource([path, join(dir, 'v3.h5')]);
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
  const values = cube(nLos);
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
