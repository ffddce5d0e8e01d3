// The WebGPU path against the pure-JavaScript cpu backend: the Qwen2 forward and backward, LoRA, the KV
// cache, the Gaussian head, the velocity CNN, one training step of each task, and our own kernels (on
// webgpu they take their composite fallbacks, and the conv2d gradients webgpu's own kernels).
//
// Without a GPU this runs on Mesa's software adapter (llvmpipe through Dawn's OpenGL ES backend), which
// executes the same WGSL shaders a GPU would; it is allowed here as runtime.allow_software_gpu allows it.
// Where no adapter exists the tests skip with the probe's reason, except in CI, which installs Mesa and
// where a missing adapter fails them.
//
// Tolerance: max |webgpu − cpu| ≤ 1e-4 × max |cpu| over each tensor (its scale, not each element, since an
// element near zero has no meaningful relative error). Both backends compute in float32 but sum in a
// different order (tiled matmul and tree reductions on the GPU, sequential loops on the cpu backend) and use
// different exp/log/sqrt. On llvmpipe the model pieces and kernels differ by at most 1e-6 of their scale and the
// generation step's gradients by 8e-6 (set L3M_PARITY_REPORT=1 to print the figures); a GPU's faster exp or
// fused multiply-add may add a few times that. 1e-4 leaves that margin, while a wrong kernel (a missing
// transpose, a dropped term, a read of an unwritten buffer) is off by order one. A training step compares the
// updated weights the same way, where Adam's first step moves each weight by about lr whatever the gradient's
// size, so a sign flip anywhere shows.
//
// The webgpu backend has no synchronous read in Node (tfjs-backend-webgpu's dataSync draws through an
// OffscreenCanvas), so every read here is `await data()`, and tensors move one way only: built on cpu,
// then used on webgpu.
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../sidecar/runtime/backends';
import { errorMessage } from '../../sidecar/protocol/error_message';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { KvCache } from '../../sidecar/model/kv_cache';
import { applyRotaryFused } from '../../sidecar/model/ops/rotary_kernel';
import { swiglu } from '../../sidecar/model/ops/swiglu_kernel';
import { linear } from '../../sidecar/model/ops/linear';
import { attentionOutput, attentionScores } from '../../sidecar/model/ops/attention_matmul';
import { gaussianNllLoss } from '../../sidecar/tasks/regression/gaussian_head';
import { VelocityCnn } from '../../sidecar/tasks/generation/velocity_cnn';
import { loadConfigFile } from '../../schemas/load_config';
import { taskDefinition, taskNames } from '../../sidecar/tasks/registry';
import { AdamOptimizer } from '../../sidecar/train/adam_optimizer';
import { opSeed } from '../../sidecar/train/seeded_random';
import {
  tinyConfig,
  tinyGenerationData,
  tinyGenerationModel,
  writeSyntheticLightcones,
} from '../integration/train_fixture';

const tolerance = 1e-4;
let unavailable: string | null = null;

before(async () => {
  try {
    await selectBackend('webgpu', { allowSoftwareGpu: true });
  } catch (error) {
    unavailable = errorMessage(error);
    if (process.env.CI === 'true')
      throw new Error(
        `CI installs Mesa (libegl1 libegl-mesa0 libgl1-mesa-dri), so WebGPU must run here: ${unavailable}`,
        { cause: error },
      );
  }
  await tf.setBackend('cpu');
});

/** A test that needs the webgpu backend; it skips with the reason where there is none. */
function gpuTest(name: string, body: () => Promise<void>): void {
  test(name, async (t: TestContext) => {
    if (unavailable !== null) {
      t.skip(`no WebGPU adapter, not even a software one: ${unavailable}`);
      return;
    }
    await tf.setBackend('cpu');
    await body();
    await tf.setBackend('cpu');
  });
}

/** Runs `compute` on cpu, then on webgpu, and returns both results' values (the tensors disposed). */
async function onBoth(compute: () => tf.Tensor[]): Promise<{ cpu: Float32Array[]; gpu: Float32Array[] }> {
  const run = async (backend: string): Promise<Float32Array[]> => {
    await tf.setBackend(backend);
    const outputs = compute();
    const values = await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
    tf.dispose(outputs);
    return values;
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu');
  return { cpu, gpu };
}

/** max |gpu − cpu| / max |cpu| (0 for two all-zero tensors). */
function scaledError(cpu: Float32Array, gpu: Float32Array): number {
  assert.equal(gpu.length, cpu.length, 'the same number of values');
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) {
    scale = Math.max(scale, Math.abs(cpu[i]));
    worst = Math.max(worst, Math.abs(gpu[i] - cpu[i]));
  }
  if (!Number.isFinite(worst)) return Infinity;
  return scale === 0 ? worst : worst / scale;
}

