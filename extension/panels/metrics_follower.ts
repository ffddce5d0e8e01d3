// Follows metrics.jsonl of a run started elsewhere (a terminal, a cluster job) with chokidar: on
// each change it reads only the bytes appended since the last read, parses the complete lines, and
// keeps an incomplete last line for the next read, so a line caught half-written is never reported
// as corrupt. A file that shrinks or is replaced (a resume rewinds it) was rewritten: the follower
// starts over and says so. A metrics.jsonl that is a link leading out of the run folder is not read
// (confined_path.ts). A large append is parsed one bounded window at a time with the host free
// between windows (metrics_windows.ts).
import { watch, type FSWatcher } from 'chokidar';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { confinedPath } from '../../sidecar/protocol/confined_path';
import type { MetricRecord, SystemRecord } from '../../sidecar/protocol/run_folder';
import { MetricsLineReader, metricsWindowBytes, yieldToHost } from './metrics_windows';
import { errorMessage } from '../../sidecar/protocol/error_message';

export interface FollowerEvents {
  /** `system`: the system lines read with them (run_folder.ts SystemRecord) and the malformed ones skipped. */
  onRecords(records: MetricRecord[], problems: string[], system?: { records: SystemRecord[]; skipped: number }): void;
  /** The file was replaced by a shorter one: everything must be read again. */
  onReset(): void;
}

export class MetricsFollower {
  private watcher: FSWatcher | null = null;
  private offset: number;
  private reading: Promise<void> = Promise.resolve();
  private readonly file: string;
  /** The last refusal reported, so that every change of a refused file does not repeat it. */
  private refused: string | null = null;
  private lines = new MetricsLineReader();
  /** The file read so far (device and inode), to tell a file replaced by a rewrite from one appended to. */
  private identity: string | null = null;

  /** `offset`: the byte length already read (readMetrics' `bytes`). */
  constructor(
    private readonly runDir: string,
    offset: number,
    private readonly events: FollowerEvents,
  ) {
    this.file = join(runDir, 'metrics.jsonl');
    this.offset = offset;
  }

  start(): void {
    // Polling would cost a stat per interval per panel; fs events suffice for local disks, and
    // chokidar's atomic option handles editors/tools that replace the file.
    this.watcher = watch(this.file, { ignoreInitial: false, atomic: true });
    const changed = () => {
      this.reading = this.reading.then(() => this.readAppended());
    };
    this.watcher.on('add', changed).on('change', changed);
  }

  /** Reads what was appended; also callable directly (e.g. when a run/metrics notification hints at new lines). */
  readAppended(): Promise<void> {
    return this.readAll().catch((e: unknown) => this.events.onRecords([], [`metrics.jsonl: ${errorMessage(e)}`]));
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
  }

  private async readAll(): Promise<void> {
    while (await this.readOnce()) await yieldToHost();
  }

  /** Reads and parses at most one window; true when more bytes are waiting. */
  private async readOnce(): Promise<boolean> {
    const found = await confinedPath(this.runDir, 'metrics.jsonl');
    if (found.kind === 'missing') return false; // Not there yet: the run has not logged anything.
    if (found.kind !== 'inside') {
      if (found.problem !== this.refused) this.events.onRecords([], [found.problem]);
      this.refused = found.problem;
      return false;
    }
    this.refused = null;
    let size: number;
    let identity: string;
    try {
      const info = await stat(found.path);
      size = info.size;
      identity = `${info.dev}:${info.ino}`;
    } catch {
      return false; // Removed since it was resolved: the next change event reads again.
    }
    // A resume rewinds the file by writing a new one in its place, and the run may append past the
    // old length before this reads: a shorter file, or another file, means everything is read again.
    const replaced = this.identity !== null && identity !== this.identity;
    this.identity = identity;
    if (size < this.offset || replaced) {
      this.offset = 0;
      this.lines = new MetricsLineReader();
      this.events.onReset();
      return false;
    }
    if (size === this.offset) return false;
    const handle = await open(found.path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - this.offset, metricsWindowBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      const parsed = this.lines.take(buffer.subarray(0, bytesRead));
      if (parsed.consumed === 0) return false; // Only part of a line so far.
      this.offset += parsed.consumed;
      const system = { records: parsed.system ?? [], skipped: parsed.systemSkipped ?? 0 };
      if (parsed.records.length > 0 || parsed.problems.length > 0 || system.records.length > 0 || system.skipped > 0)
        this.events.onRecords(parsed.records, parsed.problems, system);
      return this.offset < size;
    } finally {
      await handle.close();
    }
  }
}
