// The WSD schedule at its boundaries, and no restart past the end (the reference's modulo bug).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phasesFromEpochs, phasesFromSteps, wsdFactor } from '../../sidecar/train/wsd_schedule';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('warm-up is linear from 0 and reaches 1 at its end', () => {
  const phases = { warmup: 4, stable: 3, decay: 4 };
  close(wsdFactor(0, phases), 0);
  close(wsdFactor(1, phases), 0.25);
  close(wsdFactor(3, phases), 0.75);
  close(wsdFactor(4, phases), 1);
});

test('stable phase holds 1; decay is a half cosine to 0', () => {
  const phases = { warmup: 4, stable: 3, decay: 4 };
  close(wsdFactor(6, phases), 1);
  close(wsdFactor(7, phases), 1); // first decay step: progress 0
  close(wsdFactor(9, phases), 0.5); // progress 0.5
  close(wsdFactor(8, phases), 0.5 * (1 + Math.cos(Math.PI / 4)));
});

test('past the end the factor stays 0 (no restart)', () => {
  const phases = { warmup: 2, stable: 2, decay: 2 };
  close(wsdFactor(6, phases), 0);
  close(wsdFactor(7, phases), 0);
  close(wsdFactor(100, phases), 0);
  close(wsdFactor(100, { warmup: 0, stable: 5, decay: 0 }), 1);
});

test('epochs convert to steps with the stable phase filling the rest', () => {
  assert.deepEqual(phasesFromEpochs({ warmupEpochs: 1, decayEpochs: 1, totalEpochs: 3, stepsPerEpoch: 10 }), {
    warmup: 10,
    stable: 10,
    decay: 10,
  });
  assert.deepEqual(phasesFromSteps({ warmup: 0, decay: 5, total: 5 }), { warmup: 0, stable: 0, decay: 5 });
});

test('bad schedules are refused with the reason', () => {
  assert.throws(() => phasesFromSteps({ warmup: 5, decay: 6, total: 10 }), /exceed the run length \(10 steps\)/);
  assert.throws(() => wsdFactor(-1, { warmup: 1, stable: 1, decay: 1 }), /integer ≥ 0/);
  assert.throws(() => wsdFactor(0, { warmup: 1.5, stable: 1, decay: 1 }), /warmup must be a whole number/);
});
