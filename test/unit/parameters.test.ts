import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denormalizeParams, fiducialParams, normalizeParams, parameterNames } from '../../sidecar/data/parameters';

test('normalisation maps the prior bounds to 0 and 1 and round-trips', () => {
  const n = normalizeParams(fiducialParams);
  assert.equal(n.length, 6);
  for (const v of n) assert.ok(v > 0 && v < 1);
  const back = denormalizeParams(n);
  for (const name of parameterNames) assert.ok(Math.abs(back[name] - fiducialParams[name]) < 1e-12);
  assert.deepEqual(Array.from(normalizeParams(denormalizeParams([0, 0, 0, 0, 0, 0]))), [0, 0, 0, 0, 0, 0]);
});

test('denormalisation rejects a wrong length', () => {
  assert.throws(() => denormalizeParams([0.5]), /expected 6 values, got 1/);
});
