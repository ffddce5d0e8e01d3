// The hot ops (linear, attentionScores, attentionOutput) against the plain TF.js ops: values and gradients,
// on the cpu backend and on the wasm backend (where they run the fast XNNPACK kernel), for random shapes
// including odd sizes; and no tensor leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { linear } from '../../sidecar/model/ops/linear';
import { attentionOutput, attentionScores } from '../../sidecar/model/ops/attention_matmul';
import { matMulFast } from '../../sidecar/model/ops/matmul';
import { overrideWasmBatchMatMul, restoreStockWasmMatMul } from '../../sidecar/model/ops/wasm_fast_matmul';

const require = createRequire(import.meta.url);
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);

/** Norm-relative error ||a - b|| / ||b||: the float32 rounding of different summation orders stays far below 1e-5. */
function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => {
    const diff = tf.norm(tf.sub(actual, expected)).dataSync()[0];
    const scale = tf.norm(expected).dataSync()[0];
    return diff / Math.max(scale, 1e-30);
  });
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const error = relativeError(actual, expected);
  assert.ok(error < 1e-5, `${what}: relative error ${error.toExponential(2)} ≥ 1e-5`);
}

let seed = 1;
const randn = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed++);

/** Values and gradients of `fast(...inputs)` and `plain(...inputs)` under a random cotangent. */
function compare(
  name: string,
  inputs: tf.Tensor[],
  fast: (...xs: tf.Tensor[]) => tf.Tensor,
  plain: (...xs: tf.Tensor[]) => tf.Tensor,
): void {
  tf.tidy(() => {
    const yFast = fast(...inputs);
    const yPlain = plain(...inputs);
    assertClose(yFast, yPlain, `${name} value`);
    const cotangent = randn(yPlain.shape);
    const lossOf =
      (f: (...xs: tf.Tensor[]) => tf.Tensor) =>
      (...xs: tf.Tensor[]) =>
        tf.sum(tf.mul(f(...xs), cotangent));
    const gFast = tf.grads(lossOf(fast))(inputs);
    const gPlain = tf.grads(lossOf(plain))(inputs);
    gFast.forEach((g, i) => assertClose(g, gPlain[i], `${name} gradient ${i}`));
  });
}

const plainLinear = (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor => {
  const y = tf.matMul(x.reshape([-1, w.shape[1]!]), w, false, true);
  return (b ? tf.add(y, b) : y).reshape([...x.shape.slice(0, -1), w.shape[0]]);
};

async function use(backend: 'cpu' | 'wasm'): Promise<void> {
  assert.equal(await tf.setBackend(backend), true, `the ${backend} backend initialises`);
  assert.equal(tf.getBackend(), backend);
}

function suite(backend: 'cpu' | 'wasm'): void {
  test(`${backend}: linear equals x·Wᵀ + b in value and gradients (odd sizes, with and without bias)`, async () => {
    await use(backend);
    for (const [lead, inF, outF] of [
      [[3, 5], 7, 11],
      [[2, 9], 16, 1],
      [[13], 1, 6],
      [[1, 1], 33, 17],
    ] as const) {
      const x = randn([...lead, inF]);
      const w = randn([outF, inF]);
      const b = randn([outF]);
      const before = tf.memory().numTensors;
      compare(
        `linear ${lead.join(',')}x${inF}->${outF} bias`,
        [x, w, b],
        (xx, ww, bb) => linear(xx, ww, bb),
        plainLinear,
      );
      compare(
        `linear ${lead.join(',')}x${inF}->${outF}`,
        [x, w],
        (xx, ww) => linear(xx, ww),
        (xx, ww) => plainLinear(xx, ww),
      );
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
      tf.dispose([x, w, b]);
    }
  });

  test(`${backend}: attentionScores and attentionOutput equal the plain batched products`, async () => {
    await use(backend);
    for (const [b, h, t, s, d] of [
      [2, 3, 5, 7, 4],
      [1, 1, 1, 9, 3],
      [3, 2, 8, 8, 16],
      [2, 4, 13, 1, 5],
    ]) {
      const q = randn([b, h, t, d]);
      const k = randn([b, h, s, d]);
      const p = randn([b, h, t, s]);
      const v = randn([b, h, s, d]);
      const before = tf.memory().numTensors;
      compare(`scores ${[b, h, t, s, d].join(',')}`, [q, k], attentionScores, (qq, kk) =>
        tf.matMul(qq, kk, false, true),
      );
      compare(`output ${[b, h, t, s, d].join(',')}`, [p, v], attentionOutput, (pp, vv) => tf.matMul(pp, vv));
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
      tf.dispose([q, k, p, v]);
    }
  });

  test(`${backend}: matMulFast handles every transpose combination and one-sided batch broadcast`, async () => {
    await use(backend);
    tf.tidy(() => {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const a = randn(ta ? [3, 6, 5] : [3, 5, 6]);
        const bb = randn(tb ? [3, 7, 6] : [3, 6, 7]);
        assertClose(matMulFast(a, bb, ta, tb), tf.matMul(a, bb, ta, tb), `batched ${ta}/${tb}`);
        const w = randn(tb ? [7, 6] : [6, 7]);
        assertClose(matMulFast(a, w, ta, tb), tf.matMul(a, w, ta, tb), `shared right ${ta}/${tb}`);
        // Few rows against a wide weight: the kernel computes (op(B)ᵀ·op(A)ᵀ)ᵀ instead.
        const rows = randn(ta ? [40, 2] : [2, 40]);
        const wide = randn(tb ? [50, 40] : [40, 50]);
        assertClose(matMulFast(rows, wide, ta, tb), tf.matMul(rows, wide, ta, tb), `swapped 2D ${ta}/${tb}`);
        const left = randn(ta ? [6, 5] : [5, 6]);
        assertClose(matMulFast(left, bb, ta, tb), tf.matMul(left, bb, ta, tb), `shared left ${ta}/${tb}`);
      }
    });
  });

  test(`${backend}: bad shapes give errors that name the operands`, async () => {
    await use(backend);
    tf.tidy(() => {
      assert.throws(() => linear(tf.zeros([2, 3]), tf.zeros([4, 5])), /must end in 5 features/);
      assert.throws(() => linear(tf.zeros([2, 5]), tf.zeros([4, 5]), tf.zeros([3])), /bias must be 1D \[4\]/);
      assert.throws(() => attentionScores(tf.zeros([1, 2, 3, 4]), tf.zeros([1, 2, 3, 5])), /contracted axis/);
      assert.throws(
        () => attentionOutput(tf.zeros([1, 2, 3, 4]), tf.zeros([1, 1, 4, 5])),
        /repeat the key\/value heads/,
      );
    });
  });
}

