// The generation model on a tiny random backbone: the token layout (each patch is predicted from the
// token just before it), a sublightcone's tokens and back, KV-cached sampling equal to uncached
// sampling for the same noise, learning on a tiny problem, bad input, and no leaked tensors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { detokenize, tokenLayout, tokenizeSlices } from '../../sidecar/data/tokenization';
import { GenerationModel } from '../../sidecar/tasks/generation/generation_model';
import { buildGenerationPrompt, prefixLength, separatorsAfter } from '../../sidecar/tasks/generation/generation_prompt';
import { forecastSlices } from '../../sidecar/tasks/generation/generation_sampler';
import { cfmLoss, drawCfmNoise } from '../../sidecar/tasks/generation/cfm_loss';

before(async () => {
  await tf.setBackend('cpu');
});

function tinyModel(maxPositions = 128, seed = 1, previousSliceResidual = false): GenerationModel {
  const backbone = Qwen2Model.random(
    qwen2Config({
      vocabSize: 8,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      intermediateSize: 24,
      ropeTheta: 10000,
      maxPositionEmbeddings: maxPositions,
      tieWordEmbeddings: true,
    }),
    seed,
  );
  return new GenerationModel(backbone, {
    prompt: buildGenerationPrompt({ template: 'minimal', systemTokens: 0, timeStep: true, chatIds: null }),
    patchSize: 2,
    rows: 2,
    cols: 2,
    lightconeConnector: { kind: 'linear', depth: 0, width: 0 },
    parameterConnector: { kind: 'linear', depth: 0, width: 0 },
    timeStepConnector: { kind: 'linear', depth: 0, width: 0 },
    head: { channels: 4, blocks: 1, residualFactor: 2, kernelSize: 3, condChannels: 2, previousSliceResidual },
    finetune: 'scratch',
    trainNorms: true,
    seed,
  });
}

test('the prompt: six parameters, the time step and the lightcone start; chat pieces as stand-ins on a random backbone', () => {
  const minimal = buildGenerationPrompt({ template: 'minimal', systemTokens: 0, timeStep: true, chatIds: null });
  assert.deepEqual(
    minimal.map((s) => s.kind),
    ['parameter', 'parameter', 'parameter', 'parameter', 'parameter', 'parameter', 'time_step', 'trainable'],
  );
  assert.equal(prefixLength(minimal), 8);
  const chat = buildGenerationPrompt({
    template: 'chat_trainable',
    systemTokens: 3,
    timeStep: false,
    chatIds: { imStart: 1, imEnd: 2, system: 3, user: 4, assistant: 5, newline: 6 },
  });
  assert.equal(chat.filter((s) => s.kind === 'time_step').length, 0);
  assert.equal(prefixLength(chat), 3 + 3 + 2 + 3 + 6 + 2 + 3 + 1);
  assert.deepEqual(separatorsAfter(0, 1, 2, 2), ['row']);
  assert.deepEqual(separatorsAfter(1, 1, 2, 2), ['row', 'slice']);
  assert.deepEqual(separatorsAfter(1, 0, 2, 2), []);
});

test('a sublightcone tokenises and back, and each patch is predicted from the token before it', () => {
  const n = 4;
  const slices = Float32Array.from({ length: 3 * n * n }, (_, i) => Math.sin(i));
  const tokenized = tokenizeSlices(slices, n, n, 3, 2);
  assert.deepEqual(Array.from(detokenize(tokenized)), Array.from(slices));

  const model = tinyModel();
  const layout = tokenLayout(3, 2, 2).tokens;
  const P = model.prefixLength;
  const T = P + layout.length;
  // A fake hidden state whose value is its own position shows which positions predictingHidden picks.
  const hidden = tf.tile<tf.Tensor3D>(tf.reshape(tf.range(0, T), [1, T, 1]), [1, 1, 16]);
  const picked = Array.from(tf.tidy(() => tf.slice(model.predictingHidden(hidden, 3, 1), [0, 0], [-1, 1])).dataSync());
  const expected: number[] = [];
  layout.forEach((token, j) => {
    if (token >= 4) expected.push(P + j - 1);
  }); // patches of slices 1 and 2 (patch index ≥ 4)
  assert.deepEqual(picked, expected);
  // The lightcone embedding puts patch k's connector output where the layout puts patch k.
  const patches = tf.randomNormal<tf.Rank.R4>([1, 3, 4, 4]);
  const embeds = model.lightconeEmbeds(patches);
  const connectorOut = model.patchConnector.apply(tf.reshape(patches, [12, 4]));
  layout.forEach((token, j) => {
    if (token < 0) return;
    const row = tf.tidy(() => tf.slice(embeds, [0, j, 0], [1, 1, 16]).dataSync());
    const want = tf.tidy(() => tf.slice(connectorOut, [token, 0], [1, 16]).dataSync());
    assert.ok(
      row.every((v, i) => Math.abs(v - want[i]) < 1e-6),
      `token ${j}`,
    );
  });
  tf.dispose([hidden, patches, embeds, connectorOut]);
  model.dispose();
});

