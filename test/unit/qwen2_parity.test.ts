// Parity of the TF.js Qwen2 with an independent PyTorch implementation (test/reference/reference_qwen2.py),
// through committed fixtures: the same tiny checkpoints load here and there, and logits, hidden states and
// gradients must agree within 1e-4 relative error. The reference computes in float64.
// Runs on the deterministic cpu backend; `L3M_TEST_BACKEND=wasm node --import tsx --test <this file>` runs the
// same checks on wasm (where the perf helper's fast kernels are active).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadHfCheckpoint } from '../../sidecar/checkpoint/hf_checkpoint';
import { SafetensorsFile } from '../../sidecar/checkpoint/safetensors_reader';
import { KvCache } from '../../sidecar/model/kv_cache';
import { mixInputs } from '../reference/fixture_input_mixing';
import type { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { fixtureInputs, fixturesDir, readFixture, relativeError } from '../reference/fixtures';

const tolerance = 1e-4;
let expected: Map<string, tf.Tensor>;
let extra: Map<string, tf.Tensor>;
const inputs = fixtureInputs();

before(async () => {
  const backend = process.env.L3M_TEST_BACKEND ?? 'cpu';
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  assert.ok(await tf.setBackend(backend), `backend ${backend} initialises`);
  expected = readFixture('expected.safetensors');
  extra = readFixture('inputs.safetensors');
});

function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
}

function load(folder: string, causal = true): Qwen2Model {
  return loadHfCheckpoint(join(fixturesDir, folder), { configOverrides: { causal } }).model;
}

function check(name: string, actual: tf.Tensor): void {
  const reference = expected.get(name);
  assert.ok(reference, `fixture ${name} exists`);
  const error = relativeError(actual, reference);
  assert.ok(error < tolerance, `${name}: relative error ${error.toExponential(2)} ≥ ${tolerance}`);
}

/** Attaches the committed adapter (non-zero B) to a model: rank 2, alpha 4, every linear layer. */
function attachAdapter(model: Qwen2Model): void {
  model.addLora({ rank: 2, alpha: 4 });
  const adapter = new SafetensorsFile(join(fixturesDir, 'lora_adapter.safetensors'));
  try {
    for (const [name, variable] of model.namedLoraWeights()) {
      const value = adapter.readTensor(name);
      variable.assign(value);
      value.dispose();
    }
  } finally {
    adapter.close();
  }
}

describe('Qwen2 parity with the PyTorch reference', () => {
  test('causal forward, GQA 2:1, biases, tied head (f32 checkpoint)', () => {
    const model = load('tied_f32');
    const out = model.forward({ inputIds: ids(inputs.ids), returnLogits: true });
    check('tied_f32.causal.hidden', out.hidden);
    check('tied_f32.causal.logits', out.logits!);
    model.dispose();
  });

  test('non-causal forward (regression reference networks)', () => {
    const model = load('tied_f32', false);
    const out = model.forward({ inputIds: ids(inputs.ids), returnLogits: true });
    check('tied_f32.noncausal.hidden', out.hidden);
    check('tied_f32.noncausal.logits', out.logits!);
    // And the mask really matters: causal and non-causal outputs differ.
    assert.ok(relativeError(out.hidden, expected.get('tied_f32.causal.hidden')!) > 1e-2);
    model.dispose();
  });

  test('untied head from a sharded bf16 checkpoint', () => {
    const model = load('untied_bf16_sharded');
    assert.ok(model.lmHead, 'separate lm_head');
    check(
      'untied_bf16_sharded.causal.logits',
      model.forward({ inputIds: ids(inputs.ids), returnLogits: true }).logits!,
    );
    model.dispose();
  });

  test('f16 checkpoint', () => {
    const model = load('tied_f16');
    check('tied_f16.causal.logits', model.forward({ inputIds: ids(inputs.ids), returnLogits: true }).logits!);
    model.dispose();
  });

  test('mixed token/vector inputs: hidden states and gradients (weights and input vectors)', () => {
    const model = load('tied_f32');
    const vectors = tf.variable(extra.get('vectors')!);
    const probe = extra.get('probe')!;
    const byName = new Map(model.namedWeights());
    const keys = [
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.k_proj.bias',
      'model.layers.1.mlp.down_proj.weight',
      'model.layers.1.input_layernorm.weight',
      'model.norm.weight',
      'model.embed_tokens.weight',
    ];
    let hidden: tf.Tensor | undefined;
    const { grads } = tf.variableGrads(() => {
      const embeds = mixInputs((x) => model.embed(x), ids(inputs.ids), inputs.vectorPositions, vectors);
      const out = model.forward({ inputsEmbeds: embeds });
      hidden = tf.keep(out.hidden);
      return tf.sum<tf.Scalar>(tf.mul(out.hidden, probe));
    }, [vectors, ...keys.map((k) => byName.get(k)!)]);
    check('mixed.hidden', hidden!);
    check('mixed.grad.vectors', grads[vectors.name]);
    for (const key of keys) check(`mixed.grad.${key}`, grads[byName.get(key)!.name]);
    model.dispose();
  });

  test('LoRA with non-zero B on every linear layer: logits and adapter gradients', () => {
    const model = load('tied_f32');
    attachAdapter(model);
    const probe = extra.get('probe')!;
    check('lora.logits', model.forward({ inputIds: ids(inputs.ids), returnLogits: true }).logits!);
    const lora = new Map(model.namedLoraWeights());
    const keys = [
      'model.layers.0.self_attn.q_proj.lora_A.weight',
      'model.layers.0.self_attn.q_proj.lora_B.weight',
      'model.layers.1.mlp.up_proj.lora_B.weight',
      'model.layers.1.self_attn.v_proj.lora_A.weight',
    ];
    const { grads } = tf.variableGrads(
      () => tf.sum<tf.Scalar>(tf.mul(model.forward({ inputIds: ids(inputs.ids) }).hidden, probe)),
      keys.map((k) => lora.get(k)!),
    );
    for (const key of keys) check(`lora.grad.${key}`, grads[lora.get(key)!.name]);
    model.dispose();
  });

  test('attention with a KV cache: prefix then the rest', () => {
    const model = load('tied_f32');
    const cache = new KvCache(model.config.numHiddenLayers);
    const prefix = inputs.cachePrefix;
    const first = model.forward({ inputIds: ids(inputs.ids.map((r) => r.slice(0, prefix))), cache });
    assert.equal(cache.length, prefix);
    const second = model.forward({ inputIds: ids(inputs.ids.map((r) => r.slice(prefix))), cache });
    assert.equal(cache.length, inputs.ids[0].length);
    check('cache.hidden', tf.concat([first.hidden, second.hidden], 1));
    cache.dispose();
    model.dispose();
  });
});
