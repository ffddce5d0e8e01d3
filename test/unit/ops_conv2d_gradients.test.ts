// The wasm backend's conv2d gradient kernels (sidecar/model/ops/wasm_conv2d_gradients.ts) against the cpu
// backend's own Conv2DBackpropInput/Conv2DBackpropFilter: 1×1, 3×3 and 5×5 filters, 'same', 'valid', asymmetric
// and explicit padding; values within 1e-5 relative. Then the velocity CNN's sameConv2d on wasm (now tf.conv2d)
// against the cpu reference; the stock fallback for strides; a clear error for what the filter kernel does not
// handle; no tensors or backend buffers left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  flipSwapFilter,
  registerWasmConvGradients,
  restoreWasmConvGradients,
  setFilterGradientMode,
  type FilterGradientMode,
} from '../../sidecar/model/ops/wasm_conv2d_gradients';
import { sameConv2d } from '../../sidecar/tasks/generation/velocity_cnn';

const require = createRequire(import.meta.url);
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  cin: number;
  cout: number;
  pad: Pad;
}

const cases: Case[] = [
  { x: [3, 6, 6, 4], k: [1, 1], cin: 4, cout: 5, pad: 'same' },
  { x: [3, 6, 6, 4], k: [3, 3], cin: 4, cout: 5, pad: 'same' },
  { x: [2, 7, 5, 3], k: [5, 5], cin: 3, cout: 2, pad: 'same' },
  { x: [2, 6, 6, 3], k: [3, 3], cin: 3, cout: 4, pad: 'valid' },
  { x: [2, 6, 6, 3], k: [2, 2], cin: 3, cout: 4, pad: 'same' }, // asymmetric: 0 before, 1 after
  {
    x: [2, 5, 6, 3],
    k: [3, 1],
    cin: 3,
    cout: 2,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [64, 8, 8, 16], k: [3, 3], cin: 16, cout: 32, pad: 'same' }, // the quickstart CNN's block conv, at its size
];

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** Seeds must be ≥ 1: TF.js treats seed 0 as "no seed" and draws different inputs on each backend. */
function convAndGrads(c: Case, seed: number): Result {
  return tf.tidy(() => {
    const x = tf.randomNormal<tf.Rank.R4>(c.x, 0, 1, 'float32', seed);
    const w = tf.randomNormal<tf.Rank.R4>([...c.k, c.cin, c.cout], 0, 1, 'float32', seed + 1);
    const y = tf.conv2d(x, w, 1, c.pad);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad), dy)),
    )([x, w]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

function maxRelative(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let gap = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    gap = Math.max(gap, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return gap / scale;
}

function backendBuffers(): number {
  return (tf.backend() as unknown as { dataIdMap: { numDataIds: () => number } }).dataIdMap.numDataIds();
}

test('flipSwapFilter flips the kernel in space and swaps its channel axes', () => {
  // (kH 2, kW 1, Cin 2, Cout 3): w[a, 0, ci, co] = 100a + 10ci + co.
  const w = Float32Array.from([0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]);
  const out = new Float32Array(12);
  flipSwapFilter(w, out, 2, 1, 2, 3);
  // out[a, 0, co, ci] = w[1 − a, 0, ci, co]
  assert.deepEqual(Array.from(out), [100, 110, 101, 111, 102, 112, 0, 10, 1, 11, 2, 12]);
});

// Each filter-gradient path: the column product (default), the same split into chunks of a few images (a
// limit of 2000 floats splits every case with a k×k filter), and the earlier image-as-filter convolution.
const modes: { name: string; mode: FilterGradientMode; columnFloatLimit?: number }[] = [
  { name: 'columns', mode: 'columns' },
  { name: 'columns split into chunks of images', mode: 'columns', columnFloatLimit: 2000 },
  { name: 'image as filter', mode: 'image-filter' },
];

for (const { name, mode, columnFloatLimit } of modes) {
  test(`wasm conv2d gradients (${name}) equal the cpu backend kernels (1e-5 relative), no leaks`, async () => {
    await tf.setBackend('cpu');
    const expected = cases.map((c, i) => convAndGrads(c, 10 * i + 1));
    await import('@tensorflow/tfjs-backend-wasm');
    assert.ok(await tf.setBackend('wasm'));
    assert.ok(registerWasmConvGradients());
    setFilterGradientMode(mode, { columnFloatLimit });
    try {
      const tensors = tf.memory().numTensors;
      const buffers = backendBuffers();
      cases.forEach((c, i) => {
        const actual = convAndGrads(c, 10 * i + 1);
        for (const key of ['y', 'dx', 'dw'] as const) {
          const error = maxRelative(actual[key], expected[i][key]);
          assert.ok(
            error < 1e-5,
            `x [${c.x.join(',')}], filter ${c.k.join('×')}, pad ${JSON.stringify(c.pad)}: ${key} relative error ${error}`,
          );
        }
      });
      assert.equal(tf.memory().numTensors, tensors, 'no tensors leak');
      assert.equal(backendBuffers(), buffers, "no wasm buffers leak from the kernels' intermediates");
    } finally {
      setFilterGradientMode('columns');
      await tf.setBackend('cpu');
    }
  });
}

test('sameConv2d on wasm uses tf.conv2d and its gradients equal the cpu reference (1e-5 relative)', async () => {
  await tf.setBackend('cpu');
  const run = (k: number) =>
    tf.tidy(() => {
      const x = tf.randomNormal<tf.Rank.R4>([4, 8, 8, 6], 0, 1, 'float32', k);
      const w = tf.randomNormal<tf.Rank.R4>([k, k, 6, 7], 0, 1, 'float32', k + 1);
      const dy = tf.randomNormal([4, 8, 8, 7], 0, 1, 'float32', k + 2);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(sameConv2d(a as tf.Tensor4D, b as tf.Tensor4D), dy));
      const [dx, dw] = tf.grads(f)([x, w]);
      return [sameConv2d(x, w), dx, dw].map((t) => t.dataSync() as Float32Array);
    });
  const reference = [1, 3, 5].map(run);
  await import('@tensorflow/tfjs-backend-wasm');
  assert.ok(await tf.setBackend('wasm'));
  restoreWasmConvGradients(); // sameConv2d must register the kernels itself
  [1, 3, 5].forEach((k, i) => {
    const actual = run(k);
    ['value', 'dx', 'dw'].forEach((name, j) => {
      const error = maxRelative(actual[j], reference[i][j]);
      assert.ok(error < 1e-5, `k=${k}: ${name} relative error ${error}`);
    });
  });
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'sameConv2d registered the wasm gradient kernels');
  await tf.setBackend('cpu');
});

