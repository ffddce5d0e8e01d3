import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyAugmentation,
  dihedralGroup,
  invertAugmentation,
  randomAugmentation,
  type Augmentation,
} from '../../sidecar/data/augmentation';
import { epochBatches, memoryCone, regressionBatch } from '../../sidecar/data/batches';
import { evaluationWindows, windowBatch } from '../../sidecar/tasks/generation/generation_data';
import { fiducialParams, normalizeParams } from '../../sidecar/data/parameters';
import {
  binnedMeans,
  fitLogStandardization,
  fitStandardization,
  globalSignalTokens,
  inverseTransformVoxels,
  patchMeanTokens,
  standardize,
  toCosmicTimeOrder,
  transformVoxels,
  trimLateZeros,
  unstandardize,
} from '../../sidecar/data/preprocessing';
import { randomInt, seededRandom } from '../../sidecar/data/splits';
import {
  detokenize,
  nl1Code,
  nl2Code,
  patchify,
  tokenizeSlices,
  tokenLayout,
  tokensPerSlice,
  unpatchify,
} from '../../sidecar/data/tokenization';
import type { LightconeRecord } from '../../sidecar/data/lightcone_record';

function randomSlices(n: number, nt: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n * n * nt }, () => random() * 60 - 30);
}

test('global signal: 2350 slices in bins of 50 give 47 tokens, each the mean of its slices', () => {
  const nt = 2370;
  const record = { brightness: new Float32Array(2 * 2 * nt), shape: { nx: 2, ny: 2, nt } };
  for (let k = 0; k < nt; k++) record.brightness.fill(k, k * 4, (k + 1) * 4);
  const tokens = globalSignalTokens({ ...record, shape: { nx: 2, ny: 2, nt: 2350 } });
  assert.equal(tokens.length, 47);
  assert.equal(tokens[0], 24.5);
  assert.equal(tokens[46], 46 * 50 + 24.5);
  // The remainder (2370 mod 50 = 20 slices) is dropped.
  assert.equal(globalSignalTokens(record).length, 47);
  assert.throws(() => binnedMeans([1, 2], 50), /fewer than one bin of 50/);
});

test('standardisation with stored statistics round-trips', () => {
  const rows = [
    [1, 10],
    [3, 10],
    [5, 10],
  ];
  const stats = fitStandardization(rows);
  assert.deepEqual(stats.mean, [3, 10]);
  assert.equal(stats.std[1], 1); // constant column left unscaled
  const z = standardize(rows[2], stats);
  assert.ok(Math.abs(z[0] - 2 / Math.sqrt(8 / 3)) < 1e-6);
  assert.deepEqual(
    Array.from(unstandardize(z, stats)).map((v) => Math.round(v * 1e5) / 1e5),
    [5, 10],
  );
});

test('patch-mean tokens average t×x×y blocks in (t, x, y) order', () => {
  const nx = 4,
    ny = 4,
    nt = 4;
  const brightness = new Float32Array(nx * ny * nt);
  for (let k = 0; k < nt; k++)
    for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) brightness[(k * nx + i) * ny + j] = 100 * k + 10 * i + j;
  const { tokens, grid } = patchMeanTokens({ brightness, shape: { nx, ny, nt } }, { t: 2, x: 2, y: 4 });
  assert.deepEqual(grid, [2, 2, 1]);
  // Block (0, 0, 0): k ∈ {0,1}, i ∈ {0,1}, j ∈ 0..3 → mean 50 + 5 + 1.5.
  assert.deepEqual(Array.from(tokens), [56.5, 76.5, 256.5, 276.5]);
});

