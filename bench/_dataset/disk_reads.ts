// The disk's raw read speed for bench/dataset's paper-scale section, measured on the benchmark's own
// .npz files. A sequential read of a fresh file larger than RAM (what `dd` would time) does not fit this
// machine's disk budget, and dropping the whole page cache would disturb every other process, so the
// benchmark evicts only its own files' pages (fsync, then `dd iflag=nocache count=0`, which asks the
// kernel to drop a file's clean pages: POSIX_FADV_DONTNEED) and reads them once with plain fs reads.
// fincore says how much of the files was still in memory when the read started, so the figure can be
// trusted as a disk read (or not) in each run. On a virtual machine the host may still cache the disk
// image; the figure is then what the guest sees, which is what the conversion sees too.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';

/** Asks the kernel to drop the files' pages from its cache (after writing any dirty ones); false when it could not. */
export function evictFromPageCache(files: readonly string[]): boolean {
  if (files.length === 0) return true;
  const script = 'sync -- "$@" && for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none || exit 1; done';
  return spawnSync('sh', ['-c', script, 'sh', ...files], { stdio: 'ignore' }).status === 0;
}

/** Bytes of the files held in the page cache now (fincore), or null where fincore is missing. */
export function residentBytes(files: readonly string[]): number | null {
  if (files.length === 0) return 0;
  const result = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', ...files], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  return result.stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((value) => Number.isFinite(value))
    .reduce((sum, value) => sum + value, 0);
}

/** Reads every file once, front to back, in 8 MiB reads: bytes and seconds. */
export function readSequentially(files: readonly string[]): { bytes: number; seconds: number } {
  const buffer = Buffer.allocUnsafe(8 << 20);
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (const file of files) {
    const fd = openSync(file, 'r');
    try {
      for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0;) bytes += read;
    } finally {
      closeSync(fd);
    }
  }
  return { bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}
