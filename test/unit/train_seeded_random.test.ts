// The trainer's seeded randomness: epoch orders are permutations (with train_ds_multiplicity
// repeats), fixed by (seed, epoch) alone — what makes resume exact — and differ between epochs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochOrder, hashSeed, mulberry32, opSeed } from '../../sidecar/train/seeded_random';

test('an epoch order visits every example `multiplicity` times', () => {
  const order = epochOrder(3, 0, 10, 2);
  assert.equal(order.length, 20);
  const counts = new Array(10).fill(0);
  for (const i of order) counts[i] += 1;
  assert.deepEqual(counts, new Array(10).fill(2));
});

test('orders depend only on (seed, epoch)', () => {
  assert.deepEqual(epochOrder(7, 4, 50), epochOrder(7, 4, 50));
  assert.notDeepEqual(epochOrder(7, 4, 50), epochOrder(7, 5, 50));
  assert.notDeepEqual(epochOrder(7, 4, 50), epochOrder(8, 4, 50));
});

test('seeds: distinct for nearby inputs, positive 31-bit for TF.js ops; uniform floats in [0, 1)', () => {
  const seen = new Set<number>();
  for (let step = 0; step < 1000; step++)
    for (let purpose = 0; purpose < 3; purpose++) seen.add(opSeed(42, step, purpose));
  assert.equal(seen.size, 3000);
  for (const s of seen) assert.ok(s >= 0 && s < 2 ** 31);
  assert.notEqual(hashSeed(1, 2), hashSeed(2, 1));
  const random = mulberry32(1);
  let sum = 0;
  for (let i = 0; i < 10000; i++) {
    const u = random();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
});

test('bad arguments are refused with the reason', () => {
  assert.throws(() => epochOrder(1, 0, 10, 0), /train_ds_multiplicity must be an integer ≥ 1, got 0/);
  assert.throws(() => epochOrder(1, 0, -1), /dataset size must be an integer ≥ 0/);
  assert.throws(() => hashSeed(NaN), /expected finite numbers/);
});