function assertClose(result: { cpu: Float32Array[]; gpu: Float32Array[] }, labels: string[]): void {
  assert.equal(result.cpu.length, labels.length);
  let largest = 0;
  for (let i = 0; i < labels.length; i++) {
    const error = scaledError(result.cpu[i], result.gpu[i]);
    largest = Math.max(largest, error);
    assert.ok(
      error <= tolerance,
      `${labels[i]}: webgpu differs from cpu by ${error.toExponential(2)} of its scale (tolerance ${tolerance})`,
    );
    assert.ok(
      result.cpu[i].some((v) => v !== 0),
      `${labels[i]}: the cpu result is not all zeros (a vacuous comparison)`,
    );
  }
  if (process.env.L3M_PARITY_REPORT)
    console.log(`largest scaled error over ${labels.length} tensors: ${largest.toExponential(2)}`);
}

const config = qwen2Config({
  vocabSize: 30,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  intermediateSize: 24,
  tieWordEmbeddings: true,
  ropeTheta: 10000,
});
const ids = () =>
  tf.tensor2d(
    [
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9, 10, 11, 12],
    ],
    [2, 6],
    'int32',
  );

/** Logits, the loss Σ logits·w for a fixed w, and its gradient for every variable in `variables`. */
function lossAndGradients(model: Qwen2Model, variables: [string, tf.Variable][]): tf.Tensor[] {
  const input = ids();
  const weight = tf.randomNormal([2, 6, config.vocabSize], 0, 1, 'float32', 5);
  const loss = () => tf.sum(tf.mul(model.forward({ inputIds: input, returnLogits: true }).logits!, weight));
  const logits = model.forward({ inputIds: input, returnLogits: true }).logits!;
  const { value, grads } = tf.variableGrads(
    () => loss() as tf.Scalar,
    variables.map(([, v]) => v),
  );
  tf.dispose([input, weight]);
  return [logits, value, ...variables.map(([, v]) => grads[v.name])];
}

gpuTest('Qwen2 forward and backward: logits, loss and every weight gradient', async () => {
  const model = Qwen2Model.random(config, 1);
  const weights = model.namedWeights();
  const result = await onBoth(() => lossAndGradients(model, weights));
  assertClose(result, ['logits', 'loss', ...weights.map(([name]) => `d loss / d ${name}`)]);
  model.dispose();
});

gpuTest('LoRA: the adapted forward and the adapters’ gradients', async () => {
  const model = Qwen2Model.random(config, 2);
  model.addLora({ rank: 2, alpha: 4 });
  // B starts at zero, which would make the adapted output equal the base one: give it values.
  for (const [name, v] of model.namedLoraWeights())
    if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 3));
  const lora = model.namedLoraWeights();
  const result = await onBoth(() => lossAndGradients(model, lora));
  assertClose(result, ['logits', 'loss', ...lora.map(([name]) => `d loss / d ${name}`)]);
  model.dispose();
});

gpuTest('KV cache: token-by-token decoding on webgpu equals the full pass on cpu', async () => {
  const model = Qwen2Model.random(config, 4);
  const result = await onBoth(() => {
    if (tf.getBackend() === 'cpu') return [model.forward({ inputIds: ids(), returnLogits: true }).logits!];
    const cache = new KvCache(config.numHiddenLayers);
    const all = ids();
    const pieces = Array.from(
      { length: 6 },
      (_, t) => model.forward({ inputIds: tf.slice(all, [0, t], [2, 1]), cache, returnLogits: true }).logits!,
    );
    const logits = tf.concat(pieces, 1);
    tf.dispose([...pieces, all]);
    cache.dispose();
    return [logits];
  });
  assertClose(result, ['logits (full pass on cpu, cached decoding on webgpu)']);
  model.dispose();
});

