import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { encodeNpyHeader, readNpy, writeNpy } from '../../sidecar/data/npy';
import { NpyFolderSource } from '../../sidecar/data/npy_source';
import { NpzFolderSource, encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { fiducialParams } from '../../sidecar/data/parameters';
import { splitByLightcone } from '../../sidecar/data/splits';
import { txyToXyt, xytToTxy } from '../../sidecar/data/lightcone_record';

const root = mkdtempSync(join(tmpdir(), 'l3m-loaders-'));
const nx = 3,
  ny = 2,
  nt = 5;
const voxel = (i: number, j: number, k: number) => i * 100 + j * 10 + k;

function imageXyt(): Float32Array {
  const data = new Float32Array(nx * ny * nt);
  for (let i = 0; i < nx; i++)
    for (let j = 0; j < ny; j++) for (let k = 0; k < nt; k++) data[(i * ny + j) * nt + k] = voxel(i, j, k);
  return data;
}

test('.npy: write/read round trip, float16 and Fortran order decode, truncation and bad magic reported', () => {
  const data = Float32Array.from([1.5, -2, 3, 4, 5, 6]);
  const round = readNpy(writeNpy(data, [2, 3]), 'x.npy');
  assert.deepEqual(round.shape, [2, 3]);
  assert.deepEqual(round.data, data);
  // Hand-built float16 Fortran-order [2, 2] array: column-major values 1, 2, 3, 4 → C order [[1, 3], [2, 4]].
  const header = encodeNpyHeader('<f2', [2, 2], true);
  const bytes = new Uint8Array(header.length + 8);
  bytes.set(header);
  const halves = [0x3c00, 0x4000, 0x4200, 0x4400]; // 1, 2, 3, 4 in binary16
  halves.forEach((h, i) => new DataView(bytes.buffer).setUint16(header.length + 2 * i, h, true));
  assert.deepEqual(Array.from(readNpy(bytes, 'h.npy').data), [1, 3, 2, 4]);
  assert.throws(
    () => readNpy(bytes.subarray(0, bytes.length - 3), 'h.npy'),
    /h\.npy: .*needs \d+ bytes but the file has \d+; the file is truncated/,
  );
  assert.throws(() => readNpy(new Uint8Array(20), 'z.npy'), /z\.npy: not a NumPy \.npy file/);
});

test('layout helpers: [x, y, t] ↔ [t, x, y] round trip', () => {
  const xyt = imageXyt();
  const txy = xytToTxy(xyt, nx, ny, nt);
  assert.equal(txy[(4 * nx + 2) * ny + 1], voxel(2, 1, 4));
  assert.deepEqual(txyToXyt(txy, nx, ny, nt), xyt);
});

test('.npz folder: image axes, label order code vs README, slice range, sorted ids', async () => {
  const folder = join(root, 'npz');
  mkdirSync(folder);
  const params = { ...fiducialParams, E0: 900, log10LX: 39 };
  // A label with two leading extra entries: only the last six are the parameters.
  const label = Float64Array.from([7, 8, ...labelFromParams(params, 'code')]);
  writeFileSync(join(folder, 'b.npz'), encodeLightconeNpz(imageXyt(), [nx, ny, nt], label));
  writeFileSync(
    join(folder, 'a.npz'),
    encodeLightconeNpz(imageXyt(), [nx, ny, nt], labelFromParams(fiducialParams, 'code')),
  );
  const source = new NpzFolderSource(folder);
  assert.deepEqual(
    (await source.list()).map((e) => e.id),
    ['a.npz', 'b.npz'],
  );
  const record = await source.load('b.npz');
  assert.deepEqual(record.params, params);
  assert.deepEqual(record.shape, { nx, ny, nt });
  assert.equal(record.brightness[(3 * nx + 1) * ny + 1], voxel(1, 1, 3));
  const part = await source.load('b.npz', { start: 2, end: 4 });
  assert.equal(part.firstSlice, 2);
  assert.equal(part.brightness[0], voxel(0, 0, 2));
  // Read with the README order, E0 and log10 L_X swap: 39 lands in E0 and is outside its prior.
  await assert.rejects(
    new NpzFolderSource(folder, { labelOrder: 'readme' }).load('b.npz'),
    /b\.npz: "label" \(order readme\) gives E_0 \(E0\) = 39, outside the prior \[100, 1500\]/,
  );
  const readme = await new NpzFolderSource(folder, { labelOrder: 'readme', allowOutsidePriors: true }).load('b.npz');
  assert.equal(readme.params.log10LX, 900);
});

test('.npz bad input: missing file, wrong rank, NaN, missing label, not a zip', async () => {
  const folder = join(root, 'npz-bad');
  mkdirSync(folder);
  const source = new NpzFolderSource(folder);
  await assert.rejects(source.load('absent.npz'), /absent\.npz: does not exist; expected an \.npz file/);
  writeFileSync(
    join(folder, 'rank.npz'),
    zipSync({
      'image.npy': writeNpy(new Float32Array(6), [6]),
      'label.npy': writeNpy(labelFromParams(fiducialParams), [6]),
    }),
  );
  await assert.rejects(
    source.load('rank.npz'),
    /rank\.npz: dataset "image" has shape \[6\] \(rank 1\); expected rank 3 \[x, y, t\]/,
  );
  const nan = imageXyt();
  nan[4] = NaN;
  writeFileSync(join(folder, 'nan.npz'), encodeLightconeNpz(nan, [nx, ny, nt], labelFromParams(fiducialParams)));
  await assert.rejects(source.load('nan.npz'), /nan\.npz: dataset "image" holds NaN/);
  writeFileSync(join(folder, 'nolabel.npz'), zipSync({ 'image.npy': writeNpy(imageXyt(), [nx, ny, nt]) }));
  await assert.rejects(source.load('nolabel.npz'), /nolabel\.npz: \.npz lacks "label"/);
  // Listing reads only the label and the image header: a member whose voxels are damaged lists fine
  // (shape from the header) and fails only when loaded, by its CRC-32.
  const lazyFolder = join(root, 'npz-lazy');
  mkdirSync(lazyFolder);
  const damaged = encodeLightconeNpz(imageXyt(), [nx, ny, nt], labelFromParams(fiducialParams));
  const imageData = Buffer.from(damaged).indexOf("{'descr': '<f4'") - 10 + 128; // stored member, 128-byte .npy header
  damaged[imageData + 5] ^= 1;
  writeFileSync(join(lazyFolder, 'damaged.npz'), damaged);
  const lazy = new NpzFolderSource(lazyFolder);
  assert.deepEqual((await lazy.list())[0].shape, { nx, ny, nt });
  await assert.rejects(lazy.load('damaged.npz'), /damaged\.npz: member "image\.npy" fails its CRC-32 check/);
  // A member cut short is refused from its sizes alone, still without reading the voxels.
  const whole = writeNpy(imageXyt(), [nx, ny, nt]);
  const shortFolder = join(root, 'npz-short');
  mkdirSync(shortFolder);
  writeFileSync(
    join(shortFolder, 'short.npz'),
    zipSync({
      'label.npy': writeNpy(labelFromParams(fiducialParams), [6]),
      'image.npy': whole.subarray(0, whole.length - 8),
    }),
  );
  await assert.rejects(
    new NpzFolderSource(shortFolder).list(),
    /short\.npz: member "image\.npy" declares \d+ bytes uncompressed, but its \.npy header \(shape \[3, 2, 5\], dtype <f4\) needs \d+/,
  );
  writeFileSync(join(folder, 'text.npz'), 'hello');
  await assert.rejects(source.load('text.npz'), /text\.npz: not a readable \.npz \(zip\) archive/);
  await assert.rejects(new NpzFolderSource(join(root, 'nowhere')).list(), /nowhere: cannot list the dataset folder/);
});

test('.npy + JSON folder: slice-range reads, parameters checked against the priors', async () => {
  const folder = join(root, 'npy');
  mkdirSync(folder);
  writeFileSync(join(folder, 'cone.npy'), writeNpy(imageXyt(), [nx, ny, nt]));
  writeFileSync(join(folder, 'cone.json'), JSON.stringify({ ...fiducialParams, redshifts: [5, 6, 7, 8, 9] }));
  const source = new NpyFolderSource(folder);
  const [entry] = await source.list();
  assert.deepEqual(entry.shape, { nx, ny, nt });
  const part = await source.load('cone.npy', { start: 1, end: 3 });
  assert.deepEqual(part.shape, { nx, ny, nt: 2 });
  assert.equal(part.brightness[(1 * nx + 2) * ny + 0], voxel(2, 0, 2));
  assert.deepEqual(Array.from(part.redshifts!), [6, 7]);
  writeFileSync(join(folder, 'cone.json'), JSON.stringify({ ...fiducialParams, omegaM: 0.9 }));
  await assert.rejects(
    source.load('cone.npy'),
    /cone\.json: the parameter JSON gives Ω_m \(omegaM\) = 0\.9, outside the prior \[0\.2, 0\.4\]/,
  );
  writeFileSync(join(folder, 'flat.npy'), writeNpy(new Float32Array(4), [2, 2]));
  await assert.rejects(
    source.load('flat.npy'),
    /flat\.npy: dataset "array" has shape \[2, 2\] \(rank 2\); expected rank 3/,
  );
  await assert.rejects(
    source.load('cone.npy', { start: 3, end: 9 }),
    /slice range \[3, 9\) is outside the cone's 5 slices/,
  );
  // A parameter file holding null (or any non-object) is refused by its first missing parameter.
  writeFileSync(join(folder, 'cone.json'), 'null');
  await assert.rejects(source.load('cone.npy'), /cone\.json: "mWDM" is undefined; expected a number \(keys: mWDM, /);
});

test('splits: by sorted id and seed, independent of input order, disjoint and complete', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `lc_${String(i).padStart(2, '0')}.npz`);
  const fractions = { train: 0.7, validation: 0.15, test: 0.15 };
  const split = splitByLightcone(ids, fractions, 42);
  assert.deepEqual(splitByLightcone([...ids].reverse(), fractions, 42), split);
  assert.equal(split.validation.length, 3);
  assert.equal(split.test.length, 3);
  assert.deepEqual([...split.train, ...split.validation, ...split.test].sort(), ids);
  assert.notDeepEqual(splitByLightcone(ids, fractions, 43), split);
  assert.throws(() => splitByLightcone(ids, { train: 0.5, validation: 0.1, test: 0.1 }, 1), /sum to 1/);
});
