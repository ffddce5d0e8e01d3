// The generation task in the shared engine on synthetic cones the test makes: a short run learns
// (validation CFM loss falls, next-patch MSE below the mean-patch baseline), the finetune modes train
// the right variables, and the baselines are computed as defined.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { denormalizeParams } from '../../sidecar/data/parameters';
import { memoryCone, type MemoryCone } from '../../sidecar/data/batches';
import { meanPatch, windowPatches, type GenerationData } from '../../sidecar/tasks/generation/generation_data';
import { GenerationModel } from '../../sidecar/tasks/generation/generation_model';
import { buildGenerationPrompt } from '../../sidecar/tasks/generation/generation_prompt';
import { GenerationTask } from '../../sidecar/tasks/generation/generation_task';
import { evaluateNextPatch } from '../../sidecar/tasks/generation/next_patch_evaluation';
import { runLoop, type LoopSettings } from '../../sidecar/train/training_loop';
import { mulberry32 } from '../../sidecar/train/seeded_random';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import type { FinetuneMode } from '../../sidecar/model/finetune_groups';

before(async () => {
  await tf.setBackend('cpu');
});

const n = 4;
const nt = 8;
const patchSize = 2;

/** Cones whose voxels are a parameter-dependent level plus a little noise: the level is learnable from the parameter tokens and the context. */
function cones(count: number, seed: number): MemoryCone[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const normalised = Array.from({ length: 6 }, () => random());
    const level = 3 * (normalised[0] - 0.5);
    const slices = Float32Array.from({ length: nt * n * n }, () => level + 0.05 * (random() - 0.5));
    return memoryCone({ slices, n, nt, params: denormalizeParams(Float64Array.from(normalised)) });
  });
}

function makeData(make: (count: number, seed: number) => MemoryCone[] = cones): GenerationData {
  const train = make(24, 1);
  return {
    train: { ids: train.map((_, i) => `train-${i}`), cones: train },
    validation: { ids: ['val-0', 'val-1', 'val-2', 'val-3'], cones: make(4, 2) },
    test: { ids: ['test-0', 'test-1', 'test-2', 'test-3'], cones: make(4, 3) },
    transform: undefined,
    sliceScale: nt,
    n,
    patchSize,
    rows: 2,
    cols: 2,
    windowLength: 4,
    contextSlices: 2,
    stride: 4,
    trainWindows: train.flatMap((_, cone) => [
      { cone, start: 0 },
      { cone, start: 4 },
    ]),
    meanPatch: meanPatch(train, patchSize),
  };
}

/**
 * Cones whose slices follow x_t − L = a·(x_{t−1} − L) + σ·z per pixel around a parameter-dependent level
 * L, stationary with unit variance: the previous slice scores 2(1 − a), the mean patch 1 + Var(L), the
 * best forecast L + a·(x_{t−1} − L) scores σ² = 1 − a².
 */
function autoregressiveCones(count: number, seed: number, a: number): MemoryCone[] {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const sigma = Math.sqrt(1 - a * a);
  return Array.from({ length: count }, () => {
    const normalised = Array.from({ length: 6 }, () => random());
    const level = 3 * (normalised[0] - 0.5);
    const slices = new Float32Array(nt * n * n);
    for (let p = 0; p < n * n; p++) {
      let y = normal();
      for (let t = 0; t < nt; t++) {
        slices[t * n * n + p] = level + y;
        y = a * y + sigma * normal();
      }
    }
    return memoryCone({ slices, n, nt, params: denormalizeParams(Float64Array.from(normalised)) });
  });
}