gpuTest('Gaussian head: the negative log-likelihood and its gradient', async () => {
  const raw = tf.randomNormal<tf.Rank.R2>([5, 27], 0, 0.5, 'float32', 6);
  const target = tf.randomNormal<tf.Rank.R2>([5, 6], 0, 1, 'float32', 7);
  const result = await onBoth(() => {
    const { value, grad } = tf.valueAndGrad((input: tf.Tensor) => gaussianNllLoss(input as tf.Tensor2D, target))(raw);
    return [value, grad];
  });
  assertClose(result, ['NLL', 'd NLL / d raw']);
  tf.dispose([raw, target]);
});

gpuTest('velocity CNN: the velocity and every weight gradient (conv2d gradients)', async () => {
  const cnn = new VelocityCnn({
    patchSize: 4,
    condChannels: 2,
    channels: 8,
    blocks: 2,
    residualFactor: 2,
    kernelSize: 3,
    seed: 3,
  });
  const x = tf.randomNormal([5, 16], 0, 1, 'float32', 8);
  const cond = tf.randomNormal([5, 32], 0, 1, 'float32', 9);
  const target = tf.randomNormal([5, 16], 0, 1, 'float32', 10);
  const variables = cnn.namedWeights();
  const result = await onBoth(() => {
    const velocity = cnn.apply(x, 0.3, cond);
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.squaredDifference(cnn.apply(x, 0.3, cond), target)),
      variables.map(([, v]) => v),
    );
    return [velocity, value, ...variables.map(([, v]) => grads[v.name])];
  });
  assertClose(result, ['velocity', 'loss', ...variables.map(([name]) => `d loss / d ${name}`)]);
  tf.dispose([x, cond, target]);
  cnn.dispose();
});

gpuTest('our kernels (rotary, SiLU gate, matmul with transposes, conv2d gradients): values and gradients', async () => {
  const x = tf.randomNormal([2, 3, 6, 8], 0, 1, 'float32', 11);
  const angles = tf.randomUniform([6, 4], 0, 3, 'float32', 12);
  const cos = tf.concat([tf.cos(angles), tf.cos(angles)], -1);
  const signedSin = tf.concat([tf.neg(tf.sin(angles)), tf.sin(angles)], -1);
  const gate = tf.randomNormal([4, 24], 0, 2, 'float32', 13);
  const up = tf.randomNormal([4, 24], 0, 1, 'float32', 14);
  const a = tf.randomNormal([2, 5, 7], 0, 1, 'float32', 15);
  const w = tf.randomNormal([9, 7], 0, 1, 'float32', 16);
  const bias = tf.randomNormal([9], 0, 1, 'float32', 17);
  const image = tf.randomNormal<tf.Rank.R4>([2, 6, 6, 3], 0, 1, 'float32', 18);
  const filter = tf.randomNormal<tf.Rank.R4>([3, 3, 3, 4], 0, 1, 'float32', 19);
  const pointwise = tf.randomNormal<tf.Rank.R4>([1, 1, 3, 5], 0, 1, 'float32', 20);
  const result = await onBoth(() => {
    const rotary = applyRotaryFused(x, cos, signedSin);
    const [dRotary] = tf.grads((input: tf.Tensor) => tf.sum(tf.mul(applyRotaryFused(input, cos, signedSin), input)))([
      x,
    ]);
    const glu = swiglu(gate, up);
    const [dGate, dUp] = tf.grads((g: tf.Tensor, u: tf.Tensor) => tf.sum(tf.square(swiglu(g, u))))([gate, up]);
    const projected = linear(a, w, bias);
    const [dA, dW] = tf.grads((input: tf.Tensor, weight: tf.Tensor) => tf.sum(tf.square(linear(input, weight, bias))))([
      a,
      w,
    ]);
    const scores = attentionScores(x, x);
    const attended = attentionOutput(tf.softmax(scores), x);
    const conv = (input: tf.Tensor, f: tf.Tensor) =>
      tf.conv2d<tf.Tensor4D>(input as tf.Tensor4D, f as tf.Tensor4D, 1, 'same');
    const [dImage, dFilter] = tf.grads((input: tf.Tensor, f: tf.Tensor) => tf.sum(tf.square(conv(input, f))))([
      image,
      filter,
    ]);
    const [dImage1, dPointwise] = tf.grads((input: tf.Tensor, f: tf.Tensor) => tf.sum(tf.square(conv(input, f))))([
      image,
      pointwise,
    ]);
    return [
      rotary,
      dRotary,
      glu,
      dGate,
      dUp,
      projected,
      dA,
      dW,
      scores,
      attended,
      dImage,
      dFilter,
      dImage1,
      dPointwise,
    ];
  });
  assertClose(result, [
    'rotary',
    'd rotary',
    'SiLU gate',
    'd SiLU gate / d gate',
    'd SiLU gate / d up',
    'linear (x Wᵀ + b)',
    'd linear / d x',
    'd linear / d W',
    'attention scores (q kᵀ)',
    'attention output (p v)',
    'd conv2d 3×3 / d input',
    'd conv2d 3×3 / d filter',
    'd conv2d 1×1 / d input',
    'd conv2d 1×1 / d filter',
  ]);
  tf.dispose([x, angles, cos, signedSin, gate, up, a, w, bias, image, filter, pointwise]);
});