suite('cpu');
suite('wasm');

test('wasm: the global BatchMatMul override gives the stock numbers for tf.matMul and its gradient', async () => {
  await use('wasm');
  const a = randn([2, 3, 9, 5]);
  const b = randn([2, 3, 7, 5]);
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, false, true)));
  const [stockValue, ...stockGrads] = tf.tidy(() => [f(a, b), ...tf.grads(f)([a, b])].map((t) => tf.keep(t)));
  try {
    for (const variant of ['xnn', 'transpose'] as const) {
      assert.equal(overrideWasmBatchMatMul(variant), true);
      tf.tidy(() => {
        assertClose(f(a, b), stockValue, `${variant} override: value`);
        tf.grads(f)([a, b]).forEach((g, i) => assertClose(g, stockGrads[i], `${variant} override: gradient ${i}`));
      });
    }
  } finally {
    restoreStockWasmMatMul();
    tf.dispose([a, b, stockValue, ...stockGrads]);
  }
});

test('wasm: zero-copy Identity/Cast share buffers safely: a clone outlives its source, gradients unchanged', async () => {
  await use('wasm');
  const { overrideWasmCopies, restoreWasmCopies } = await import('../../sidecar/model/ops/wasm_zero_copy');
  const x = randn([4, 5]);
  const w = randn([3, 5]);
  const b = randn([3]);
  const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.sigmoid(linear(xx, ww, bb))));
  const stock = tf.tidy(() =>
    tf
      .grads(f)([x, w, b])
      .map((g) => tf.keep(g)),
  );
  assert.equal(overrideWasmCopies(), true);
  try {
    const before = tf.memory().numTensors;
    const source = tf.tensor1d([1, 2, 3]);
    const copy = source.clone();
    const same = tf.cast(source, 'float32');
    source.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3], 'the clone keeps its data after the source is disposed');
    const converted = tf.cast(same, 'int32');
    assert.equal(converted.dtype, 'int32');
    assert.deepEqual(Array.from(converted.dataSync()), [1, 2, 3], 'a real cast still converts');
    tf.dispose([copy, same, converted]);
    assert.equal(tf.memory().numTensors, before);
    tf.tidy(() =>
      tf
        .grads(f)([x, w, b])
        .forEach((g, i) => assertClose(g, stock[i], `zero-copy gradient ${i}`)),
    );
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  } finally {
    restoreWasmCopies();
    tf.dispose([x, w, b, ...stock]);
  }
});
