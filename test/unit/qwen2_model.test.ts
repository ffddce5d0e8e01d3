// The Qwen2 decoder on a tiny random config: shapes, bad arguments, HF init, the weight-name map, a training
// step that lowers the loss without leaking tensors, gradients through a frozen backbone into input vectors.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model, qwen2WeightShapes } from '../../sidecar/model/qwen2_model';
import { normalizeHfConfig, qwen2Config, qwen25_05bInstruct, toHfConfig } from '../../sidecar/model/qwen2_config';
import { mixInputs, scatterVectors } from '../reference/fixture_input_mixing';
import { SpecialTokens } from '../../sidecar/model/special_tokens';
import { randomWeightSource } from '../../sidecar/model/weight_source';
import { flattenGroups, trainableVariables } from '../../sidecar/model/finetune_groups';

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
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
    ],
    [2, 5],
    'int32',
  );

before(async () => {
  await tf.setBackend('cpu');
});

describe('Qwen2Config', () => {
  test('normalizeHfConfig maps the Qwen2.5-0.5B config.json and round-trips toHfConfig', () => {
    const hf = {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      vocab_size: 151936,
      hidden_size: 896,
      num_hidden_layers: 24,
      num_attention_heads: 14,
      num_key_value_heads: 2,
      intermediate_size: 4864,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      max_position_embeddings: 32768,
      tie_word_embeddings: true,
      attention_dropout: 0.0,
      initializer_range: 0.02,
      hidden_act: 'silu',
      torch_dtype: 'bfloat16',
    };
    assert.deepEqual(normalizeHfConfig(hf), qwen25_05bInstruct);
    assert.deepEqual(normalizeHfConfig(toHfConfig(config)), config);
  });

  test('bad configs name the field', () => {
    assert.throws(() => normalizeHfConfig({ model_type: 'llama' }), /model_type is "llama"/);
    assert.throws(
      () => normalizeHfConfig({ ...toHfConfig(config), hidden_size: undefined }),
      /"hidden_size" is missing/,
    );
    assert.throws(() => normalizeHfConfig({ ...toHfConfig(config), num_key_value_heads: 3 }), /numKeyValueHeads 3/);
    assert.throws(
      () => normalizeHfConfig({ ...toHfConfig(config), hidden_size: '16' }),
      /"hidden_size" must be a number/,
    );
    assert.throws(() => normalizeHfConfig([]), /expected a JSON object/);
  });

  // Qwen's model card rounds the non-embedding count (357.9M) to 0.36B.
  test('the 0.5B shape has 494M parameters, 358M without the embedding', () => {
    const shapes = qwen2WeightShapes(qwen25_05bInstruct);
    const total = [...shapes.values()].reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1), 0);
    assert.equal(Math.round(total / 1e6), 494);
    assert.equal(Math.round((total - 151936 * 896) / 1e6), 358);
  });
});

