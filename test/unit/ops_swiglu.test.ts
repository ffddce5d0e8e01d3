// The one-pass SiLU-gate kernels (sidecar/model/ops/swiglu_kernel.ts) against the composed TF.js ops
// gate · σ(gate) · up: values and both gradients on cpu and wasm, including a tensor large enough that the
// kernel's output allocation grows the wasm heap (the kernels take their views after allocating, as they must); bad input; no leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { swiglu } from '../../sidecar/model/ops/swiglu_kernel';

const require = createRequire(import.meta.url);
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);

function maxRelative(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] / tf.max(tf.abs(expected)).dataSync()[0]);
}

function check(backend: string, shape: number[]): void {
  tf.tidy(() => {
    const gate = tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 5), 3);
    const up = tf.randomNormal(shape, 0, 1, 'float32', 6);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 7);
    const plain = (g: tf.Tensor, u: tf.Tensor): tf.Tensor => tf.mul(tf.mul(g, tf.sigmoid(g)), u);
    const valueError = maxRelative(swiglu(gate, up), plain(gate, up));
    assert.ok(valueError < 1e-6, `${backend} [${shape.join(',')}]: value error ${valueError}`);
    const fusedGrads = tf.grads((g: tf.Tensor, u: tf.Tensor) => tf.sum(tf.mul(swiglu(g, u), dy)))([gate, up]);
    const plainGrads = tf.grads((g: tf.Tensor, u: tf.Tensor) => tf.sum(tf.mul(plain(g, u), dy)))([gate, up]);
    ['gate', 'up'].forEach((name, i) => {
      const error = maxRelative(fusedGrads[i], plainGrads[i]);
      assert.ok(error < 1e-5, `${backend} [${shape.join(',')}]: d${name} error ${error}`);
    });
  });
}

test('swiglu kernels equal gate·σ(gate)·up, values and gradients, cpu and wasm', async () => {
  await tf.setBackend('cpu');
  check('cpu', [2, 3, 7]);
  await import('@tensorflow/tfjs-backend-wasm');
  assert.ok(await tf.setBackend('wasm'));
  const before = tf.memory().numTensors;
  check('wasm', [2, 3, 7]);
  check('wasm', [4, 512, 1024]); // 8 MiB per tensor: the outputs grow the heap
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  await tf.setBackend('cpu');
});

test('swiglu: mismatched shapes are a clear error', () => {
  tf.tidy(() => {
    assert.throws(
      () => swiglu(tf.zeros([2, 3]), tf.zeros([2, 4])),
      /swiglu: gate and up must be float32 tensors of one shape, got \[2,3\]/,
    );
  });
});
