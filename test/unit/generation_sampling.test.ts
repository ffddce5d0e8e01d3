// Sampling refuses bad requests before any work (no data read, no model built): a regression run, a
// run without a checkpoint, and more slices than the model's maximum sequence; bad numbers too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { prepareRun } from '../../sidecar/jobs/train_job';
import { sampleRun } from '../../sidecar/jobs/sample_job';
import type { SampleIndex } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { memoryCone } from '../../sidecar/data/batches';

const examples = join(import.meta.dirname, '..', '..', 'examples');

async function runFolder(example: string, runs: string): Promise<string> {
  // A copy of the example next to the runs, so its relative paths and name stay as they are.
  const config = join(runs, example);
  writeFileSync(config, readFileSync(join(examples, example)));
  return (await prepareRun(config, runs)).runDir;
}

test('sampling errors: regression run, no checkpoint, too many slices, bad numbers — all before any work', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'l3m-sample-'));
  const signal = new AbortController().signal;
  try {
    const regression = await runFolder('quickstart-regression.l3m.json', runs);
    await assert.rejects(
      sampleRun({ runDir: regression, lightcone: 0, contextSlices: 2, slices: 1 }, signal),
      /is a regression run; sampling needs a run of a task that generates lightcones \("generation"\)/,
    );

    const generation = await runFolder('quickstart-generation.l3m.json', runs);
    await assert.rejects(
      sampleRun({ runDir: generation, lightcone: 0, contextSlices: 2, slices: 1 }, signal),
      /has no checkpoint yet \(status queued\); train it/,
    );

    // A checkpoint whose metadata says 4×4 patches per slice (21 tokens) and 256 positions: 11 slices fit after the 8-token prompt.
    await saveCheckpoint({
      dir: join(generation, 'checkpoints'),
      name: 'best',
      step: 1,
      weights: [],
      config: qwen2Config({ hiddenSize: 32, numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 256 }),
      extra: { task: 'generation', transform: null, sliceScale: 100, n: 32, rows: 4, cols: 4, finetune: 'scratch' },
    });
    await assert.rejects(
      sampleRun({ runDir: generation, lightcone: 0, contextSlices: 8, slices: 4 }, signal),
      /8 context \+ 4 generated slices exceed the model's maximum sequence of 11 slices \(max_position_embeddings 256\)/,
    );
    await assert.rejects(
      sampleRun({ runDir: generation, lightcone: -1, contextSlices: 2, slices: 1 }, signal),
      /lightcone must be an integer ≥ 0, got -1/,
    );
    await assert.rejects(
      sampleRun({ runDir: generation, lightcone: 0, contextSlices: 2, slices: 0 }, signal),
      /slices must be an integer ≥ 1, got 0/,
    );
    await assert.rejects(
      sampleRun({ runDir: join(runs, 'nowhere'), lightcone: 0, contextSlices: 2, slices: 1 }, signal),
      /nowhere/,
    );
  } finally {
    rmSync(runs, { recursive: true, force: true });
  }
});