describe('Qwen2Model', () => {
  test('output shapes, tied logits and the weight-name map', () => {
    const model = Qwen2Model.random(config, 1);
    const out = model.forward({ inputIds: ids(), returnLogits: true });
    assert.deepEqual(out.hidden.shape, [2, 5, 16]);
    assert.deepEqual(out.logits!.shape, [2, 5, 30]);
    const named = model.namedWeights();
    assert.deepEqual(
      named.map(([k, v]) => [k, v.shape]),
      [...qwen2WeightShapes(config)],
    );
    assert.equal(model.lmHead, null);
    model.dispose();
  });

  test('random init follows HF: N(0, 0.02²) weights, zero biases, unit norms; deterministic for a seed', () => {
    const a = Qwen2Model.random(config, 7);
    const b = Qwen2Model.random(config, 7);
    const c = Qwen2Model.random(config, 8);
    const q = a.layers[0].selfAttn.qProj;
    const values = Array.from(q.weight.dataSync());
    const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    assert.ok(std > 0.015 && std < 0.025, `std ${std}`);
    assert.ok(q.bias!.dataSync().every((x) => x === 0));
    assert.ok(a.norm.weight.dataSync().every((x) => x === 1));
    assert.deepEqual(Array.from(b.layers[0].selfAttn.qProj.weight.dataSync()), values);
    assert.notDeepEqual(Array.from(c.layers[0].selfAttn.qProj.weight.dataSync()), values);
    [a, b, c].forEach((m) => m.dispose());
  });

  test('bad arguments throw clear errors', () => {
    const model = Qwen2Model.random(config, 1);
    assert.throws(() => model.forward({}), /exactly one of inputIds/);
    assert.throws(
      () => model.forward({ inputsEmbeds: tf.zeros<tf.Rank.R3>([1, 3, 8]) }),
      /inputsEmbeds must be \(B, T, 16\)/,
    );
    assert.throws(() => model.forward({ inputIds: ids(), positions: [0, 1] }), /2 positions given for 5 tokens/);
    assert.throws(() => qwen2Config({ hiddenSize: 18, numAttentionHeads: 4 }), /not divisible/);
    assert.throws(() => model.addLora({ rank: 2, targets: ['qkv' as never] }), /LoRA target "qkv"/);
    model.dispose();
    assert.throws(() => model.forward({ inputIds: ids() }), /disposed/);
  });

  test('positions are explicit: shifting every position changes the output (rotary), same positions reproduce it', () => {
    const model = Qwen2Model.random(config, 2);
    const base = model.forward({ inputIds: ids() }).hidden;
    const same = model.forward({ inputIds: ids(), positions: [0, 1, 2, 3, 4] }).hidden;
    const shifted = model.forward({ inputIds: ids(), positions: [10, 11, 12, 13, 14] }).hidden;
    assert.equal(tf.max(tf.abs(tf.sub(base, same))).dataSync()[0], 0);
    // Relative positions are all that rotary attention sees, so a uniform shift changes outputs only by rounding.
    assert.ok(tf.max(tf.abs(tf.sub(base, shifted))).dataSync()[0] < 1e-4);
    const reordered = model.forward({ inputIds: ids(), positions: [0, 2, 4, 6, 8] }).hidden;
    assert.ok(tf.max(tf.abs(tf.sub(base, reordered))).dataSync()[0] > 1e-4);
    model.dispose();
  });

  test('attention dropout acts only in training', () => {
    // Wide weights so that attention is far from uniform and dropping weights visibly changes the output.
    const model = new Qwen2Model({ ...config, attentionDropout: 0.5 }, randomWeightSource(0.5, 3));
    const inference = model.forward({ inputIds: ids() }).hidden;
    const again = model.forward({ inputIds: ids() }).hidden;
    const training = model.forward({ inputIds: ids(), training: true, dropoutSeed: 1 }).hidden;
    assert.equal(tf.max(tf.abs(tf.sub(inference, again))).dataSync()[0], 0);
    assert.ok(tf.max(tf.abs(tf.sub(inference, training))).dataSync()[0] > 1e-3);
    model.dispose();
  });

  test('resetFinalNorm sets the final norm scale to ones', () => {
    const model = Qwen2Model.random(config, 1);
    model.norm.weight.assign(tf.fill([16], 3));
    model.resetFinalNorm();
    assert.ok(model.norm.weight.dataSync().every((x) => x === 1));
    model.dispose();
  });

  test('a full training step lowers the loss and leaks no tensors', () => {
    const model = Qwen2Model.random(config, 4);
    const optimizer = tf.train.adam(1e-2);
    const variables = flattenGroups(trainableVariables(model, 'scratch'));
    const target = tf.tensor2d(
      [
        [2, 3, 4, 5, 6],
        [7, 8, 9, 10, 11],
      ],
      [2, 5],
      'int32',
    );
    const input = ids();
    const loss = () =>
      tf.tidy(() => {
        const logits = model.forward({ inputIds: input, returnLogits: true }).logits!;
        return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
          tf.oneHot(target.flatten(), 30),
          logits.reshape([-1, 30]),
        );
      });
    const first = loss();
    const initial = first.dataSync()[0];
    first.dispose();
    optimizer.minimize(loss, false, variables); // creates the Adam slots
    const tensorsBefore = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) optimizer.minimize(loss, false, variables);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leak across training steps');
    const final = loss();
    assert.ok(final.dataSync()[0] < initial, `loss ${final.dataSync()[0]} < ${initial}`);
    final.dispose();
    optimizer.dispose();
    model.dispose();
  });

  test('gradients reach input vectors and special tokens through a frozen backbone', () => {
    const model = Qwen2Model.random(config, 5);
    const tokens = new SpecialTokens(16, ['<|lc_start|>'], 1);
    const connector = tf.variable(tf.randomNormal([2, 1, 16], 0, 1, 'float32', 9));
    const groups = trainableVariables(model, 'frozen', tokens);
    assert.deepEqual(
      groups.map((g) => g.group),
      ['specialTokens'],
    );
    const { value, grads } = tf.variableGrads(() => {
      const vectors = tf.concat(
        [connector, tf.broadcastTo(tokens.stack(['<|lc_start|>']).expandDims(0), [2, 1, 16])],
        1,
      ); // (2, 2, 16)
      const embeds = mixInputs((x) => model.embed(x), ids(), [1, 3], vectors);
      return tf.sum<tf.Scalar>(tf.square(model.forward({ inputsEmbeds: embeds }).hidden));
    }, [connector, ...flattenGroups(groups)]);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    for (const grad of Object.values(grads)) assert.ok(tf.max(tf.abs(grad)).dataSync()[0] > 0);
    assert.equal(Object.keys(grads).length, 2, 'only the connector and the special token receive gradients');
    model.dispose();
    tokens.dispose();
  });
});

describe('mixInputs', () => {
  test('replaces exactly the given rows, by batch or shared vectors', () => {
    const embeds = tf.zeros<tf.Rank.R3>([2, 4, 3]);
    const perBatch = tf.tensor3d([[[1, 1, 1]], [[2, 2, 2]]]);
    const out = scatterVectors(embeds, [2], perBatch).arraySync();
    assert.deepEqual(out[0][2], [1, 1, 1]);
    assert.deepEqual(out[1][2], [2, 2, 2]);
    assert.deepEqual(out[1][1], [0, 0, 0]);
    const shared = scatterVectors(
      tf.ones<tf.Rank.R3>([2, 4, 3]),
      [0, 3],
      tf.tensor2d([
        [5, 5, 5],
        [6, 6, 6],
      ]),
    ).arraySync();
    assert.deepEqual(shared[1][0], [5, 5, 5]);
    assert.deepEqual(shared[1][3], [6, 6, 6]);
    assert.deepEqual(shared[1][1], [1, 1, 1]);
  });

  test('bad positions and shapes are refused', () => {
    const embeds = tf.zeros<tf.Rank.R3>([2, 4, 3]);
    assert.throws(() => scatterVectors(embeds, [4], tf.zeros([1, 3])), /outside the sequence/);
    assert.throws(() => scatterVectors(embeds, [1, 1], tf.zeros([2, 3])), /given twice/);
    assert.throws(() => scatterVectors(embeds, [1], tf.zeros([2, 2, 3])), /vectors must be/);
  });
});
