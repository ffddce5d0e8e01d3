// Follows a run's run.json for its monitor: the sidecar of this window announces state changes and sends
// progress, but a run started in a terminal or on a cluster speaks only through its folder. run.json is
// replaced atomically (a temporary file renamed over it) at every state change and, while the run is
// live, every 2 s with its progress and stage, so following it keeps the monitor's header current for any
// run. The folder is watched with fs.watch rather than chokidar: chokidar drops a second rename over the
// same file that comes within its stat interval (a progress write followed at once by the final status),
// while the kernel reports each one. Where the folder cannot be watched (some network file systems), the
// follower says so once and the monitor relies on the sidecar's notifications. A run.json that cannot be
// read or parsed is skipped: the next rewrite is read again.
import { watch, type FSWatcher } from 'node:fs';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { errorMessage } from '../../sidecar/protocol/error_message';
import { readRunSummary } from './run_data';

export class RunRecordFollower {
  private watcher: FSWatcher | null = null;
  private last = '';
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly runDir: string,
    private readonly onRecord: (record: RunRecord) => void,
    private readonly onProblem: (problem: string) => void = () => undefined,
  ) {}

  /** Starts watching the run folder; the page got run.json with its first load, so only later rewrites are news. */
  start(): void {
    try {
      this.watcher = watch(this.runDir, { persistent: false }, (_event, name) => {
        if (name === 'run.json') this.reading = this.reading.then(() => this.read());
      });
      this.watcher.on('error', (error) => {
        this.onProblem(`${this.runDir}: run.json is no longer followed (${errorMessage(error)})`);
        this.close();
      });
    } catch (error) {
      this.onProblem(
        `${this.runDir}: run.json cannot be followed (${errorMessage(error)}); the header updates from this window's runs only`,
      );
    }
  }

  /** Reads run.json now; calls back when it holds a record other than the last one told. */
  async read(): Promise<void> {
    const { run } = await readRunSummary(this.runDir);
    if (!run.record) return;
    const text = JSON.stringify(run.record);
    if (text === this.last) return;
    this.last = text;
    this.onRecord(run.record);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
