// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { clipByGlobalNorm, globalNorm } from '../../sidecar/train/clip_grad_norm';

before(async () => {
  await tf.setBackend('cpu');
});

test('the global norm spans all tensors; clipping scales them together', async () => {
  const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) };
  assert.ok(Math.abs((await globalNorm(grads)) - 5) < 1e-6);
  const { gradients, norm } = await clipByGlobalNorm(grads, 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  const a = gradients.a.dataSync();
  const b = gradients.b.dataSync();
  assert.ok(Math.abs(a[0] - 0.6) < 1e-6 && Math.abs(b[1] - 0.8) < 1e-6);
  assert.ok(Math.abs((await globalNorm(gradients)) - 1) < 1e-5);
  tf.dispose([...Object.values(grads), ...Object.values(gradients)]);
});

test('below the limit, or with clipping disabled, gradients are unchanged', async () => {
  const grads = { a: tf.tensor1d([3, 4]) };
  for (const max of [10, 0, -1]) {
    const { gradients } = await clipByGlobalNorm(grads, max);
    assert.deepEqual(Array.from(gradients.a.dataSync()), [3, 4]);
    gradients.a.dispose();
  }
  grads.a.dispose();
});

test('a NaN gradient gives a non-finite norm and is not scaled', async () => {
  const grads = { a: tf.tensor1d([NaN, 1]) };
  const { gradients, norm } = await clipByGlobalNorm(grads, 1);
  assert.ok(Number.isNaN(norm));
  gradients.a.dispose();
  grads.a.dispose();
});

test("the norm of many gradients, summed in groups for the GPU's buffer limit, equals one addN's to the bit", async () => {
  const grads = Object.fromEntries(
    Array.from({ length: 41 }, (_, i) => [`g${i}`, tf.randomNormal([3 + (i % 5), 7], 0, 1 + i / 10, 'float32', i)]),
  );
  const oneKernel = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))));
  assert.equal(await globalNorm(grads), (await oneKernel.data())[0]);
  tf.dispose([oneKernel, ...Object.values(grads)]);
});
