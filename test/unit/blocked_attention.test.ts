// Attention in blocks of query rows: the plain path's values and every gradient (to q, k and v alone, and through
// a LoRA model's backbone, plain and with recomputed activations), for lengths the block does not divide, with and
// without the causal mask, grouped key/value heads and cached keys; far less kept for the backward pass; nothing
// left behind; bad arguments refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { blockedAttention, setAttentionQueryBlockRows } from '../../sidecar/model/ops/blocked_attention';
import { causalMask } from '../../sidecar/model/qwen2_attention';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';

const require = createRequire(import.meta.url);
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);

before(async () => {
  await tf.setBackend('cpu');
});

after(() => setAttentionQueryBlockRows(null));

/** Relative difference: the largest absolute difference over the reference's largest magnitude. */
function relativeDifference(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = Math.max(1e-6, tf.max(tf.abs(expected)).dataSync()[0]);
    return tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] / scale;
  });
}

/** Textbook attention, written independently: key/value heads repeated for their query groups (HF `repeat_kv`). */
function referenceAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  const groups = q.shape[1]! / k.shape[1]!;
  const repeat = (x: tf.Tensor) => {
    const [b, kv, s, d] = x.shape as [number, number, number, number];
    return tf.tile(x.reshape([b, kv, 1, s * d]), [1, 1, groups, 1]).reshape([b, kv * groups, s, d]); // (B, nH, S, d)
  };
  let scores = tf.div(tf.matMul(q, repeat(k), false, true), Math.sqrt(q.shape[3]!)); // (B, nH, T, S)
  if (mask) scores = tf.add(scores, mask);
  return tf.matMul(tf.softmax(scores, -1), repeat(v)); // (B, nH, T, d)
}

const cases = [
  {
    name: '37 queries in blocks of 8, causal, 4 heads on 2 key/value heads',
    t: 37,
    past: 0,
    heads: 4,
    kv: 2,
    causal: true,
    block: 8,
  },
  { name: '37 queries in blocks of 8, no mask', t: 37, past: 0, heads: 4, kv: 2, causal: false, block: 8 },
  {
    name: '13 queries after 6 cached keys in blocks of 5, causal',
    t: 13,
    past: 6,
    heads: 3,
    kv: 1,
    causal: true,
    block: 5,
  },
  { name: 'one block larger than the queries', t: 9, past: 0, heads: 2, kv: 2, causal: true, block: 16 },
];

/** Values and dq, dk, dv of one case against the reference. */
function checkCase(c: (typeof cases)[number]): void {
  const d = 6;
  const keys = c.past + c.t;
  const q = tf.randomNormal([2, c.heads, c.t, d], 0, 1, 'float32', 1);
  const k = tf.randomNormal([2, c.kv, keys, d], 0, 1, 'float32', 2);
  const v = tf.randomNormal([2, c.kv, keys, d], 0, 1, 'float32', 3);
  const upstream = tf.randomNormal([2, c.heads, c.t, d], 0, 1, 'float32', 4);
  const mask = c.causal ? causalMask(c.t, c.past) : null;
  const before = tf.memory().numTensors;
  const blocked = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) =>
    blockedAttention(a, b, e, mask, c.block),
  )([q, k, v], upstream);
  const plain = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => referenceAttention(a, b, e, mask))(
    [q, k, v],
    upstream,
  );
  assert.deepEqual(blocked.value.shape, [2, c.heads, c.t, d]);
  assert.ok(relativeDifference(blocked.value, plain.value) < 1e-5, 'values differ');
  ['dq', 'dk', 'dv'].forEach((name, i) =>
    assert.ok(relativeDifference(blocked.grads[i], plain.grads[i]) < 1e-5, `${name} differs`),
  );
  tf.dispose([blocked.value, ...blocked.grads]);
  assert.equal(tf.memory().numTensors, before + plain.grads.length + 1, 'blocked attention leaves no tensor behind');
  tf.dispose([plain.value, ...plain.grads, q, k, v, upstream, ...(mask ? [mask] : [])]);
}

for (const c of cases) {
  test(`blocked attention equals the plain path in values and in dq, dk, dv: ${c.name}`, () => checkCase(c));
}

test('on the wasm backend, whose products run on XNNPACK, blocked attention equals the plain path too', async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  assert.ok(await tf.setBackend('wasm'));
  try {
    checkCase(cases[0]);
    checkCase(cases[2]);
  } finally {
    await tf.setBackend('cpu');
  }
});

