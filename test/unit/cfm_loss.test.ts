// The CFM loss of Eq. 41 against a hand computation with a velocity field simple enough to evaluate on paper.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { cfmLoss, drawCfmNoise, linearPath } from '../../sidecar/tasks/generation/cfm_loss';

before(async () => {
  await tf.setBackend('cpu');
});

test('linear path and loss equal the hand computation', () => {
  const target = tf.tensor2d([
    [1, 2],
    [3, -1],
  ]);
  const noise = tf.tensor2d([
    [0.5, -0.5],
    [0, 1],
  ]);
  const tau = tf.tensor1d([0.25, 0.5]);
  const { xTau, velocity } = linearPath(target, { noise, tau });
  // x_τ = (1−τ)ε + τx₁: row 0 → 0.75·[0.5, −0.5] + 0.25·[1, 2] = [0.625, 0.125]; row 1 → [1.5, 0].
  assert.deepEqual(Array.from(xTau.dataSync()), [0.625, 0.125, 1.5, 0]);
  assert.deepEqual(Array.from(velocity.dataSync()), [0.5, 2.5, 3, -2]);
  // Field v = 2·x_τ + τ + cond with cond = 0.1: predictions [1.6, 0.6], [3.6, 0.6].
  const field = (x: tf.Tensor, t: tf.Tensor, cond: tf.Tensor) =>
    tf.add(tf.add(tf.mul(x, 2), tf.reshape(t, [-1, 1])), cond);
  const loss = cfmLoss(field, target, tf.scalar(0.1), { noise, tau });
  const hand = ((1.6 - 0.5) ** 2 + (0.6 - 2.5) ** 2 + (3.6 - 3) ** 2 + (0.6 + 2) ** 2) / 4;
  assert.ok(Math.abs(loss.dataSync()[0] - hand) < 1e-5, `${loss.dataSync()[0]} vs ${hand}`);
  tf.dispose([target, noise, tau, xTau, velocity, loss]);
});

test('the exact velocity field of a point target has zero loss; noise draws are seeded and shaped', () => {
  const target = tf.tensor2d([[1, -2, 0.5]]);
  const draws = drawCfmNoise(1, 3, 7);
  const again = drawCfmNoise(1, 3, 7);
  assert.deepEqual(Array.from(draws.noise.dataSync()), Array.from(again.noise.dataSync()));
  assert.deepEqual(draws.tau.shape, [1]);
  // For a single target x₁ the optimal field is (x₁ − x_τ)/(1 − τ), which equals x₁ − ε on the path.
  const field = (x: tf.Tensor, t: tf.Tensor) => tf.div(tf.sub(target, x), tf.sub(1, tf.reshape(t, [-1, 1])));
  const loss = cfmLoss(field, target, tf.scalar(0), draws);
  assert.ok(loss.dataSync()[0] < 1e-8);
  assert.throws(() => cfmLoss(field, target, tf.scalar(0), drawCfmNoise(2, 3, 1)), /must be \(M, D\)/);
  tf.dispose([target, draws.noise, draws.tau, again.noise, again.tau, loss]);
});
