// What the Runs view and its Queue section show for the sidecar's queue (extension/queue_places.ts):
// a resumed run waiting in the queue shows as queued although its run.json says cancelled or failed,
// the Queue rows are in run order with the moves that apply, and a place reads as a person says it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueueState } from '../../sidecar/protocol/messages';
import type { RunListing } from '../../sidecar/protocol/run_listing';
import type { RunStatus } from '../../sidecar/protocol/run_folder';
import { describeQueuePlace, queuePlace, queueRows, withQueueStatus } from '../../extension/queue_places';

function listing(runDir: string, status: RunStatus): RunListing {
  const runId = runDir.split('/').pop()!;
  return {
    kind: 'run',
    experiment: 'exp',
    runId,
    runDir,
    displayStatus: status,
    record: {
      id: runId,
      experiment: 'exp',
      task: 'regression',
      status,
      createdAt: '2026-01-01T00:00:00Z',
      version: '1',
    },
  };
}

const queue: QueueState = {
  active: { runDir: '/r/exp/a', kind: 'start' },
  waiting: [
    { runDir: '/r/exp/b', kind: 'resume' },
    { runDir: '/r/exp/c', kind: 'start' },
    { runDir: '/r/other/d', kind: 'resume' },
  ],
};

test('a cancelled or failed run waiting to resume shows as queued; other runs as their folder says', () => {
  const shown = (runDir: string, status: RunStatus) =>
    (withQueueStatus(listing(runDir, status), queue) as { displayStatus: string }).displayStatus;
  assert.equal(shown('/r/exp/b', 'cancelled'), 'queued');
  assert.equal(shown('/r/other/d', 'failed'), 'queued');
  assert.equal(shown('/r/exp/b/', 'cancelled'), 'queued', 'the same folder spelled with a trailing slash');
  assert.equal(shown('/r/exp/e', 'cancelled'), 'cancelled', 'not in the queue');
  assert.equal(shown('/r/exp/a', 'running'), 'running');
  assert.equal(shown('/r/exp/c', 'queued'), 'queued');
  // The running entry has started: its run.json says so, and a stale cancelled one is not dressed up.
  assert.equal(shown('/r/exp/a', 'cancelled'), 'cancelled');
  const empty: QueueState = { active: null, waiting: [] };
  assert.equal(
    (withQueueStatus(listing('/r/exp/b', 'cancelled'), empty) as { displayStatus: string }).displayStatus,
    'cancelled',
  );
});

test('places: running, or waiting n of m (1 is next), with resumes named', () => {
  assert.deepEqual(queuePlace(queue, '/r/exp/a'), { state: 'running', kind: 'start' });
  assert.deepEqual(queuePlace(queue, '/r/exp/c'), { state: 'waiting', kind: 'start', position: 2, of: 3 });
  assert.equal(queuePlace(queue, '/r/exp/zz'), undefined);
  assert.equal(describeQueuePlace(queuePlace(queue, '/r/exp/a')!), 'running');
  assert.equal(describeQueuePlace(queuePlace(queue, '/r/exp/b')!), 'waiting to resume, 1 of 3');
  assert.equal(describeQueuePlace(queuePlace(queue, '/r/exp/c')!), 'waiting 2 of 3');
});

test('Queue rows: the running run first, then the waiting ones in order, each with the moves that apply', () => {
  assert.deepEqual(
    queueRows(queue).map((r) => [`${r.experiment}/${r.runId}`, r.place.state, r.canMoveUp, r.canMoveDown]),
    [
      ['exp/a', 'running', false, false],
      ['exp/b', 'waiting', false, true],
      ['exp/c', 'waiting', true, true],
      ['other/d', 'waiting', true, false],
    ],
  );
  assert.deepEqual(queueRows({ active: null, waiting: [] }), []);
});
