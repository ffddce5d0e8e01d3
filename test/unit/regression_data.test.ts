// The regression data path: files opened by data/dataset.ts's openDataset, loaded by
// regression_data.ts's loadRegressionData (labels in any order the config gives, clear errors).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../../sidecar/data/dataset';
import { encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { fiducialParams, normalizeParams, type AstroParams, type ParameterName } from '../../sidecar/data/parameters';
import { loadRegressionData } from '../../sidecar/tasks/regression/regression_data';
import { resolveConfig } from '../../schemas/resolve_config';

const root = mkdtempSync(join(tmpdir(), 'l3m-regdata-'));
// The stores these tests convert go to a cache inside the temporary folder, removed with it, rather
// than into the user's dataset cache.
const previousCacheDir = process.env.L3M_CACHE_DIR;
process.env.L3M_CACHE_DIR = join(root, 'cache');
after(() => {
  if (previousCacheDir === undefined) delete process.env.L3M_CACHE_DIR;
  else process.env.L3M_CACHE_DIR = previousCacheDir;
  rmSync(root, { recursive: true, force: true });
});
const n = 4,
  nt = 12;

/** A label order that is neither the reference code's nor its README's. */
const permutedSchema = ['zeta', 'e_0', 'omega_m', 'm_wdm', 'log10_t_vir', 'log10_l_x'];
const permutedCanonical: ParameterName[] = ['zeta', 'E0', 'omegaM', 'mWDM', 'log10Tvir', 'log10LX'];

const coneParams = (c: number): AstroParams => ({
  ...fiducialParams,
  zeta: 20 + 10 * c,
  omegaM: 0.22 + 0.05 * c,
  E0: 300 + 100 * c,
});

/** `count` constant-slice .npz cones (slice k of cone c holds k + c) with labels in `order`. */
function writeCones(folder: string, count: number, order: ParameterName[]): void {
  mkdirSync(folder, { recursive: true });
  for (let c = 0; c < count; c++) {
    const image = new Float32Array(n * n * nt);
    for (let ij = 0; ij < n * n; ij++) for (let k = 0; k < nt; k++) image[ij * nt + k] = k + c;
    writeFileSync(
      join(folder, `lc${c}.npz`),
      encodeLightconeNpz(image, [n, n, nt], labelFromParams(coneParams(c), order)),
    );
  }
}

function config(files: Record<string, unknown>, splits = { validation_fraction: 0.25, test_fraction: 0.25, seed: 3 }) {
  return resolveConfig({
    name: 'regression-data-test',
    task: 'regression',
    backbone: { source: 'random' },
    data: {
      source: 'files',
      files: { transverse_cells: n, ...files },
      patch_size: 2,
      splits,
      preprocessing: { global_signal_tokens: 3 },
    },
  });
}

test('loadRegressionData: an npz label_order that is any permutation reads each parameter into its place', async () => {
  writeCones(join(root, 'permuted'), 4, permutedCanonical);
  const resolved = config({ format: 'npz', path: './permuted', label_order: permutedSchema });
  const { data } = await loadRegressionData(resolved, await openDataset(resolved.data, { configDir: root }));
  const splits = [data.train, data.validation, data.test];
  assert.deepEqual(
    splits.map((s) => s.ids.length),
    [2, 1, 1],
  );
  for (const split of splits) {
    split.ids.forEach((id, i) => {
      const expected = normalizeParams(coneParams(Number(/lc(\d)/.exec(id)![1])));
      const got = split.targets.subarray(i * 6, i * 6 + 6);
      for (let p = 0; p < 6; p++)
        assert.ok(Math.abs(got[p] - expected[p]) < 1e-6, `${id} parameter ${p}: ${got[p]} vs ${expected[p]}`);
    });
  }
  // The same files read in the default (code) order put ζ's value where m_WDM belongs, outside its prior.
  const defaultOrder = config({ format: 'npz', path: './permuted' });
  await assert.rejects(
    async () => loadRegressionData(defaultOrder, await openDataset(defaultOrder.data, { configDir: root })),
    /gives m_WDM \(mWDM\) = [2-5]0, outside the prior.*check the label order/,
  );
});

test('loadRegressionData: standardize off keeps the raw cosmic-time global signal', async () => {
  writeCones(join(root, 'raw'), 4, permutedCanonical);
  const resolved = config({ format: 'npz', path: './raw', label_order: permutedSchema });
  const unstandardized = {
    ...resolved,
    data: { ...resolved.data, preprocessing: { ...resolved.data.preprocessing, standardize: false } },
  };
  const { data, standardization } = await loadRegressionData(
    unstandardized,
    await openDataset(unstandardized.data, { configDir: root }),
  );
  assert.deepEqual(standardization.std, [1, 1, 1]);
  // 12 slices in 3 bins of 4, high z (file slice 11) first: bin b of cone c is mean(11 − 4b … 8 − 4b) + c = 9.5 − 4b + c.
  const c = Number(/lc(\d)/.exec(data.train.ids[0])![1]);
  assert.deepEqual(Array.from(data.train.tokens.subarray(0, 3)), [9.5 + c, 5.5 + c, 1.5 + c]);
});

test('opening and loading regression data: errors name the path or the setting and the fix', async () => {
  const missing = config({ format: 'hdf5', path: './nowhere' });
  await assert.rejects(
    openDataset(missing.data, { configDir: root }),
    (error: Error) =>
      error.message.includes(join(root, 'nowhere')) && /point it at a folder of hdf5 lightcones/.test(error.message),
  );
  mkdirSync(join(root, 'empty'));
  const empty = config({ format: 'hdf5', path: './empty' });
  await assert.rejects(
    openDataset(empty.data, { configDir: root }),
    /empty: no \.h5\/\.hdf5 files found; point data\.files\.path at a folder/,
  );
  writeCones(join(root, 'one'), 1, permutedCanonical);
  const single = config(
    { format: 'npz', path: './one', label_order: permutedSchema },
    { validation_fraction: 0.5, test_fraction: 0.5, seed: 1 },
  );
  await assert.rejects(
    async () => loadRegressionData(single, await openDataset(single.data, { configDir: root })),
    /none is left for training.*use more lightcones/,
  );
});