function makeModel(finetune: FinetuneMode, lora = false, previousSliceResidual = false): GenerationModel {
  const backbone = Qwen2Model.random(
    qwen2Config({
      vocabSize: 8,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      numKeyValueHeads: 1,
      intermediateSize: 32,
      ropeTheta: 10000,
      maxPositionEmbeddings: 64,
      tieWordEmbeddings: true,
    }),
    2,
  );
  if (lora) backbone.addLora({ rank: 2, alpha: 4, seed: 1 });
  return new GenerationModel(backbone, {
    prompt: buildGenerationPrompt({ template: 'minimal', systemTokens: 0, timeStep: true, chatIds: null }),
    patchSize,
    rows: 2,
    cols: 2,
    lightconeConnector: { kind: 'linear', depth: 0, width: 0 },
    parameterConnector: { kind: 'linear', depth: 0, width: 0 },
    timeStepConnector: { kind: 'linear', depth: 0, width: 0 },
    head: { channels: 8, blocks: 1, residualFactor: 2, kernelSize: 3, condChannels: 2, previousSliceResidual },
    finetune,
    trainNorms: true,
    seed: 4,
  });
}

const ratios = { lightcone_connector: 1, parameter_connectors: 1, special_tokens: 1, head: 1, backbone: 1 };
const augmentation = { rotations: true, reflections: true, translations: true };

function settings(totalSteps: number): LoopSettings {
  return {
    lr: 0.01,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    batchSize: 8,
    accumulation: 1,
    stepsPerEpoch: 6,
    totalSteps,
    schedule: { warmup: 2, stable: totalSteps - 6, decay: 4 },
    maxGradNorm: 1,
    seed: 3,
    multiplicity: 1,
    validateEvery: 10,
    checkpointEvery: 0,
    keepCheckpoints: 1,
    earlyStopping: { enabled: false, patience: 3, minDelta: 0 },
    logEvery: 1,
  };
}

test('baselines: the previous-slice patch and the mean patch, as defined', () => {
  const data = makeData();
  const patches = windowPatches(data.train.cones[0], 0, nt, patchSize);
  assert.equal(patches.length, nt * n * n);
  const level = data.train.cones.map((c) => {
    const slices = c.readSlices(0, c.nt);
    return slices.reduce((a, b) => a + b, 0) / slices.length;
  });
  const expected = level.reduce((a, b) => a + b, 0) / level.length;
  for (const v of data.meanPatch) assert.ok(Math.abs(v - expected) < 1e-3);
});