for (const residual of [false, true])
  test(`KV-cached sampling gives the same patches as uncached sampling for the same noise${residual ? ' (previous_slice_residual)' : ''}`, async () => {
    const model = tinyModel(128, 1, residual);
    const context = Float32Array.from({ length: 2 * 4 * 4 }, (_, i) => Math.cos(i));
    const common = {
      params: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
      timeStep: -0.3,
      context,
      contextSlices: 2,
      slices: 2,
      ode: { solver: 'rk4' as const, steps: 3 },
      seed: 9,
    };
    const before = tf.memory().numTensors;
    let streamed = 0;
    const cached = await forecastSlices(model, {
      ...common,
      useCache: true,
      onSlice: () => {
        streamed++;
      },
    });
    const uncached = await forecastSlices(model, { ...common, useCache: false });
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    assert.equal(streamed, 2);
    assert.equal(cached.length, 2 * 4 * 4);
    const gap = Math.max(...cached.map((v, i) => Math.abs(v - uncached[i])));
    assert.ok(gap < 1e-4, `cached vs uncached differ by ${gap}`);
    const other = await forecastSlices(model, { ...common, seed: 10, useCache: true });
    assert.ok(Math.max(...other.map((v, i) => Math.abs(v - cached[i]))) > 1e-3, 'another seed gives other patches');
    model.dispose();
  });

test('sampling longer than the maximum sequence fails before any work', async () => {
  const model = tinyModel(29); // prefix 8 + 7 tokens per slice: at most 3 slices
  assert.equal(model.maxSlices(), 3);
  await assert.rejects(
    forecastSlices(model, {
      params: [0, 0, 0, 0, 0, 0],
      timeStep: 0,
      context: new Float32Array(2 * 16),
      contextSlices: 2,
      slices: 2,
      ode: { solver: 'euler', steps: 1 },
      seed: 0,
      useCache: true,
    }),
    /need 36 tokens, more than the model's max_position_embeddings 29 \(at most 3 slices\)/,
  );
  model.dispose();
});

test('a few steps on one tiny batch lower the CFM loss; the loss is finite and leaks nothing', () => {
  const model = tinyModel();
  const inputs = {
    patches: tf.tidy(() =>
      tf.add<tf.Tensor4D>(
        tf.mul(tf.randomNormal([2, 3, 4, 4], 0, 0.1, 'float32', 3), 1),
        tf.reshape(tf.range(0, 3), [1, 3, 1, 1]),
      ),
    ),
    params: tf.tensor2d([
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
      [0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
    ]),
    timeSteps: tf.tensor1d([-0.5, 0]),
  };
  const variables = model.namedTrainableWeights().map(([, v]) => v);
  const optimizer = tf.train.adam(0.01);
  const evaluate = () => tf.tidy(() => model.loss(inputs, 1, 123, { training: false }).dataSync()[0]);
  const first = evaluate();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 30; i++)
    optimizer
      .minimize(() => model.loss(inputs, 1, 1000 + i, { training: true, dropoutSeed: i }), true, variables)
      ?.dispose();
  const last = evaluate();
  assert.ok(Number.isFinite(first) && last < 0.8 * first, `loss ${first} → ${last}`);
  assert.ok(tf.memory().numTensors <= before + 2 * variables.length + 2, 'only optimizer slots are added');
  assert.throws(
    () => model.loss({ ...inputs, params: tf.zeros<tf.Rank.R2>([2, 5]) }, 1, 0, { training: false }),
    /params must be \(2, 6\)/,
  );
  optimizer.dispose();
  tf.dispose(Object.values(inputs));
  model.dispose();
});

