// The CFM head's velocity CNN: the paper's parameter count (hand count 494,465), shapes, bad input,
// a training step that lowers the loss, and no leaked tensors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { VelocityCnn, paperVelocityCnn } from '../../sidecar/tasks/generation/velocity_cnn';

before(async () => {
  await tf.setBackend('cpu');
});

test('the paper CNN has 494,465 parameters (about 490k)', () => {
  const cnn = new VelocityCnn({ ...paperVelocityCnn, seed: 1 });
  // conv in 4·64·9 + 64, six blocks of 64·128·9 + 128·64 (no biases), conv out 64·9 + 1.
  const hand = 4 * 64 * 9 + 64 + 6 * (64 * 128 * 9 + 128 * 64) + 64 * 9 + 1;
  assert.equal(cnn.parameterCount(), hand);
  assert.equal(hand, 494465);
  assert.deepEqual(cnn.blockConv[0].shape, [3, 3, 64, 128]);
  assert.deepEqual(cnn.blockProjection[0].shape, [1, 1, 128, 64]);
  cnn.dispose();
});

test('maps (M, p²) patches with τ and a condition to (M, p²), τ as a number or per patch', () => {
  const cnn = new VelocityCnn({
    patchSize: 4,
    condChannels: 2,
    channels: 8,
    blocks: 2,
    residualFactor: 2,
    kernelSize: 3,
    seed: 3,
  });
  const before = tf.memory().numTensors;
  const x = tf.randomNormal([5, 16]);
  const cond = tf.randomNormal([5, 32]);
  const a = cnn.apply(x, 0.3, cond);
  const taus = tf.fill([5], 0.3);
  const b = cnn.apply(x, taus, cond);
  const c = cnn.apply(x, 0.9, cond);
  assert.deepEqual(a.shape, [5, 16]);
  const gap = (u: tf.Tensor, v: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(u, v))).dataSync()[0]);
  assert.ok(gap(a, b) < 1e-6, 'scalar and per-patch τ agree');
  assert.ok(gap(a, c) > 1e-4, 'τ changes the output');
  tf.dispose([x, cond, a, b, c, taus]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => cnn.apply(tf.zeros([5, 15]), 0, tf.zeros([5, 32])), /x must be \(patches, 16\)/);
  assert.throws(() => cnn.apply(tf.zeros([5, 16]), 0, tf.zeros([5, 16])), /cond must be \(5, 32\)/);
  assert.throws(
    () =>
      new VelocityCnn({
        patchSize: 4,
        condChannels: 2,
        channels: 8,
        blocks: 1,
        residualFactor: 2,
        kernelSize: 2,
        seed: 0,
      }),
    /kernel_size must be odd/,
  );
  cnn.dispose();
});

test('a few Adam steps lower the regression loss of the CNN', () => {
  const cnn = new VelocityCnn({
    patchSize: 4,
    condChannels: 1,
    channels: 8,
    blocks: 1,
    residualFactor: 2,
    kernelSize: 3,
    seed: 5,
  });
  const x = tf.randomNormal([8, 16], 0, 1, 'float32', 1);
  const cond = tf.randomNormal([8, 16], 0, 1, 'float32', 2);
  const target = tf.add(cond, 1);
  const optimizer = tf.train.adam(0.01);
  const loss = () => tf.mean<tf.Scalar>(tf.square(tf.sub(cnn.apply(x, 0.5, cond), target)));
  const first = loss().dataSync()[0];
  for (let i = 0; i < 20; i++)
    optimizer
      .minimize(
        loss,
        true,
        cnn.namedWeights().map(([, v]) => v),
      )
      ?.dispose();
  assert.ok(loss().dataSync()[0] < 0.5 * first);
  optimizer.dispose();
  cnn.dispose();
});

test('the im2col convolution (for backends without conv2d gradients) equals tf.conv2d, values and gradients', async () => {
  const { sameConv2d } = await import('../../sidecar/tasks/generation/velocity_cnn');
  for (const k of [1, 3, 5]) {
    const x = tf.randomNormal<tf.Rank.R4>([3, 6, 6, 4], 0, 1, 'float32', k);
    const kernel = tf.randomNormal<tf.Rank.R4>([k, k, 4, 5], 0, 1, 'float32', k + 1);
    const gap = tf.tidy(
      () => tf.max(tf.abs(tf.sub(sameConv2d(x, kernel, true), tf.conv2d(x, kernel, 1, 'same')))).dataSync()[0],
    );
    assert.ok(gap < 1e-4, `k=${k}: values differ by ${gap}`);
    const grads = (im2col: boolean) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(sameConv2d(a as tf.Tensor4D, b as tf.Tensor4D, im2col))),
      )([x, kernel]);
    const [gx1, gk1] = grads(true);
    const [gx2, gk2] = grads(false);
    const gradGap = tf.tidy(() =>
      Math.max(tf.max(tf.abs(tf.sub(gx1, gx2))).dataSync()[0], tf.max(tf.abs(tf.sub(gk1, gk2))).dataSync()[0]),
    );
    assert.ok(gradGap < 1e-3, `k=${k}: gradients differ by ${gradGap}`);
    tf.dispose([x, kernel, gx1, gk1, gx2, gk2]);
  }
});