test('a forecast writes growing .npy files (truth with its context, generated) in mK and an index entry; a drifting forecast is said once', async () => {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const { Qwen2Model } = await import('../../sidecar/model/qwen2_model');
  const { GenerationModel } = await import('../../sidecar/tasks/generation/generation_model');
  const { buildGenerationPrompt } = await import('../../sidecar/tasks/generation/generation_prompt');
  const { forecastLightcone } = await import('../../sidecar/tasks/generation/lightcone_forecast');
  const { readNpy } = await import('../../sidecar/data/npy');
  const { transformVoxels } = await import('../../sidecar/data/preprocessing');
  const { fiducialParams } = await import('../../sidecar/data/parameters');
  const backbone = Qwen2Model.random(
    qwen2Config({
      vocabSize: 8,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      numKeyValueHeads: 1,
      intermediateSize: 16,
      maxPositionEmbeddings: 128,
      tieWordEmbeddings: true,
    }),
    1,
  );
  const linear = { kind: 'linear' as const, depth: 0, width: 0 };
  const model = new GenerationModel(backbone, {
    prompt: buildGenerationPrompt({ template: 'minimal', systemTokens: 0, timeStep: true, chatIds: null }),
    patchSize: 2,
    rows: 2,
    cols: 2,
    lightconeConnector: linear,
    parameterConnector: linear,
    timeStepConnector: linear,
    head: { channels: 4, blocks: 1, residualFactor: 2, kernelSize: 3, condChannels: 1 },
    finetune: 'frozen',
    trainNorms: false,
    seed: 1,
  });
  const mK = Float32Array.from({ length: 6 * 16 }, (_, i) => 20 * Math.sin(i / 7));
  const transform = { kind: 'log1p' as const };
  // Redshifts in cosmic-time order (falling), one per slice, as a stored cone gives them.
  const coneRedshifts = [12, 11, 10, 9, 8, 7];
  const cone = {
    ...memoryCone({ slices: transformVoxels(mK, transform), n: 4, nt: 6, params: fiducialParams }),
    redshifts: (start: number, end: number) => coneRedshifts.slice(start, end),
  };
  const runDir = mkdtempSync(join(tmpdir(), 'l3m-forecast-'));
  try {
    const seen: number[] = [];
    const entry = await forecastLightcone(model, {
      runDir,
      cone,
      lightcone: 3,
      firstSlice: 1,
      contextSlices: 2,
      slices: 2,
      seed: 5,
      checkpointStep: 40,
      boxMpc: 12.5,
      ode: { solver: 'euler', steps: 2 },
      patchSize: 2,
      sliceScale: 6,
      transform,
      onSlice: (done) => seen.push(done),
    });
    assert.deepEqual(seen, [1, 2]);
    assert.equal(entry.firstSlice, 3);
    // The entry records the checkpoint step, the slice side, and the redshift of each truth slice (context included).
    assert.equal(entry.checkpointStep, 40);
    assert.equal(entry.boxMpc, 12.5);
    assert.deepEqual(entry.redshifts, [11, 10, 9, 8]);
    assert.equal(entry.generated, 'lc003-t0003-seed5-step000040.generated.npy');
    const truth = readNpy(readFileSync(join(runDir, 'samples', entry.truth)), entry.truth);
    const generated = readNpy(readFileSync(join(runDir, 'samples', entry.generated)), entry.generated);
    assert.deepEqual(truth.shape, [4, 4, 4]);
    assert.deepEqual(generated.shape, [2, 4, 4]);
    truth.data.forEach((v, i) =>
      assert.ok(Math.abs(v - mK[16 + i]) < 1e-3, `truth voxel ${i}: ${v} vs ${mK[16 + i]} mK`),
    );
    assert.ok(Array.from(generated.data).every(Number.isFinite));
    const index = readJson<SampleIndex>(join(runDir, 'samples', 'index.json'));
    assert.equal(index.entries.length, 1);
    assert.equal(index.entries[0].generated, entry.generated);
    assert.equal(index.entries[0].checkpointStep, 40);
    assert.deepEqual(index.entries[0].redshifts, [11, 10, 9, 8]);

    // The same stretch sampled from a later checkpoint is a second entry beside the first, not a replacement.
    const later = await forecastLightcone(model, {
      runDir,
      cone,
      lightcone: 3,
      firstSlice: 1,
      contextSlices: 2,
      slices: 1,
      seed: 5,
      checkpointStep: 80,
      ode: { solver: 'euler', steps: 2 },
      patchSize: 2,
      sliceScale: 6,
      transform,
    });
    const both = readJson<SampleIndex>(join(runDir, 'samples', 'index.json'));
    assert.deepEqual(
      both.entries.map((e) => [e.generated, e.checkpointStep]),
      [
        [entry.generated, 40],
        [later.generated, 80],
      ],
    );
    assert.equal(later.boxMpc, undefined, 'no side length is recorded when the dataset does not give one');

    // The true slices never count as drifting; a value more than half a span beyond their range does, in its slice.
    const { driftingSlice, forecastBounds } = await import('../../sidecar/tasks/generation/lightcone_forecast');
    const bounds = forecastBounds(cone);
    assert.equal(driftingSlice(bounds, cone.slices, 16), null);
    const shifted = cone.slices.slice(0, 32);
    const span = Math.max(...cone.slices) - Math.min(...cone.slices);
    shifted[20] = Math.max(...cone.slices) + 0.6 * span;
    assert.equal(driftingSlice(bounds, shifted, 16)?.index, 1);
    shifted[20] = Math.max(...cone.slices) + 0.4 * span;
    assert.equal(driftingSlice(bounds, shifted, 16), null);

    // A velocity field far off the data (bias 100 per τ) drives every generated value out of the true
    // cone's range: said once, naming the first slice and a value in mK.
    model.cnn.convOutBias.assign(tf.fill([1], 100));
    const warnings: string[] = [];
    await forecastLightcone(model, {
      runDir,
      cone,
      lightcone: 3,
      firstSlice: 1,
      contextSlices: 2,
      slices: 2,
      seed: 6,
      checkpointStep: 40,
      ode: { solver: 'euler', steps: 2 },
      patchSize: 2,
      sliceScale: 6,
      transform,
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0],
      /^Generated slice 1 of test lightcone 3 leaves the true lightcone's range \(a value of [^,]+ mK[^,]*, outside -?\d+ mK … -?\d+ mK\): the forecast drifts/,
    );
    assert.match(warnings[0], /a value of \+∞ mK \(beyond float32\)/);
  } finally {
    model.dispose();
    rmSync(runDir, { recursive: true, force: true });
  }
});

