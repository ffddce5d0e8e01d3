// Removing what a killed process left in the run folders: temporary files of the atomic writers
// (`.tmp-<name>.<pid>.<random>`) and hidden temporary run folders whose creation never finished. A kill
// skips every `finally`, so nothing else ever removes them; the next process that takes over the run
// (start, resume) or creates a run beside them does. A file whose writer is still alive is kept, so
// a second process working in the same folder (sampling while training) never loses a file it writes.
import { readdirSync, rmSync } from 'node:fs';
import { rm, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../protocol/run_listing';
import { tempFilePrefix } from './atomic_write';

/** The pid in a temporary name `.tmp-<name>.<pid>.<8 hex>`, or null when the name has none. */
export function temporaryOwnerPid(name: string): number | null {
  const match = /\.(\d+)\.[0-9a-f]{8}$/.exec(name);
  return match ? Number(match[1]) : null;
}

function abandoned(name: string): boolean {
  if (!name.startsWith(tempFilePrefix)) return false;
  const pid = temporaryOwnerPid(name);
  return pid === null || (pid !== process.pid && !isProcessAlive(pid));
}

/**
 * Removes the abandoned temporary files and folders in `runDir` and its subfolders (checkpoints/,
 * samples/, eval/); returns their paths. Called by the process that owns the run, before it trains.
 */
export function removeTemporaryFiles(runDir: string, depth = 2): string[] {
  let entries;
  try {
    entries = readdirSync(runDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const path = join(runDir, entry.name);
    if (abandoned(entry.name)) {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } else if (entry.isDirectory() && depth > 1) {
      removed.push(...removeTemporaryFiles(path, depth - 1));
    }
  }
  return removed;
}

/** Removes the temporary run folders in `experimentDir` whose creating process died; returns their paths. */
export async function removeAbandonedRunFolders(experimentDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(experimentDir);
  } catch {
    return [];
  }
  const removed = names.filter(abandoned).map((name) => join(experimentDir, name));
  for (const path of removed) await rm(path, { recursive: true, force: true });
  return removed;
}
