// LoRA adapters and finetune parameter groups: a fresh adapter (B = 0) leaves the model unchanged, the adapter
// scale is alpha / r, A follows peft's Kaiming-uniform bound, targets and modes select the right variables.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { LoraLinear } from '../../sidecar/model/lora_linear';
import { SeedStream } from '../../sidecar/model/init';
import { randomWeightSource } from '../../sidecar/model/weight_source';
import { trainableVariables, flattenGroups } from '../../sidecar/model/finetune_groups';
import { SpecialTokens } from '../../sidecar/model/special_tokens';

const config = qwen2Config({
  vocabSize: 30,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  intermediateSize: 24,
  tieWordEmbeddings: false,
});
const ids = () =>
  tf.tensor2d(
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ],
    [2, 4],
    'int32',
  );

before(async () => {
  await tf.setBackend('cpu');
});

describe('LoRA', () => {
  test('B = 0: the adapted model equals the base model exactly', () => {
    const model = Qwen2Model.random(config, 1);
    const base = model.forward({ inputIds: ids(), returnLogits: true }).logits!;
    model.addLora({ rank: 4, alpha: 8 });
    const adapted = model.forward({ inputIds: ids(), returnLogits: true }).logits!;
    assert.equal(tf.max(tf.abs(tf.sub(base, adapted))).dataSync()[0], 0);
    assert.equal(model.namedLoraWeights().length, 2 * 7 * 2);
    model.dispose();
  });

  test('y = W x + b + (alpha / r) B A x, with A ~ U(±1/sqrt(in)) like peft', () => {
    const layer = new LoraLinear('probe', 64, 5, true, randomWeightSource(0.1, 1));
    layer.addLora({ rank: 3, alpha: 6, seed: 0 }, new SeedStream(2));
    const a = layer.loraA!.dataSync();
    const bound = 1 / Math.sqrt(64);
    assert.ok(a.every((x) => Math.abs(x) <= bound) && Math.max(...a.map(Math.abs)) > 0.8 * bound);
    layer.loraB!.assign(tf.randomNormal([5, 3], 0, 1, 'float32', 3));
    const x = tf.randomNormal([2, 64], 0, 1, 'float32', 4);
    const expected = tf.tidy(() =>
      tf.add(
        tf.add(tf.matMul(x, layer.weight, false, true), layer.bias!),
        tf.mul(tf.matMul(tf.matMul(x, layer.loraA!, false, true), layer.loraB!, false, true), 2),
      ),
    );
    assert.ok(tf.max(tf.abs(tf.sub(layer.apply(x), expected))).dataSync()[0] < 1e-5);
    assert.throws(() => layer.addLora({ rank: 2, alpha: 2, seed: 0 }, new SeedStream(1)), /already attached/);
    layer.dispose();
  });

  test('targets restrict the adapted layers; bad ranks are refused', () => {
    const model = Qwen2Model.random(config, 1);
    model.addLora({ rank: 2, targets: ['q_proj', 'v_proj'] });
    const keys = model.namedLoraWeights().map(([k]) => k);
    assert.equal(keys.length, 2 * 2 * 2);
    assert.ok(keys.every((k) => /self_attn\.(q|v)_proj\.lora_[AB]\.weight$/.test(k)));
    model.dispose();
    const other = Qwen2Model.random(config, 1);
    assert.throws(() => other.addLora({ rank: 0 }), /rank must be an integer/);
    other.dispose();
  });

  test('training the adapter changes the output; the backbone stays frozen', () => {
    const model = Qwen2Model.random(config, 2);
    model.addLora({ rank: 2 });
    const groups = trainableVariables(model, 'lora');
    const before = model.layers[0].selfAttn.qProj.weight.dataSync().slice();
    const baseline = model.forward({ inputIds: ids() }).hidden;
    const optimizer = tf.train.sgd(0.5);
    optimizer.minimize(
      () => tf.sum<tf.Scalar>(tf.square(model.forward({ inputIds: ids() }).hidden)),
      false,
      flattenGroups(groups),
    );
    assert.deepEqual(model.layers[0].selfAttn.qProj.weight.dataSync(), before);
    assert.ok(tf.max(tf.abs(tf.sub(baseline, model.forward({ inputIds: ids() }).hidden))).dataSync()[0] > 1e-4);
    optimizer.dispose();
    model.dispose();
  });
});

describe('finetune groups', () => {
  test('frozen, lora, full and scratch select the documented variables', () => {
    const model = Qwen2Model.random(config, 3);
    const tokens = new SpecialTokens(16, ['a', 'b']);
    assert.deepEqual(trainableVariables(model, 'frozen'), []);
    assert.throws(() => trainableVariables(model, 'lora'), /no LoRA adapters/);
    model.addLora({ rank: 2 });
    const lora = trainableVariables(model, 'lora', tokens);
    assert.deepEqual(
      lora.map((g) => [g.group, g.variables.length]),
      [
        ['lora', 28],
        ['norms', 5],
        ['specialTokens', 2],
      ],
    );
    assert.ok(lora[1].variables.some((v) => v.name === 'model.norm.weight'));
    const full = trainableVariables(model, 'full');
    const fullNames = full.flatMap((g) => g.variables.map((v) => v.name));
    assert.ok(!fullNames.includes('model.embed_tokens.weight'));
    assert.ok(fullNames.includes('lm_head.weight') && fullNames.includes('model.layers.1.mlp.down_proj.weight'));
    const scratch = trainableVariables(model, 'scratch').flatMap((g) => g.variables.map((v) => v.name));
    assert.ok(scratch.includes('model.embed_tokens.weight'));
    assert.equal(new Set(scratch).size, scratch.length, 'no variable appears twice');
    assert.throws(() => trainableVariables(model, 'partial' as never), /Unknown finetune mode/);
    tokens.dispose();
    model.dispose();
  });

  test('special tokens: named, unique, N(0, 1) like the reference TokenEmbd', () => {
    const tokens = new SpecialTokens(256, ['<|x|>'], 4);
    const values = Array.from(tokens.get('<|x|>').dataSync());
    const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    assert.ok(std > 0.8 && std < 1.2, `std ${std}`);
    assert.throws(() => tokens.get('<|y|>'), /no token named "<\|y\|>"/);
    assert.throws(() => new SpecialTokens(4, ['a', 'a']), /given twice/);
    tokens.dispose();
  });
});
