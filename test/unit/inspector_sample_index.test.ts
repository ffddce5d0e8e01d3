// samples/index.json as the inspector's host reads it: an entry's checkpoint step and slice side pass
// through when they are well formed; a malformed one is dropped from its entry with a problem naming the
// entry, the field and what was expected, while the sample itself is still shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectorInit } from '../../extension/panels/run_data';
import { writeRun } from '../browser/run_fixtures';

test('samples/index.json: a malformed checkpointStep or boxMpc is dropped with its reason, and the sample stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-sample-index-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', {});
    mkdirSync(join(runDir, 'samples'));
    const entry = {
      lightcone: 0,
      firstSlice: 2,
      contextSlices: 2,
      generated: 'g.npy',
      truth: 't.npy',
      createdAt: '2026-12-01T10:00:00Z',
    };
    writeFileSync(
      join(runDir, 'samples', 'index.json'),
      JSON.stringify({
        entries: [
          { ...entry, checkpointStep: 1200, boxMpc: 100 },
          { ...entry, checkpointStep: 'late', boxMpc: -5 },
          { ...entry, checkpointStep: 2.5 },
          entry,
        ],
      }),
    );
    const init = await inspectorInit(runDir);
    const entries = init.samples?.entries ?? [];
    assert.equal(entries.length, 4, 'every sample is kept');
    assert.deepEqual(
      entries.map((e) => [e.checkpointStep, e.boxMpc]),
      [
        [1200, 100],
        [undefined, undefined],
        [undefined, undefined],
        [undefined, undefined],
      ],
    );
    assert.deepEqual(init.problems, [
      'samples/index.json entry 1: "checkpointStep" is "late", not a training step (an integer ≥ 0); the sample is shown as "step unknown"',
      'samples/index.json entry 1: "boxMpc" is -5, not a slice side in Mpc (a number > 0); its axes are in cells',
      'samples/index.json entry 2: "checkpointStep" is 2.5, not a training step (an integer ≥ 0); the sample is shown as "step unknown"',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
