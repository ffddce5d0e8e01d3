// Where a run stands in this window's sidecar queue, for the Runs view, the Queue view and the Resume
// command. A resumed run keeps "cancelled" or "failed" in run.json until it starts (a cancel while it
// waits leaves it as it was), so the folder alone would show a waiting resume as cancelled: the
// queue's word decides what such a row shows. No vscode import, so the unit tests read it.
import { resolve } from 'node:path';
import type { QueueEntry, QueueState } from '../sidecar/protocol/messages';
import type { RunListing } from '../sidecar/protocol/run_listing';

export type QueuePlace =
  | { state: 'running'; kind: QueueEntry['kind'] }
  | { state: 'waiting'; kind: QueueEntry['kind']; position: number; of: number };

/** The queue's entries name runs as the request spelled them; the views compare resolved paths. */
function sameRun(a: string, b: string): boolean {
  return a === b || resolve(a) === resolve(b);
}

/** The run's place in the queue (position 1 is next), or undefined when it is not in it. */
export function queuePlace(queue: QueueState, runDir: string): QueuePlace | undefined {
  if (queue.active && sameRun(queue.active.runDir, runDir)) return { state: 'running', kind: queue.active.kind };
  const index = queue.waiting.findIndex((e) => sameRun(e.runDir, runDir));
  if (index < 0) return undefined;
  return { state: 'waiting', kind: queue.waiting[index].kind, position: index + 1, of: queue.waiting.length };
}

/** "running", "waiting 2 of 3", "waiting to resume, 1 of 3". */
export function describeQueuePlace(place: QueuePlace): string {
  if (place.state === 'running') return 'running';
  return `waiting${place.kind === 'resume' ? ' to resume,' : ''} ${place.position} of ${place.of}`;
}

/**
 * The run as the Runs view shows it: a cancelled or failed run waiting in the queue to resume shows
 * as queued; every other run as its folder says.
 */
export function withQueueStatus(listing: RunListing, queue: QueueState): RunListing {
  if (listing.kind !== 'run' || (listing.record.status !== 'cancelled' && listing.record.status !== 'failed'))
    return listing;
  const place = queuePlace(queue, listing.runDir);
  return place?.state === 'waiting' ? { ...listing, displayStatus: 'queued' } : listing;
}

/** One row of the Queue view. */
export interface QueueRow {
  runDir: string;
  /** The run folder's name (its run id) and its experiment's, read from the path. */
  runId: string;
  experiment: string;
  place: QueuePlace;
  canMoveUp: boolean;
  canMoveDown: boolean;
}

/** The Queue view's rows: the running run, then the waiting ones in the order they will run. */
export function queueRows(queue: QueueState): QueueRow[] {
  const row = (entry: QueueEntry, place: QueuePlace): QueueRow => {
    const parts = entry.runDir.split(/[\\/]/).filter((p) => p !== '');
    return {
      runDir: entry.runDir,
      runId: parts.at(-1) ?? entry.runDir,
      experiment: parts.at(-2) ?? '',
      place,
      canMoveUp: place.state === 'waiting' && place.position > 1,
      canMoveDown: place.state === 'waiting' && place.position < place.of,
    };
  };
  const rows = queue.active ? [row(queue.active, { state: 'running', kind: queue.active.kind })] : [];
  queue.waiting.forEach((entry, i) =>
    rows.push(row(entry, { state: 'waiting', kind: entry.kind, position: i + 1, of: queue.waiting.length })),
  );
  return rows;
}
