// Atomic file replacement for everything the run store and the trainer write (run.json, config.json,
// checkpoints, sample indexes). A reader — the extension's file watcher, a panel, `l3m runs` on another
// terminal — must never see a half-written file, and a crash or a full disk must leave the previous
// version intact. The recipe is the usual one: write a temporary file in the SAME directory (a rename
// is only atomic within one file system), fsync it so the data is on disk before the name points at
// it, rename it over the target, then fsync the directory so the rename itself survives a power cut.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The prefix of temporary files, so that listings can skip them and a cleanup can find them. */
export const tempFilePrefix = '.tmp-';

function tempPathFor(path: string): string {
  return join(dirname(path), `${tempFilePrefix}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
}

/**
 * Writes `data` to `path` atomically: readers see either the old content or the new one, never a
 * mixture, and on failure (e.g. ENOSPC) the old file is untouched and no temporary file is left.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tempPath = tempPathFor(path);
  let written = false;
  try {
    const handle = await open(tempPath, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, path);
    written = true;
  } finally {
    if (!written) await unlink(tempPath).catch(() => undefined);
  }
  await syncDirectory(dirname(path));
}

/** The synchronous twin of writeFileAtomic, for code that cannot await (exit handlers, tight loops). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tempPath = tempPathFor(path);
  let written = false;
  try {
    const fd = openSync(tempPath, 'wx');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tempPath, path);
    written = true;
  } finally {
    if (!written) {
      try {
        unlinkSync(tempPath);
      } catch {
        /* it was never created */
      }
    }
  }
  try {
    const dirFd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some file systems (and Windows) refuse fsync on a directory; the rename is still atomic there.
  }
}

/** Makes the renames in `dir` durable (a rename is on disk only once its directory is). */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems (and Windows) refuse fsync on a directory; the rename is still atomic there.
  }
}
