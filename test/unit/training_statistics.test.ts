// Generation's training statistics (the 'sgn_log' shift and scale, the mean patch) are kept in the
// dataset's store (sidecar/data/store/training_statistics.ts): the first load computes them in its
// streaming pass and stores them; the next load of the same data reads them, bit for bit the same; a
// change of anything they depend on (the split, the transform, the trim, the patch size) is another key;
// a damaged file is computed again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGenerationSet, openDataset } from '../../sidecar/data/dataset';
import { encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { fiducialParams } from '../../sidecar/data/parameters';
import type { SliceTransformOptions } from '../../sidecar/data/preprocessing';
import { loadGenerationData, meanPatch } from '../../sidecar/tasks/generation/generation_data';
import { resolveConfig } from '../../schemas/resolve_config';

const root = mkdtempSync(join(tmpdir(), 'l3m-statistics-'));
const previousCacheDir = process.env.L3M_CACHE_DIR;
process.env.L3M_CACHE_DIR = join(root, 'cache');
after(() => {
  if (previousCacheDir === undefined) delete process.env.L3M_CACHE_DIR;
  else process.env.L3M_CACHE_DIR = previousCacheDir;
  rmSync(root, { recursive: true, force: true });
});

const n = 16,
  nt = 40,
  zeroSlices = 10;

/** Six .npz cones of noisy voxels with zeros, their lowest-redshift slices all zero (what trim cuts). */
function writeCones(): void {
  mkdirSync(join(root, 'lcs'));
  let state = 7;
  for (let c = 0; c < 6; c++) {
    const image = new Float32Array(n * n * nt);
    for (let ij = 0; ij < n * n; ij++) {
      for (let k = zeroSlices; k < nt; k++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        image[ij * nt + k] = state % 5 === 0 ? 0 : (state / 2 ** 32) * 60 - 30;
      }
    }
    writeFileSync(
      join(root, 'lcs', `lc${c}.npz`),
      encodeLightconeNpz(image, [n, n, nt], labelFromParams({ ...fiducialParams, zeta: 20 + c })),
    );
  }
}
writeCones();

const baseConfig = {
  name: 'statistics',
  task: 'generation',
  backbone: { source: 'random' },
  data: {
    source: 'files',
    files: { format: 'npz', path: './lcs', transverse_cells: n },
    patch_size: 8,
    splits: { validation_fraction: 0.2, test_fraction: 0.2, seed: 1 },
    sublightcone: { length: 12, context: 2 },
    preprocessing: { slice_transform: 'sgn_log', standardize: true, trim: true, trim_keep_slices: 5 },
  },
};

type Variation = { patch_size?: number; splits?: object; preprocessing?: object };
function configWith(variation: Variation = {}) {
  return resolveConfig({
    ...baseConfig,
    data: {
      ...baseConfig.data,
      ...variation,
      preprocessing: { ...baseConfig.data.preprocessing, ...variation.preprocessing },
    },
  });
}

async function load(variation?: Variation) {
  const data = await loadGenerationData(configWith(variation), root);
  await data.close?.();
  return { transform: data.transform, meanPatch: data.meanPatch };
}

/** Every statistics file of every store of the test's cache. */
function statisticsFiles(): string[] {
  const stores = join(root, 'cache', 'datasets', 'stores');
  return readdirSync(stores)
    .map((store) => join(stores, store, 'statistics'))
    .filter((folder) => existsSync(folder))
    .flatMap((folder) => readdirSync(folder).map((name) => join(folder, name)));
}

/** The transform's numbers and the mean patch as bits, so that equal means bit for bit. */
function bits(statistics: { transform: SliceTransformOptions | undefined; meanPatch: Float32Array }) {
  const { transform } = statistics;
  return {
    kind: transform?.kind,
    shiftBits: transform?.shift === undefined ? undefined : Buffer.from(Float64Array.of(transform.shift).buffer),
    scaleBits: transform?.scale === undefined ? undefined : Buffer.from(Float64Array.of(transform.scale).buffer),
    meanPatch: Buffer.from(
      statistics.meanPatch.buffer,
      statistics.meanPatch.byteOffset,
      statistics.meanPatch.byteLength,
    ),
  };
}

/** The statistics computed by the streaming pass itself, with no stored file involved. */
async function computedDirectly(variation?: Variation) {
  const config = configWith(variation);
  const opened = await openDataset(config.data, { configDir: root });
  const set = buildGenerationSet(opened, config.data);
  const statistics = { transform: set.transform, meanPatch: meanPatch(set.train, config.data.patch_size) };
  await opened.store.close();
  return statistics;
}

test('training statistics: the first load stores them in the store, the next reads them back bit for bit', async () => {
  const first = await load();
  const files = statisticsFiles();
  assert.equal(files.length, 1, `one statistics file after the first load: ${files.join(', ')}`);
  assert.equal(first.transform?.kind, 'log');
  assert.ok(first.transform.scale !== 1 && first.transform.shift !== 0, 'sgn_log statistics were fitted');
  assert.deepEqual(bits(first), bits(await computedDirectly()), 'the stored pass gives what the pass gives');

  const second = await load();
  assert.deepEqual(bits(second), bits(first));
  assert.equal(statisticsFiles().length, 1, 'the second load added no file');

  // The second load read the file rather than streaming the cones again: values changed in the file
  // come back as changed.
  const record = JSON.parse(readFileSync(files[0], 'utf8')) as {
    transform: { shift: number; scale: number };
    meanPatch: number[];
  };
  record.transform.shift += 1;
  record.meanPatch[0] += 1;
  writeFileSync(files[0], JSON.stringify(record));
  const third = await load();
  assert.equal(third.transform?.shift, first.transform.shift! + 1);
  assert.equal(third.meanPatch[0], Math.fround(first.meanPatch[0] + 1));

  // A damaged file is a miss: computed again, bit for bit, and stored whole again.
  writeFileSync(files[0], '{"format": 1, "key": "trunc');
  const fourth = await load();
  assert.deepEqual(bits(fourth), bits(first));
  assert.doesNotThrow(() => JSON.parse(readFileSync(files[0], 'utf8')) as unknown);
});

test('training statistics: another split, transform, trim or patch size is another key, each computed as the pass does', async () => {
  await load();
  const before = statisticsFiles().length;
  const variations: Variation[] = [
    { splits: { validation_fraction: 0.2, test_fraction: 0.2, seed: 2 } },
    { preprocessing: { slice_transform: 'sgn_log1p' } },
    { preprocessing: { standardize: false } },
    { preprocessing: { trim: false } },
    { preprocessing: { trim_keep_slices: 3 } },
    { patch_size: 4 },
  ];
  for (const [index, variation] of variations.entries()) {
    const loaded = await load(variation);
    assert.equal(statisticsFiles().length, before + index + 1, `a new file for ${JSON.stringify(variation)}`);
    assert.deepEqual(bits(loaded), bits(await computedDirectly(variation)), JSON.stringify(variation));
    assert.deepEqual(bits(await load(variation)), bits(loaded), `read back: ${JSON.stringify(variation)}`);
  }
});
