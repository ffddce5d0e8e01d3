// The one-pass rotary kernel (sidecar/model/ops/rotary_kernel.ts) against HF's composition
// x · cos + rotate_half(x) · sin (sidecar/model/qwen2_rotary.ts): values and input gradients on the cpu and wasm
// backends, odd positions (a cache offset), single-token input; a clear error for mismatched tables; no leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { applyRotaryFused, rotateRows } from '../../sidecar/model/ops/rotary_kernel';
import { applyRotary, rotaryTables } from '../../sidecar/model/qwen2_rotary';

const require = createRequire(import.meta.url);
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);

function maxRelative(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] / tf.max(tf.abs(expected)).dataSync()[0]);
}

function checkBackend(backend: string): void {
  const cases: { shape: number[]; positions: number[] }[] = [
    { shape: [2, 3, 5, 8], positions: [0, 1, 2, 3, 4] },
    { shape: [1, 2, 4, 16], positions: [7, 8, 9, 10] }, // after 7 cached tokens
    { shape: [3, 1, 1, 4], positions: [12] }, // one new token
  ];
  for (const { shape, positions } of cases) {
    tf.tidy(() => {
      const d = shape[3];
      const tables = rotaryTables(positions, d, 1e4);
      const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
      const dy = tf.randomNormal(shape, 0, 1, 'float32', 4);
      const fused = tf.grad((input: tf.Tensor) =>
        tf.sum(tf.mul(applyRotaryFused(input, tables.cos, tables.signedSin), dy)),
      );
      const plain = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(applyRotary(input, tables.cos, tables.sin), dy)));
      const valueError = maxRelative(
        applyRotaryFused(x, tables.cos, tables.signedSin),
        applyRotary(x, tables.cos, tables.sin),
      );
      assert.ok(valueError < 1e-6, `${backend} [${shape.join(',')}]: value error ${valueError}`);
      const gradError = maxRelative(fused(x), plain(x));
      assert.ok(gradError < 1e-6, `${backend} [${shape.join(',')}]: gradient error ${gradError}`);
    });
  }
}

test('rotary kernel equals rotate_half composition, values and gradients, cpu and wasm', async () => {
  await tf.setBackend('cpu');
  checkBackend('cpu');
  await import('@tensorflow/tfjs-backend-wasm');
  assert.ok(await tf.setBackend('wasm'));
  const before = tf.memory().numTensors;
  checkBackend('wasm');
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  await tf.setBackend('cpu');
});

test('rotateRows: the inverse rotation undoes the rotation', () => {
  const d = 6;
  const length = 2;
  const angles = [0.3, -1.1, 2.0, 0.7, 0.05, -2.5];
  const cos = new Float32Array(length * d);
  const sin = new Float32Array(length * d);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < d / 2; i++) {
      const a = angles[t * 3 + i];
      cos[t * d + i] = cos[t * d + i + d / 2] = Math.cos(a);
      sin[t * d + i] = -Math.sin(a);
      sin[t * d + i + d / 2] = Math.sin(a);
    }
  }
  const x = Float32Array.from({ length: 3 * length * d }, (_, i) => Math.sin(i * 1.7) * 3);
  const y = new Float32Array(x.length);
  const back = new Float32Array(x.length);
  rotateRows(x, cos, sin, y, length, d, false);
  rotateRows(y, cos, sin, back, length, d, true);
  assert.ok(
    y.some((v, i) => Math.abs(v - x[i]) > 0.1),
    'the rotation moves the vector',
  );
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(back[i] - x[i]) < 1e-5, `entry ${i}: ${back[i]} vs ${x[i]}`);
});

test('rotary kernel: tables of another length are a clear error', () => {
  tf.tidy(() => {
    const tables = rotaryTables([0, 1, 2], 8, 1e4);
    assert.throws(
      () => applyRotaryFused(tf.zeros([1, 2, 4, 8]), tables.cos, tables.signedSin),
      /applyRotaryFused: x must be float32 \(\.\.\., T, d\).*x \[1,2,4,8\].*cos \[3,8\]/,
    );
  });
});
