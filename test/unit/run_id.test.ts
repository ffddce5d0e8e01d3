import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRunId, newRunId, parseRunIdTime } from '../../sidecar/runs/run_id';

test('run id has the form YYYYMMDD-HHMMSS-xxxx in UTC', () => {
  assert.equal(newRunId(new Date('2026-03-04T05:06:07.890Z'), 'beef'), '20260304-050607-beef');
  assert.match(newRunId(), /^\d{8}-\d{6}-[0-9a-f]{4}$/);
});

test('run ids sort by time as plain strings', () => {
  const times = ['2025-12-31T23:59:59Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '2026-10-02T09:00:00Z'];
  const ids = times.map((t, i) => newRunId(new Date(t), ['ffff', '0000', 'aaaa', '1111'][i]));
  assert.deepEqual([...ids].reverse().sort(), ids);
});

test('parseRunIdTime round-trips and rejects what is not a run id', () => {
  const time = new Date('2026-11-23T10:25:08Z');
  assert.equal(parseRunIdTime(newRunId(time))?.toISOString(), time.toISOString());
  for (const bad of [
    '20261123-102508',
    '20261123-102508-XYZW',
    '20260231-000000-abcd',
    '20261123-246000-abcd',
    'latest',
    '',
  ]) {
    assert.equal(parseRunIdTime(bad), null, bad);
    assert.equal(isRunId(bad), false, bad);
  }
});

test('bad arguments are refused with a message', () => {
  assert.throws(() => newRunId(new Date(), 'GG'), /suffix must be 4 lowercase hex digits, got "GG"/);
  assert.throws(() => newRunId(new Date('nonsense')), /invalid Date/);
});
