// Where a sweep stands, read from the run listing the Runs view already holds: each of its runs'
// own run.json is the source of truth (the sweep folder only lists them), so the sweep node and its
// rows never disagree. Also when a sweep ends: a sweep run on a cluster has no process of this window
// that could say so, so the end is seen in the folder, as the last of its runs ends.
// No vscode import, so this is tested in plain Node.
import type { DisplayStatus, RunListing } from '../sidecar/protocol/run_listing';

/** How many of a sweep's runs are in each state; `pending`: listed in sweep.json, folder not there yet. */
export interface SweepCounts {
  total: number;
  byStatus: Record<DisplayStatus | 'unreadable' | 'pending', number>;
}

function emptyByStatus(): SweepCounts['byStatus'] {
  return { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, stale: 0, unreadable: 0, pending: 0 };
}

/** Counts the runs `runDirs` (absolute) of a sweep by their status in `listing` (keyed by run folder). */
export function countSweepRuns(runDirs: readonly string[], listing: ReadonlyMap<string, RunListing>): SweepCounts {
  const byStatus = emptyByStatus();
  for (const runDir of runDirs) {
    const run = listing.get(runDir);
    byStatus[run === undefined ? 'pending' : run.kind === 'run' ? run.displayStatus : 'unreadable'] += 1;
  }
  return { total: runDirs.length, byStatus };
}

/** Runs that may still change on their own: queued, running, or not created yet. */
export function liveRuns(counts: SweepCounts): number {
  return counts.byStatus.queued + counts.byStatus.running + counts.byStatus.pending;
}

/** Failed runs, with those whose process died without saying so (stale). */
export function failedRuns(counts: SweepCounts): number {
  return counts.byStatus.failed + counts.byStatus.stale;
}

/** Runs that Resume Unfinished would take up again. */
export function resumableRuns(counts: SweepCounts): number {
  return counts.byStatus.cancelled + failedRuns(counts);
}

/** The sweep node's description: "k/N done, r running, f failed" (queued and cancelled when there are any). */
export function describeSweepProgress(counts: SweepCounts): string {
  const { byStatus } = counts;
  const parts = [`${byStatus.completed}/${counts.total} done`, `${byStatus.running} running`];
  const queued = byStatus.queued + byStatus.pending;
  if (queued > 0) parts.push(`${queued} queued`);
  parts.push(`${failedRuns(counts)} failed`);
  if (byStatus.cancelled > 0) parts.push(`${byStatus.cancelled} cancelled`);
  if (byStatus.unreadable > 0) parts.push(`${byStatus.unreadable} unreadable`);
  return parts.join(', ');
}

/** "3 done, 1 failed of 4" for the notification at the end of a sweep. */
export function describeSweepEnd(counts: SweepCounts): string {
  const { byStatus } = counts;
  const parts = [`${byStatus.completed} done`, `${failedRuns(counts)} failed`];
  if (byStatus.cancelled > 0) parts.push(`${byStatus.cancelled} cancelled`);
  if (byStatus.unreadable > 0) parts.push(`${byStatus.unreadable} unreadable`);
  return `${parts.join(', ')} of ${counts.total}`;
}

/**
 * Tells when sweeps end: a sweep ends when it had live runs at the previous look and has none now.
 * A sweep seen for the first time ended before this window looked, and is not announced. Each end is
 * announced once, whoever sees it first (the sidecar's sweep/state or the folder), unless the sweep
 * runs again (Resume Unfinished) and ends again.
 */
export class SweepEnds {
  private readonly live = new Map<string, boolean>();
  private readonly announced = new Set<string>();

  /** The sweeps of this look (id → counts); returns the ids that ended since the previous look. */
  look(sweeps: ReadonlyMap<string, SweepCounts>): string[] {
    const ended: string[] = [];
    for (const [id, counts] of sweeps) {
      const isLive = liveRuns(counts) > 0;
      if (isLive) this.announced.delete(id);
      else if (this.live.get(id) === true) ended.push(id);
      this.live.set(id, isLive);
    }
    for (const id of [...this.live.keys()]) if (!sweeps.has(id)) this.live.delete(id);
    return ended;
  }

  /** A sweep this window starts or resumes: its next end is announced, even if an earlier one was. */
  started(id: string): void {
    this.announced.delete(id);
  }

  /** Whether to announce this end now; false when it has been announced already. */
  claim(id: string): boolean {
    if (this.announced.has(id)) return false;
    this.announced.add(id);
    return true;
  }
}
