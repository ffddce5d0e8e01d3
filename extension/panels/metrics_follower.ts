// Follows metrics.jsonl of a run started elsewhere (a terminal, a cluster job) with chokidar: on
// each change it reads only the bytes appended since the last read, parses the complete lines, and
// keeps an incomplete last line for the next read, so a line caught half-written is never reported
// as corrupt. A file that shrinks was rewritten: the follower starts over and says so. A
// metrics.jsonl that is a link leading out of the run folder is not read (confined_path.ts).
import { watch, type FSWatcher } from 'chokidar';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { confinedPath } from '../../sidecar/protocol/confined_path';
import { parseMetricsJsonl, type MetricRecord } from '../../sidecar/protocol/run_folder';

export interface FollowerEvents {
  onRecords(records: MetricRecord[], problems: string[]): void;
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

  /** `offset`: the byte length already read (readMetrics' `bytes`). */
  constructor(private readonly runDir: string, offset: number, private readonly events: FollowerEvents) {
    this.file = join(runDir, 'metrics.jsonl');
    this.offset = offset;
  }

  start(): void {
    // Polling would cost a stat per interval per panel; fs events suffice for local disks, and
    // chokidar's atomic option handles editors/tools that replace the file.
    this.watcher = watch(this.file, { ignoreInitial: false, atomic: true });
    const changed = () => { this.reading = this.reading.then(() => this.readAppended()); };
    this.watcher.on('add', changed).on('change', changed);
  }

  /** Reads what was appended; also callable directly (e.g. when a run/metrics notification hints at new lines). */
  readAppended(): Promise<void> {
    return this.readOnce().catch((e: unknown) => this.events.onRecords([], [`metrics.jsonl: ${(e as Error).message}`]));
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
  }

  private async readOnce(): Promise<void> {
    const found = await confinedPath(this.runDir, 'metrics.jsonl');
    if (found.kind === 'missing') return; // Not there yet: the run has not logged anything.
    if (found.kind !== 'inside') {
      if (found.problem !== this.refused) this.events.onRecords([], [found.problem]);
      this.refused = found.problem;
      return;
    }
    this.refused = null;
    let size: number;
    try {
      size = (await stat(found.path)).size;
    } catch {
      return; // Removed since it was resolved: the next change event reads again.
    }
    if (size < this.offset) {
      this.offset = 0;
      this.events.onReset();
      return;
    }
    if (size === this.offset) return;
    const handle = await open(found.path, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      const chunk = buffer.subarray(0, bytesRead);
      const end = chunk.lastIndexOf(0x0a) + 1;
      if (end === 0) return; // Only part of a line so far.
      this.offset += end;
      const parsed = parseMetricsJsonl(chunk.subarray(0, end).toString('utf8'));
      if (parsed.records.length > 0 || parsed.problems.length > 0) this.events.onRecords(parsed.records, parsed.problems);
    } finally {
      await handle.close();
    }
  }
}
