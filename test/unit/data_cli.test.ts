import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sparkline } from '../../sidecar/cli/data';
import { buildGenerationCones, buildGenerationSet, openDataset } from '../../sidecar/data/dataset';
import { readNpy } from '../../sidecar/data/npy';
import { encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { fiducialParams } from '../../sidecar/data/parameters';
import { loadRegressionData } from '../../sidecar/tasks/regression/regression_data';
import { resolveConfig } from '../../schemas/resolve_config';
import { parseJson, readJson } from '../read_json';

/** The parts of `l3m data --json` and of the preview's index.json that these tests read. */
interface DataSummary {
  lightcones: number;
  split: { train: number; validation: number; test: number };
  coverage: { name: string; min: number; max: number; mean: number }[];
  meanGlobalSignal: number[];
}
interface PreviewIndex {
  files: { file: string; slice: number }[];
}

const root = mkdtempSync(join(tmpdir(), 'l3m-datacli-'));
// The stores these tests convert go to a cache inside the temporary folder, removed with it, rather
// than into the user's dataset cache.
const previousCacheDir = process.env.L3M_CACHE_DIR;
process.env.L3M_CACHE_DIR = join(root, 'cache');
after(() => {
  if (previousCacheDir === undefined) delete process.env.L3M_CACHE_DIR;
  else process.env.L3M_CACHE_DIR = previousCacheDir;
  rmSync(root, { recursive: true, force: true });
});
const n = 28,
  nt = 60;

/** Four .npz cones whose slice k has the constant value (k + 1)·(cone + 1), ζ varying per cone. */
function writeDataset(): void {
  mkdirSync(join(root, 'lcs'));
  for (let c = 0; c < 4; c++) {
    const image = new Float32Array(n * n * nt);
    for (let ij = 0; ij < n * n; ij++) for (let k = 0; k < nt; k++) image[ij * nt + k] = (k + 1) * (c + 1);
    writeFileSync(
      join(root, 'lcs', `lc${c}.npz`),
      encodeLightconeNpz(image, [n, n, nt], labelFromParams({ ...fiducialParams, zeta: 20 + 10 * c })),
    );
  }
}
writeDataset();

const rawConfig = {
  name: 'cli-test',
  task: 'regression',
  backbone: { source: 'random' },
  data: {
    source: 'files',
    files: { format: 'npz', path: './lcs', transverse_cells: n },
    patch_size: 14,
    splits: { validation_fraction: 0.25, test_fraction: 0.25, seed: 1 },
    preprocessing: { global_signal_tokens: 6 },
  },
};
writeFileSync(join(root, 'exp.l3m.json'), JSON.stringify(rawConfig));

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => {
    out.push(a.join(' '));
  };
  console.error = (...a: unknown[]) => {
    err.push(a.join(' '));
  };
  try {
    return { code: await fn(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('sparkline spans the range with the lowest and highest bars', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([5, 5, 5]).length, 3);
});

test('l3m data: summary of an npz dataset and preview slices written as .npy', async () => {
  const out = join(root, 'preview');
  const result = await capture(() => run([join(root, 'exp.l3m.json'), '--out', out, '--slices', '3', '--json']));
  assert.equal(result.code, 0, result.err);
  const summary = parseJson<DataSummary>(result.out);
  assert.equal(summary.lightcones, 4);
  assert.deepEqual(summary.split, { train: 2, validation: 1, test: 1 });
  const zeta = summary.coverage.find((c) => c.name === 'zeta');
  assert.ok(zeta, JSON.stringify(summary.coverage));
  assert.deepEqual([zeta.min, zeta.max, zeta.mean], [20, 50, 35]);
  // Mean global signal of slice k = (k + 1)·mean(cone + 1) = 2.5 (k + 1).
  assert.equal(summary.meanGlobalSignal[9], 25);
  const index = readJson<PreviewIndex>(join(out, 'index.json'));
  assert.deepEqual(
    index.files.map((f) => f.slice),
    [0, 30, 59],
  );
  const slice = readNpy(readFileSync(join(out, index.files[1].file)), 'slice');
  assert.deepEqual(slice.shape, [n, n]);
  assert.equal(slice.data[0], 31); // lc0, slice 30 → value 31

  const text = await capture(() => run([join(root, 'exp.l3m.json'), '--out', out]));
  assert.match(text.out, /4 lightcones of 28×28×60/);
  assert.match(text.out, /Parameter coverage/);
  const bad = await capture(() => run([join(root, 'missing.l3m.json')]));
  assert.equal(bad.code, 1);
  assert.equal((await capture(() => run(['--bogus']))).code, 2);
});

test('dataset: regression set standardised on train; generation cones flipped to cosmic time', async () => {
  const config = resolveConfig(rawConfig);
  const opened = await openDataset(config.data, { configDir: root });
  const { data, standardization } = await loadRegressionData(config, opened);
  assert.equal(data.train.ids.length, 2);
  assert.equal(data.tokenCount, 6);
  assert.equal(data.train.tokens.length, 2 * 6);
  // Standardised over the training split: each token position has mean 0.
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(data.train.tokens[i] + data.train.tokens[6 + i]) < 1e-5);
  // Cosmic-time order, bins of 60 / 6 = 10 slices: token b of cone c averages file slices 59 − 10b … 50 − 10b,
  // (55.5 − 10b)(c + 1); the fitted means are those values averaged over the training cones.
  const trainScale = data.train.ids.reduce((sum, id) => sum + Number(/lc(\d)/.exec(id)![1]) + 1, 0) / 2;
  for (let b = 0; b < 6; b++) assert.ok(Math.abs(standardization.mean[b] - (55.5 - 10 * b) * trainScale) < 1e-9);
  const noTrim = { ...config.data, preprocessing: { ...config.data.preprocessing, trim: false } };
  const cones = buildGenerationCones(opened, noTrim, ['lc1.npz'], { kind: 'log1p' });
  // Cosmic-time order: the first slice is the highest redshift (file slice nt − 1, value 2·nt), then log1p-transformed.
  assert.ok(Math.abs(cones[0].readSlices(0, 1)[0] - (Math.log1p(2 * nt) + 1.51) / 2.74) < 1e-6);
  assert.equal(cones[0].nt, nt);
  const generation = buildGenerationSet(opened, {
    ...noTrim,
    preprocessing: { ...noTrim.preprocessing, slice_transform: 'sgn_log' },
  });
  assert.equal(generation.train.length, 2);
  assert.equal(generation.transform?.kind, 'log');
  // The 'sgn_log' statistics standardise the training voxels: mean ≈ 0 over the training cones.
  let sum = 0;
  let count = 0;
  for (const cone of generation.train)
    for (const v of cone.readSlices(0, cone.nt)) {
      sum += v;
      count++;
    }
  assert.ok(Math.abs(sum / count) < 1e-4);
});