/** A tiny valid config of each task (as the registry test uses), on the synthetic lightcones of train_fixture.ts. */
const tinyConfigs: Record<string, Record<string, unknown>> = {
  regression: tinyConfig(),
  generation: {
    ...tinyConfig(),
    name: 'tiny-generation',
    task: 'generation',
    ...tinyGenerationModel(),
    data: tinyGenerationData(),
  },
};

gpuTest('one training step of each task: every phase’s loss and gradients, and the weights after AdamW', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-webgpu-step-'));
  try {
    writeSyntheticLightcones(workspace, { lightcones: 12, slices: 32 });
    for (const name of taskNames()) {
      assert.ok(tinyConfigs[name], `the test has no tiny config for task "${name}"; add one`);
      const configPath = join(workspace, `${name}.l3m.json`);
      writeFileSync(configPath, JSON.stringify(tinyConfigs[name]));
      const loaded = await loadConfigFile(configPath, 'run');
      assert.ok(loaded.config, `${name}: ${JSON.stringify(loaded.diagnostics)}`);
      const definition = taskDefinition(loaded.config.task, configPath);
      const data = await definition.loadData(loaded.config, { configDir: workspace });
      // Two models with the same seeds, both built on cpu: one steps on cpu, the other on webgpu.
      const models = [0, 1].map(() => data.buildModel(loaded.config!, { configPath, runDir: workspace }));
      const stepped: Float32Array[][] = [];
      for (const [index, backend] of (['cpu', 'webgpu'] as const).entries()) {
        await tf.setBackend(backend);
        const training = models[index].training;
        const values: Float32Array[] = [];
        for (const [phaseIndex, phase] of training.phases.entries()) {
          const optimizer = new AdamOptimizer(phase.groups, { kind: 'adamw', beta1: 0.9, beta2: 0.95, epsilon: 1e-8 });
          const variables = optimizer.updatedVariables();
          if (variables.length === 0) continue;
          const context = { step: 0, seed: opSeed(7, 0, phaseIndex * 4096) };
          const batch = training.batch(Int32Array.from([0, 1, 2, 3]), context);
          const { value, grads } = tf.variableGrads(() => phase.loss(batch, context), variables);
          training.disposeBatch(batch);
          values.push(Float32Array.from(await value.data()));
          for (const v of variables) values.push(Float32Array.from(await grads[v.name].data()));
          optimizer.apply(grads, 1e-3);
          tf.dispose([value, ...Object.values(grads)]);
          optimizer.dispose();
        }
        for (const [, v] of training.namedWeights()) values.push(Float32Array.from(await v.data()));
        stepped.push(values);
      }
      const labels = [
        ...models[0].training.phases.flatMap((phase) => {
          const optimizer = new AdamOptimizer(phase.groups, { kind: 'adamw' });
          const names = optimizer.updatedVariables().map((v) => `${name} ${phase.name}: d loss / d ${v.name}`);
          optimizer.dispose();
          return names.length === 0 ? [] : [`${name} ${phase.name}: loss`, ...names];
        }),
        ...models[0].training.namedWeights().map(([key]) => `${name}: ${key} after the step`),
      ];
      assertClose({ cpu: stepped[0], gpu: stepped[1] }, labels);
      await tf.setBackend('cpu');
      for (const model of models) model.dispose();
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});
