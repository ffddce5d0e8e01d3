// Incremental decoding with the key/value cache equals a full forward pass, token by token and in chunks, for
// causal attention; the cache frees its tensors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { KvCache } from '../../sidecar/model/kv_cache';
import { randomWeightSource } from '../../sidecar/model/weight_source';

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
const rows = [
  [1, 2, 3, 4, 5, 6],
  [7, 8, 9, 10, 11, 12],
];
const slice = (from: number, to: number) =>
  tf.tensor2d(
    rows.map((r) => r.slice(from, to)),
    [2, to - from],
    'int32',
  );

before(async () => {
  await tf.setBackend('cpu');
});

test('token-by-token decoding with a cache equals the full pass', () => {
  const model = new Qwen2Model(config, randomWeightSource(0.3, 1));
  const full = model.forward({ inputIds: slice(0, 6), returnLogits: true });
  const cache = new KvCache(config.numHiddenLayers);
  const pieces: tf.Tensor[] = [];
  for (let t = 0; t < 6; t++)
    pieces.push(model.forward({ inputIds: slice(t, t + 1), cache, returnLogits: true }).logits!);
  assert.equal(cache.length, 6);
  assert.deepEqual(cache.get(0)!.keys.shape, [2, 2, 6, 4]);
  const error = tf.max(tf.abs(tf.sub(tf.concat(pieces, 1), full.logits!))).dataSync()[0];
  assert.ok(error < 1e-5, `max difference ${error}`);
  cache.dispose();
  model.dispose();
});

test('chunked decoding (3 + 2 + 1) equals the full pass; the cache owns exactly its tensors', () => {
  const model = new Qwen2Model(config, randomWeightSource(0.3, 2));
  const full = model.forward({ inputIds: slice(0, 6) }).hidden;
  const cache = new KvCache(config.numHiddenLayers);
  const tensorsBefore = tf.memory().numTensors;
  const chunks = [
    [0, 3],
    [3, 5],
    [5, 6],
  ].map(([a, b]) => {
    const input = slice(a, b);
    const hidden = model.forward({ inputIds: input, cache }).hidden;
    input.dispose();
    return hidden;
  });
  // Three outputs plus keys and values of every layer.
  assert.equal(tf.memory().numTensors, tensorsBefore + 3 + 2 * config.numHiddenLayers);
  const error = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.concat(chunks, 1), full))).dataSync()[0]);
  assert.ok(error < 1e-5, `max difference ${error}`);
  chunks.forEach((c) => c.dispose());
  cache.dispose();
  assert.equal(cache.length, 0);
  assert.equal(tf.memory().numTensors, tensorsBefore);
  model.dispose();
});

test('without the cache, a continuation at the same positions does not see the prefix (the cache matters)', () => {
  const model = new Qwen2Model(config, randomWeightSource(0.3, 3));
  const full = model.forward({ inputIds: slice(0, 6) }).hidden.slice([0, 5, 0], [2, 1, 16]);
  const alone = model.forward({ inputIds: slice(5, 6), positions: [5] }).hidden;
  assert.ok(tf.max(tf.abs(tf.sub(alone, full))).dataSync()[0] > 1e-3);
  model.dispose();
});
