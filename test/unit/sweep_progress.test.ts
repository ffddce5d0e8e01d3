// Where a sweep stands in the Runs view, and when it ends (extension/sweep_progress.ts): the counts
// come from the runs' own run.json files as the view lists them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRuns } from '../../sidecar/protocol/run_listing';
import type { RunStatus } from '../../sidecar/protocol/run_folder';
import {
  SweepEnds,
  countSweepRuns,
  describeSweepEnd,
  describeSweepProgress,
  liveRuns,
  resumableRuns,
  type SweepCounts,
} from '../../extension/sweep_progress';
import { writeRun } from '../browser/run_fixtures';

function counts(byStatus: Partial<SweepCounts['byStatus']>): SweepCounts {
  const full = {
    queued: 0,
    running: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    stale: 0,
    unreadable: 0,
    pending: 0,
    ...byStatus,
  };
  return { total: Object.values(full).reduce((a, b) => a + b, 0), byStatus: full };
}

test('a sweep is counted from its runs as listed, with folders not made yet pending', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-sweep-progress-'));
  t.after(() => rmSync(runsDir, { recursive: true, force: true }));
  const statuses: RunStatus[] = ['completed', 'completed', 'running', 'failed', 'cancelled', 'queued'];
  const runDirs = statuses.map((status, i) =>
    writeRun(runsDir, 'tiny', `20260101-000000-000${i}`, 'regression', {}, status),
  );
  // Another run of the same experiment, not in the sweep, and a run the sweep lists that is not there yet.
  writeRun(runsDir, 'tiny', '20260101-000000-00ff', 'regression', {}, 'failed');
  const notYet = join(runsDir, 'tiny', '20260101-000000-0009');
  const listing = new Map((await listRuns(runsDir)).map((run) => [run.runDir, run]));
  const c = countSweepRuns([...runDirs, notYet], listing);
  assert.deepEqual(c, {
    total: 7,
    byStatus: { queued: 1, running: 1, completed: 2, failed: 1, cancelled: 1, stale: 0, unreadable: 0, pending: 1 },
  });
  assert.equal(describeSweepProgress(c), '2/7 done, 1 running, 2 queued, 1 failed, 1 cancelled');
  assert.equal(liveRuns(c), 3);
  assert.equal(resumableRuns(c), 2);
});

test('the description keeps "k/N done, r running, f failed" and counts stale runs as failed', () => {
  assert.equal(describeSweepProgress(counts({ completed: 4 })), '4/4 done, 0 running, 0 failed');
  assert.equal(describeSweepProgress(counts({ running: 2, queued: 2 })), '0/4 done, 2 running, 2 queued, 0 failed');
  assert.equal(
    describeSweepProgress(counts({ completed: 1, stale: 1, failed: 1, unreadable: 1 })),
    '1/4 done, 0 running, 2 failed, 1 unreadable',
  );
  assert.equal(describeSweepEnd(counts({ completed: 3, failed: 1 })), '3 done, 1 failed of 4');
  assert.equal(describeSweepEnd(counts({ completed: 1, cancelled: 3 })), '1 done, 0 failed, 3 cancelled of 4');
});

test('a sweep ends when its last live run ends; a sweep first seen ended is not announced', () => {
  const ends = new SweepEnds();
  assert.deepEqual(
    ends.look(
      new Map([
        ['a', counts({ running: 2 })],
        ['old', counts({ completed: 2 })],
      ]),
    ),
    [],
  );
  assert.deepEqual(
    ends.look(
      new Map([
        ['a', counts({ running: 1, completed: 1 })],
        ['old', counts({ completed: 2 })],
      ]),
    ),
    [],
  );
  assert.deepEqual(
    ends.look(
      new Map([
        ['a', counts({ failed: 1, completed: 1 })],
        ['old', counts({ completed: 2 })],
      ]),
    ),
    ['a'],
  );
  // Ended is ended: the next look has nothing new.
  assert.deepEqual(ends.look(new Map([['a', counts({ failed: 1, completed: 1 })]])), []);
  // A sweep whose folders are not all made yet is not over.
  assert.deepEqual(ends.look(new Map([['b', counts({ pending: 2 })]])), []);
  assert.deepEqual(ends.look(new Map([['b', counts({ completed: 2 })]])), ['b']);
});

test('each end is announced once, by the sidecar or the folder, and again after a resume', () => {
  const ends = new SweepEnds();
  ends.look(new Map([['a', counts({ running: 2 })]]));
  // The sidecar says first; the folder then shows the same end.
  assert.equal(ends.claim('a'), true);
  assert.deepEqual(ends.look(new Map([['a', counts({ completed: 2 })]])), ['a']);
  assert.equal(ends.claim('a'), false);
  // Resumed, seen running in the folder, ended again: announced again.
  ends.look(new Map([['a', counts({ running: 1, completed: 1 })]]));
  assert.deepEqual(ends.look(new Map([['a', counts({ completed: 2 })]])), ['a']);
  assert.equal(ends.claim('a'), true);
  // Resumed from this window and ended before the folder ever showed it running: the sidecar's word counts.
  ends.started('a');
  assert.equal(ends.claim('a'), true);
  assert.equal(ends.claim('a'), false);
});