test('previous_slice_residual: the condition carries the previous patch and the flow models the change', async () => {
  const model = tinyModel(128, 2, true);
  assert.equal(model.cnn.convIn.shape[2], 2 + 2 + 1, 'cond_channels + the previous patch + τ + x');
  const patches = tf.tensor4d(
    Float32Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => Math.sin(i) + Math.floor(i / 16)),
    [2, 3, 4, 4],
  );
  const values = patches.arraySync();
  // Slices 1…2 are predicted from slices 0…1; from slice 0 on, the first has a zero previous patch.
  const fromOne = model.previousPatches(patches, 1)!.arraySync();
  assert.deepEqual(fromOne, [values[0][0], values[0][1], values[1][0], values[1][1]].flat());
  const fromZero = model.previousPatches(patches, 0)!.arraySync();
  assert.deepEqual(fromZero.slice(0, 4), [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  assert.deepEqual(fromZero.slice(4, 12), [...values[0][0], ...values[0][1]]);

  const states = tf.randomNormal<tf.Rank.R2>([16, 16], 0, 1, 'float32', 5);
  assert.throws(
    () => model.conditions(states),
    /previous_slice_residual needs the previous slice's patch for each of the 16 states, \(16, 4\), got none/,
  );
  const previous = model.previousPatches(patches, 1)!;
  const cond = model.conditions(states, previous);
  assert.deepEqual(cond.shape, [16, 3 * 4]);
  assert.deepEqual(tf.slice(cond, [0, 8], [16, 4]).arraySync(), previous.arraySync());

  // The loss is Eq. 41 with the change x₁ − x₀ as the flow's data end.
  const inputs = {
    patches,
    params: tf.tensor2d([
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
      [0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
    ]),
    timeSteps: tf.tensor1d([-0.5, 0]),
  };
  const loss = model.loss(inputs, 1, 77, { training: false }).dataSync()[0];
  const byHand = tf.tidy(() => {
    const c = model.conditions(
      model.predictingHidden(model.hidden(inputs, { training: false }), 3, 1),
      model.previousPatches(patches, 1),
    );
    const change = tf.sub<tf.Tensor2D>(
      tf.reshape(tf.slice(patches, [0, 1, 0, 0], [2, 2, 4, 4]), [-1, 4]),
      model.previousPatches(patches, 1)!,
    );
    return cfmLoss((x, tau, k) => model.cnn.apply(x, tau, k), change, c, drawCfmNoise(16, 4, 77)).dataSync()[0];
  });
  assert.ok(Math.abs(loss - byHand) < 1e-6 * Math.abs(byHand), `${loss} vs ${byHand}`);

  // With a zero velocity field a sample stays at noise + the previous patch, and so does the mean forecast.
  model.cnn.convOut.assign(tf.zerosLike(model.cnn.convOut));
  model.cnn.convOutBias.assign(tf.zerosLike(model.cnn.convOutBias));
  const noise = tf.randomNormal<tf.Rank.R2>([16, 4], 0, 1, 'float32', 6);
  const sampled = await model.samplePatches(cond, noise, { solver: 'rk4', steps: 2 });
  const expected = tf.add(noise, previous);
  assert.ok(tf.max(tf.abs(tf.sub(sampled, expected))).dataSync()[0] < 1e-6);
  assert.ok(tf.max(tf.abs(tf.sub(model.meanForecast(cond, [noise]), expected))).dataSync()[0] < 1e-6);
  tf.dispose([patches, states, previous, cond, noise, sampled, expected, ...Object.values(inputs)]);
  model.dispose();
});