test('a short run learns: validation CFM loss falls and the next-patch MSE beats the mean-patch baseline', async () => {
  const data = makeData();
  const model = makeModel('scratch');
  const task = new GenerationTask(model, data, {
    lrRatios: ratios,
    weightDecay: 1e-3,
    evalBatchSize: 8,
    augmentation,
    seed: 5,
    maxValidationWindows: 16,
  });
  const initial = (await task.validate()).loss;
  const dir = mkdtempSync(join(tmpdir(), 'l3m-gen-'));
  const records: MetricRecord[] = [];
  await runLoop(task, settings(60), {
    signal: new AbortController().signal,
    checkpointDir: dir,
    backboneConfig: model.backbone.config,
    metrics: (batch) => {
      records.push(...batch);
      return Promise.resolve();
    },
    progress: () => undefined,
    log: () => undefined,
  });
  const final = records.filter((r) => r.split === 'val').pop()!.loss as number;
  assert.ok(final < 0.6 * initial, `validation CFM loss ${initial} → ${final}`);
  const evaluation = await evaluateNextPatch(model, data, {
    lightcones: -1,
    samples: 2,
    batchSize: 8,
    ode: { solver: 'midpoint', steps: 4 },
    seed: 1,
  });
  assert.equal(evaluation.windows, 8);
  assert.equal(evaluation.perPosition.length, 4);
  assert.ok(
    evaluation.model.mse < evaluation.baselines.meanPatch.mse,
    `model ${evaluation.model.mse} vs mean patch ${evaluation.baselines.meanPatch.mse}`,
  );
  // The point forecast (ε + v(ε, 0)) has no sampling noise: below the samples' MSE and the mean patch's.
  assert.ok(
    evaluation.conditionalMean.mse < evaluation.model.mse &&
      evaluation.conditionalMean.mse < evaluation.baselines.meanPatch.mse,
    `conditional mean ${evaluation.conditionalMean.mse}, samples ${evaluation.model.mse}`,
  );
  assert.ok(evaluation.baselines.previousSlice.mse < 0.01, 'the previous slice is nearly the same here');
  assert.ok(
    evaluation.ensembleMean && evaluation.ensembleMean.mse <= evaluation.model.mse,
    'the mean of two samples scores at most one sample',
  );
  assert.ok(evaluation.crps.model && evaluation.crps.model.mean < evaluation.crps.meanPatch.mean);
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('with previous_slice_residual a short run forecasts better than both baselines where the past predicts the next slice', async () => {
  const a = 0.5;
  const data = makeData((count, seed) => autoregressiveCones(count, seed, a));
  const model = makeModel('scratch', false, true);
  const task = new GenerationTask(model, data, {
    lrRatios: ratios,
    weightDecay: 1e-3,
    evalBatchSize: 8,
    augmentation,
    seed: 5,
    maxValidationWindows: 16,
  });
  const dir = mkdtempSync(join(tmpdir(), 'l3m-gen-'));
  await runLoop(task, settings(160), {
    signal: new AbortController().signal,
    checkpointDir: dir,
    backboneConfig: model.backbone.config,
    metrics: () => Promise.resolve(),
    progress: () => undefined,
    log: () => undefined,
  });
  const evaluation = await evaluateNextPatch(model, data, {
    lightcones: -1,
    samples: 4,
    batchSize: 8,
    ode: { solver: 'midpoint', steps: 4 },
    seed: 1,
  });
  const { previousSlice, meanPatch } = evaluation.baselines;
  assert.ok(
    Math.abs(previousSlice.mse - 2 * (1 - a)) < 0.35,
    `previous slice ${previousSlice.mse}, expected about ${2 * (1 - a)}`,
  );
  const scores =
    `mean forecast ${evaluation.conditionalMean.mse}, ensemble ${evaluation.ensembleMean!.mse}, samples ${evaluation.model.mse}, previous ${previousSlice.mse}, mean patch ${meanPatch.mse}; ` +
    `CRPS ${evaluation.crps.model!.mean} vs ${evaluation.crps.previousSlice.mean}, ${evaluation.crps.meanPatch.mean}`;
  assert.ok(
    evaluation.conditionalMean.mse < previousSlice.mse && evaluation.conditionalMean.mse < meanPatch.mse,
    scores,
  );
  assert.ok(
    evaluation.crps.model!.mean < evaluation.crps.previousSlice.mean &&
      evaluation.crps.model!.mean < evaluation.crps.meanPatch.mean,
    scores,
  );
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('finetune modes: frozen trains no backbone weight, LoRA trains adapters and norms, full trains the blocks', () => {
  const names = (mode: FinetuneMode, lora = false) => {
    const model = makeModel(mode, lora);
    const groups = model.parameterGroups(ratios, 1e-3);
    const backbone = groups.find((g) => g.name === 'backbone')?.weights.length ?? 0;
    const total = model.trainableParameterCount();
    const keys = model.namedTrainableWeights().map(([k]) => k);
    model.dispose();
    return { backbone, total, keys };
  };
  const frozen = names('frozen');
  assert.equal(frozen.backbone, 0);
  const lora = names('lora', true);
  assert.ok(lora.keys.some((k) => k.includes('lora_A')) && lora.keys.some((k) => k.includes('input_layernorm')));
  assert.ok(!lora.keys.some((k) => k.endsWith('q_proj.weight')));
  const full = names('full');
  assert.ok(
    full.keys.includes('model.layers.0.self_attn.q_proj.weight') && !full.keys.includes('model.embed_tokens.weight'),
  );
  assert.ok(frozen.total < lora.total && lora.total < full.total);
});