test("voxel transforms: log1p with the reference constants and the paper's log (0 ↦ 0) invert exactly", () => {
  const values = Float32Array.from([-120, -1.5, -0.2, 0, 0.3, 7, 45]);
  const log1p = transformVoxels(values, { kind: 'log1p' });
  assert.ok(Math.abs(log1p[3] - 1.51 / 2.74) < 1e-6);
  assert.ok(Math.abs(log1p[6] - (Math.log1p(45) + 1.51) / 2.74) < 1e-6);
  const stats = fitLogStandardization([values]);
  const logged = transformVoxels(values, { kind: 'log', ...stats });
  assert.ok(logged.every(Number.isFinite));
  for (const [kind, out, extra] of [
    ['log1p', log1p, {}],
    ['log', logged, stats],
  ] as const) {
    const back = inverseTransformVoxels(out, { kind, ...extra });
    values.forEach((v, i) => {
      // Eq. 38 folds (−1, 1) onto the |x| ≥ 1 branch (−0.2 and 5 share a value); only log1p is a bijection.
      if (kind === 'log' && v !== 0 && Math.abs(v) < 1) assert.ok(Math.abs(back[i] + 1 / v) < 1e-4);
      else assert.ok(Math.abs(back[i] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `${kind} ${v} → ${back[i]}`);
    });
  }
});

test('cosmic-time order flips slices and redshifts; trimming keeps 100 late zero slices', () => {
  const nt = 300;
  const brightness = new Float32Array(nt * 4);
  for (let k = 0; k < 150; k++) brightness.fill(k + 1, k * 4, (k + 1) * 4);
  const record: LightconeRecord = {
    id: 'a',
    brightness,
    shape: { nx: 2, ny: 2, nt },
    params: fiducialParams,
    source: 't',
    firstSlice: 0,
    redshifts: Float64Array.from({ length: nt }, (_, k) => 5 + k),
  };
  // File order: low z first, the zeros sit at high z (k ≥ 150); after the flip they come first.
  const flipped = toCosmicTimeOrder(record);
  assert.equal(flipped.redshifts![0], 5 + nt - 1);
  assert.equal(flipped.brightness[(nt - 1) * 4], 1);
  // A cone whose late (low-z) end is zero: 150 signal slices then 150 zeros → keep 100 zeros.
  const trimmed = trimLateZeros(brightness, record.shape, 100);
  assert.equal(trimmed.shape.nt, 250);
  assert.equal(trimLateZeros(brightness, record.shape, 500).shape.nt, nt);
});

test('patches: 14×14 row-major within a patch, patchify/unpatchify round trip', () => {
  const n = 28,
    nt = 3;
  const slices = randomSlices(n, nt, 1);
  const patches = patchify(slices, n, n, nt, 14);
  // Patch (k=1, a=1, b=0), voxel (u=2, v=5) = slice 1 at x = 14 + 2, y = 5.
  assert.equal(patches[((1 * 2 + 1) * 2 + 0) * 196 + 2 * 14 + 5], slices[(1 * n + 16) * n + 5]);
  assert.deepEqual(unpatchify(patches, n, n, nt, 14), slices);
  assert.throws(() => patchify(slices, n, n, nt, 12), /patch size 12 does not divide the 28×28 slice/);
});

test('token layout: 111 tokens per 140² slice; separators placed per convention; detokenize inverts', () => {
  assert.equal(tokensPerSlice(10, 10), 111);
  const paper = tokenLayout(2, 2, 3, 'paper').tokens;
  assert.deepEqual(Array.from(paper.subarray(0, 9)), [0, 1, 2, nl1Code, 3, 4, 5, nl1Code, nl2Code]);
  const reference = tokenLayout(1, 2, 3, 'reference').tokens;
  assert.deepEqual(Array.from(reference), [0, 1, 2, nl2Code, 3, 4, 5, nl2Code, nl1Code]);
  const n = 28,
    nt = 4;
  const slices = randomSlices(n, nt, 2);
  for (const convention of ['paper', 'reference'] as const) {
    const tokenized = tokenizeSlices(slices, n, n, nt, 14, convention);
    assert.equal(tokenized.layout.tokens.length, nt * tokensPerSlice(2, 2));
    assert.deepEqual(detokenize(tokenized), slices);
  }
  const broken = tokenizeSlices(slices, n, n, nt, 14);
  broken.layout.tokens[2] = nl2Code;
  assert.throws(() => detokenize(broken), /token 2 is -2 but the paper layout expects -1/);
});

test('augmentation: all 8 symmetries and translations invert exactly and are distinct', () => {
  const n = 6,
    nt = 2;
  const slices = randomSlices(n, nt, 3);
  const seen = new Set<string>();
  for (const a of dihedralGroup) {
    const out = applyAugmentation(slices, n, nt, a);
    seen.add(Array.from(out.subarray(0, n * n)).join(','));
    assert.deepEqual(invertAugmentation(out, n, nt, a), slices);
    assert.deepEqual([...out].sort(), [...slices].sort()); // a permutation of the voxels
  }
  assert.equal(seen.size, 8);
  // rot90 once matches numpy: out[i, j] = in[j, n−1−i].
  const rotated = applyAugmentation(slices, n, nt, { rotations: 1, transpose: false, shiftX: 0, shiftY: 0 });
  assert.equal(rotated[1 * n + 4], slices[4 * n + (n - 1 - 1)]);
  // A translation is periodic: shifting by n is the identity.
  assert.deepEqual(
    applyAugmentation(slices, n, nt, { rotations: 0, transpose: false, shiftX: n, shiftY: 2 * n }),
    slices,
  );
  const random = seededRandom(9);
  for (let i = 0; i < 20; i++) {
    const a = randomAugmentation(random, n);
    assert.deepEqual(invertAugmentation(applyAugmentation(slices, n, nt, a), n, nt, a), slices);
  }
  assert.throws(() => applyAugmentation(new Float32Array(12), 2, 2, dihedralGroup[1]), /square slices; got 2×3/);
});

test('evaluation windows: data.sublightcone.length slices every stride (default length − context), whole windows only', () => {
  const cones = [32, 40].map((nt) =>
    memoryCone({ slices: new Float32Array(nt * 16), n: 4, nt, params: fiducialParams }),
  );
  const starts = (windows: { cone: number; start: number }[]) => windows.map((w) => [w.cone, w.start]);
  // The config's default stride (null) is length − context, so consecutive windows overlap by the context.
  assert.deepEqual(starts(evaluationWindows(cones, { length: 12, context: 2, stride: null }, 1)), [
    [0, 0],
    [0, 10],
    [0, 20],
  ]);
  assert.deepEqual(starts(evaluationWindows(cones, { length: 12, context: 2, stride: 12 }, -1)), [
    [0, 0],
    [0, 12],
    [1, 0],
    [1, 12],
    [1, 24],
  ]);
  // App. B's split as a config: 5 conditioning + 45 generated slices, stride 45; slices after the last whole window are left out.
  const appendixB = evaluationWindows([{ ...cones[0], nt: 200 }], { length: 50, context: 5, stride: 45 }, -1);
  assert.deepEqual(starts(appendixB), [
    [0, 0],
    [0, 45],
    [0, 90],
    [0, 135],
  ]);
  assert.deepEqual(evaluationWindows([{ ...cones[0], nt: 49 }], { length: 50, context: 5, stride: 45 }, -1), []);
});

test('batches: regression inputs and normalised targets; generation windows are seeded and augmented patches of the cone', () => {
  const samples = [0, 1, 2].map((i) => ({ tokens: Float32Array.from([i, i + 0.5]), params: fiducialParams }));
  const batch = regressionBatch(samples, [2, 0]);
  assert.deepEqual(Array.from(batch.inputs), [2, 2.5, 0, 0.5]);
  assert.deepEqual(Array.from(batch.targets.subarray(0, 6)), Array.from(normalizeParams(fiducialParams), Math.fround));
  const epoch = epochBatches(10, 4, 1, 0);
  assert.deepEqual(
    epoch.flat().sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.notDeepEqual(epoch, epochBatches(10, 4, 1, 1));
  assert.deepEqual(epoch, epochBatches(10, 4, 1, 0));

  const n = 28,
    nt = 30;
  const cones = [0, 1].map((i) => memoryCone({ slices: randomSlices(n, nt, 10 + i), n, nt, params: fiducialParams }));
  // A training batch as generation_data.trainingBatch draws it: seeded windows and augmentations.
  const draw = (random: () => number) => {
    const windows = [0, 1, 2].map(() => ({
      cone: randomInt(random, cones.length),
      start: randomInt(random, nt - 12 + 1),
    }));
    const augmentations: Augmentation[] = [];
    const batch = windowBatch(cones, windows, 12, 14, () => {
      const drawn = randomAugmentation(random, n);
      augmentations.push(drawn);
      return drawn;
    });
    return { batch, windows, augmentations };
  };
  const a = draw(seededRandom(5));
  const b = draw(seededRandom(5));
  assert.deepEqual(a.batch.patches, b.batch.patches);
  assert.equal(a.batch.patches.length, 3 * 12 * n * n);
  // Undo patching and augmentation of sample 0: it must equal the cone's window exactly.
  const sample = unpatchify(a.batch.patches.subarray(0, 12 * n * n), n, n, 12, 14);
  const restored = invertAugmentation(sample, n, 12, a.augmentations[0]);
  const cone = cones[a.windows[0].cone];
  const start = a.windows[0].start;
  assert.deepEqual(restored, cone.slices.slice(start * n * n, (start + 12) * n * n));
});
