// Reading run folders from disk: the listing of `runs/<experiment>/<run-id>/` that the extension's
// Runs view, `l3m runs` and the sidecar's queue all share. It lives beside run_folder.ts because it
// is part of the on-disk protocol (the extension may import it), but unlike run_folder.ts it touches
// the file system, so webviews must not import it.
//
// Two promises matter here. A corrupt or half-created run folder is listed as unreadable with the
// reason and never hides or breaks the others. And a run whose run.json says "running" while its
// process is gone (killed, out of memory, machine rebooted) is reported as stale, so nobody waits
// for a run that will never finish.
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readConfined } from './confined_path';
import { isRunProcessAlive } from './run_process';
import { parseRunRecord, type RunRecord, type RunStatus } from './run_folder';
import { errorCode } from './error_message';

/** What a listing shows as a run's status: the recorded one, or `stale` for a crashed run. */
export type DisplayStatus = RunStatus | 'stale';

export type RunListing =
  | {
      kind: 'run';
      experiment: string;
      runId: string;
      runDir: string;
      record: RunRecord;
      /** The recorded status, or 'stale' when the run claims to be live but its process is dead. */
      displayStatus: DisplayStatus;
    }
  | { kind: 'unreadable'; experiment: string; runId: string; runDir: string; reason: string };

/**
 * Whether a process with this pid exists on this machine. Signal 0 tests for existence without
 * sending anything; EPERM means it exists but belongs to another user.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/**
 * Whether a run claims to be live (queued or running) although the process that owns it is dead.
 * A run recorded on another host cannot be checked from here (a cluster job seen over a shared file
 * system), so it is never called stale; nor is a record without a pid. A recorded process identity
 * is checked, so a pid reused by another process does not keep a dead run live.
 */
export function isStale(record: RunRecord, thisHost: string = hostname()): boolean {
  if (record.status !== 'running' && record.status !== 'queued') return false;
  if (record.pid === undefined) return false;
  if (record.host !== undefined && record.host !== thisHost) return false;
  return !isRunProcessAlive(record);
}

/** Reads one run folder; never throws. `experiment` and `runId` default to the last path parts. */
export async function readRunFolder(runDir: string, experiment?: string, runId?: string): Promise<RunListing> {
  const parts = runDir.split(/[\\/]/).filter((p) => p !== '');
  const id = runId ?? parts[parts.length - 1] ?? runDir;
  const exp = experiment ?? parts[parts.length - 2] ?? '';
  // A run.json that is a link out of the run folder is not read: the listing would show another file.
  const read = await readConfined(runDir, 'run.json');
  if (!('bytes' in read)) {
    // Run folders appear with their run.json in them; one without it was left by an older L3M Studio killed
    // while creating it (nothing was trained in it), or is not a run folder.
    const reason = read.missing
      ? 'no run.json: not a run folder, or one whose creation an older L3M Studio never finished (nothing was trained in it; delete it)'
      : read.problem;
    return { kind: 'unreadable', experiment: exp, runId: id, runDir, reason };
  }
  const text = read.bytes.toString('utf8');
  const parsed = parseRunRecord(text);
  if ('error' in parsed) return { kind: 'unreadable', experiment: exp, runId: id, runDir, reason: parsed.error };
  const record = parsed.record;
  return {
    kind: 'run',
    experiment: exp,
    runId: id,
    runDir,
    record,
    displayStatus: isStale(record) ? 'stale' : record.status,
  };
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // Hidden entries are temporary files and folders of the atomic writers, or editor litter.
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Lists every run under `runsDir` (`<runsDir>/<experiment>/<run-id>/`), sorted by experiment and
 * then by run id (which sorts by time). A missing runs folder is an empty listing, not an error.
 */
export async function listRuns(runsDir: string): Promise<RunListing[]> {
  const listings: RunListing[] = [];
  for (const experiment of await subdirectories(runsDir)) {
    const experimentDir = join(runsDir, experiment);
    const runIds = await subdirectories(experimentDir);
    const runs = await Promise.all(runIds.map((id) => readRunFolder(join(experimentDir, id), experiment, id)));
    listings.push(...runs);
  }
  return listings;
}