test('strided convolutions: the input gradient falls back to the stock kernel, the filter gradient is a clear error', async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('cpu');
  const expected = tf.tidy(
    () =>
      tf
        .conv2dTranspose(tf.ones<tf.Rank.R4>([1, 3, 3, 2]), tf.ones<tf.Rank.R4>([3, 3, 4, 2]), [1, 6, 6, 4], 2, 'same')
        .dataSync() as Float32Array,
  );
  assert.ok(await tf.setBackend('wasm'));
  registerWasmConvGradients();
  const actual = tf.tidy(
    () =>
      tf
        .conv2dTranspose(tf.ones<tf.Rank.R4>([1, 3, 3, 2]), tf.ones<tf.Rank.R4>([3, 3, 4, 2]), [1, 6, 6, 4], 2, 'same')
        .dataSync() as Float32Array,
  );
  assert.ok(maxRelative(actual, expected) < 1e-6);
  assert.throws(
    () =>
      tf.tidy(() =>
        tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(tf.ones<tf.Rank.R4>([1, 6, 6, 2]), w as tf.Tensor4D, 2, 'same')))(
          tf.ones([3, 3, 2, 2]),
        ),
      ),
    /wasm Conv2DBackpropFilter: only stride-1 channels-last float32 convolutions are supported, got strides 2/,
  );
  await tf.setBackend('cpu');
});