test("a stored cone gives its slices' redshifts in cosmic-time order, as its slices are read", async () => {
  const { resolveConfig } = await import('../../schemas/resolve_config');
  const { openDataset, buildGenerationCones } = await import('../../sidecar/data/dataset');
  const { writeNpy } = await import('../../sidecar/data/npy');
  const { fiducialParams } = await import('../../sidecar/data/parameters');
  const root = mkdtempSync(join(tmpdir(), 'l3m-cone-redshifts-'));
  const previousCacheDir = process.env.L3M_CACHE_DIR;
  process.env.L3M_CACHE_DIR = join(root, 'cache');
  const n = 4;
  const nt = 5;
  // Files store slice 0 at the lowest redshift; each slice holds its index + 1, so order is visible.
  const stored = [6, 7, 8, 9, 10];
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'lcs'));
    for (let c = 0; c < 4; c++) {
      const image = new Float32Array(n * n * nt);
      for (let ij = 0; ij < n * n; ij++) for (let k = 0; k < nt; k++) image[ij * nt + k] = k + 1;
      writeFileSync(join(root, 'lcs', `lc${c}.npy`), writeNpy(image, [n, n, nt]));
      writeFileSync(join(root, 'lcs', `lc${c}.json`), JSON.stringify({ ...fiducialParams, redshifts: stored }));
    }
    const config = resolveConfig({
      name: 'redshifts',
      task: 'generation',
      backbone: { source: 'random' },
      data: {
        source: 'files',
        files: { format: 'npy', path: './lcs', transverse_cells: n },
        patch_size: 2,
        splits: { validation_fraction: 0.25, test_fraction: 0.25, seed: 1 },
        sublightcone: { length: 4, context: 1 },
        preprocessing: { slice_transform: 'none', trim: false },
      },
    });
    const opened = await openDataset(config.data, { configDir: root });
    try {
      const [cone] = buildGenerationCones(opened, config.data, [opened.ids[0]], undefined);
      assert.deepEqual(cone.redshifts?.(0, 5), [10, 9, 8, 7, 6]);
      assert.deepEqual(cone.redshifts?.(1, 3), [9, 8]);
      // The first cosmic-time slice is the highest-redshift one, holding stored slice nt − 1.
      assert.equal(cone.readSlices(1, 2)[0], 4);
    } finally {
      await opened.store.close();
    }
  } finally {
    if (previousCacheDir === undefined) delete process.env.L3M_CACHE_DIR;
    else process.env.L3M_CACHE_DIR = previousCacheDir;
    rmSync(root, { recursive: true, force: true });
  }
});