test('blocked attention keeps q, k, v and the mask for the backward pass, not the attention maps', () => {
  const [t, heads, d] = [96, 4, 8];
  const q = tf.randomNormal([1, heads, t, d], 0, 1, 'float32', 1);
  const k = tf.randomNormal([1, 2, t, d], 0, 1, 'float32', 2);
  const v = tf.randomNormal([1, 2, t, d], 0, 1, 'float32', 3);
  const mask = causalMask(t, 0);
  const keptBytes = (attend: (a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => tf.Tensor) => {
    const before = tf.memory().numBytes;
    let kept = 0;
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => {
      const out = attend(a, b, e);
      kept = tf.memory().numBytes - before;
      return tf.sum(out);
    })([q, k, v]);
    tf.dispose(grads);
    return kept;
  };
  const blocked = keptBytes((a, b, e) => blockedAttention(a, b, e, mask, 16));
  const plain = keptBytes((a, b, e) => referenceAttention(a, b, e, mask));
  const oneMap = 4 * heads * t * t;
  // What the op holds until its backward pass (TF.js counts a kept copy's bytes again, though it shares the data).
  const inputsAndOutput = 4 * (q.size + k.size + v.size + mask.size + q.size);
  assert.ok(plain >= 2 * oneMap, `the plain path keeps ${plain} bytes, at least two maps of ${oneMap} expected`);
  assert.ok(
    blocked <= inputsAndOutput,
    `blocked attention keeps ${blocked} bytes; at most q, k, v, the mask and the output (${inputsAndOutput}) expected`,
  );
  tf.dispose([q, k, v, mask]);
});

test('blocked attention refuses shapes that do not fit together, naming them', () => {
  const q = tf.zeros([1, 4, 5, 6]);
  const k = tf.zeros([1, 2, 5, 6]);
  assert.throws(() => blockedAttention(q, k, tf.zeros([1, 2, 4, 6]), null), /k \[1,2,5,6\] and v \[1,2,4,6\]/);
  assert.throws(
    () => blockedAttention(q, tf.zeros([1, 3, 5, 6]), tf.zeros([1, 3, 5, 6]), null),
    /4 query heads cannot share 3/,
  );
  assert.throws(
    () => blockedAttention(q, k, k, tf.zeros([5, 4])),
    /mask must be \(queries, keys\) = \(5, 5\), got \[5,4\]/,
  );
  assert.throws(() => blockedAttention(q, k, k, null, 0), /blockRows must be a positive integer, got 0/);
  assert.throws(() => setAttentionQueryBlockRows(2.5), /positive integer, Infinity \(never blocked\) or null; got 2.5/);
});

/** A LoRA backbone whose adapters are non-zero, so that every adapter weight gets a gradient. */
function loraBackbone(): Qwen2Model {
  const model = Qwen2Model.random(
    qwen2Config({
      vocabSize: 8,
      hiddenSize: 24,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      intermediateSize: 32,
      ropeTheta: 10000,
      maxPositionEmbeddings: 128,
      attentionDropout: 0,
    }),
    1,
  );
  model.addLora({ rank: 2, seed: 3 });
  model.namedLoraWeights().forEach(([, w], i) => w.assign(tf.randomNormal(w.shape, 0, 0.2, 'float32', 100 + i)));
  return model;
}

test('a LoRA backbone on 37 causal tokens: blocks of 8 give the plain loss and every gradient, recomputed or not', () => {
  const model = loraBackbone();
  const trained = [...model.namedLoraWeights(), ...model.layers.flatMap((l) => l.inputLayernorm.namedWeights())].map(
    ([, w]) => w,
  );
  const embeds = tf.randomNormal<tf.Rank.R3>([2, 37, 24], 0, 1, 'float32', 7);
  const target = tf.randomNormal([2, 37, 24], 0, 1, 'float32', 8);
  const step = (blockRows: number, recompute: boolean) => {
    setAttentionQueryBlockRows(blockRows);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const { hidden } = model.forward({
        inputsEmbeds: embeds,
        training: true,
        recomputeFor: recompute ? new Set(trained) : undefined,
      });
      return tf.sum<tf.Scalar>(tf.mul(hidden, target));
    }, trained);
    const out = { loss: value.dataSync()[0], grads: trained.map((w) => grads[w.name].clone()) };
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before + out.grads.length, 'no tensor left behind after the step');
    return out;
  };
  try {
    for (const recompute of [false, true]) {
      const plain = step(Infinity, recompute);
      const blocked = step(8, recompute);
      const label = recompute ? 'recomputed' : 'plain stack';
      assert.ok(
        Math.abs(plain.loss - blocked.loss) <= 1e-5 * Math.abs(plain.loss),
        `${label}: loss ${blocked.loss} vs ${plain.loss}`,
      );
      plain.grads.forEach((g, i) =>
        assert.ok(relativeDifference(blocked.grads[i], g) < 1e-4, `${label}: gradient of ${trained[i].name} differs`),
      );
      assert.ok(
        plain.grads.every((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0),
        'every gradient is non-zero, so the comparison is not vacuous',
      );
      tf.dispose([...plain.grads, ...blocked.grads]);
    }
  } finally {
    setAttentionQueryBlockRows(null);
    tf.dispose([embeds, target]);
    model.dispose();
  }
});
