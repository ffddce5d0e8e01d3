// Follows a runs folder on disk with chokidar, so that a run started by another process (a terminal,
// a cluster job writing to a shared file system) appears in the Runs view within a second, and its
// status changes show up as they happen. It reports "something changed" (debounced); the view then
// re-reads the listing. On a network or FUSE file system it polls instead of waiting for events
// (watch_mode.ts says why), and it says which way it follows the folder (onMode).
// This module does not import vscode, so it is tested in plain Node.
import { watch, type FSWatcher } from 'chokidar';
import { existsSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { watchModeFor, type WatchMode, type WatchPollingSetting } from './watch_mode';

export interface RunFolderWatcherOptions {
  /** Coalesces bursts of events (an atomic write is two, a new run several) into one refresh. */
  debounceMs?: number;
  /** How often to look for a runs folder that does not exist yet. */
  pollMissingMs?: number;
  /** Whether to poll: decided from the file system ("auto", the default), or forced. */
  polling?: WatchPollingSetting;
  /** How often each watched path is looked at when polling. */
  pollIntervalMs?: number;
  /** Told how the folder is followed, each time the watching (re)starts. */
  onMode?(mode: WatchMode): void;
}

/** The sweep folders (`<runsDir>/.sweeps/<sweep-id>/`), hidden so that the run listing passes them by. */
const sweepsFolder = '.sweeps';

/** Within `.sweeps/`: the sweep folders and their sweep.json and state.json. */
function isRelevantSweepPath(parts: string[]): boolean {
  if (parts.length === 0) return true;
  // Hidden names there are the atomic writers' temporary files.
  if (parts[0].startsWith('.')) return false;
  if (parts.length === 1) return true;
  return parts.length === 2 && (parts[1] === 'sweep.json' || parts[1] === 'state.json');
}

/**
 * Which paths matter: experiment and run folders, run.json, and the sweep folders with their
 * sweep.json and state.json. Metrics lines, checkpoints, samples and the atomic writers' temporary
 * files change often and say nothing about the listing.
 */
export function isRelevantPath(runsDir: string, path: string): boolean {
  const rel = relative(runsDir, path);
  if (rel === '') return true;
  const parts = rel.split(sep);
  if (parts[0] === sweepsFolder) return isRelevantSweepPath(parts.slice(1));
  if (parts.some((p) => p.startsWith('.'))) return false;
  if (parts.length <= 2) return true;
  return parts.length === 3 && parts[2] === 'run.json';
}

export class RunFolderWatcher {
  private watcher: FSWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private disposed = false;
  private readyPromise: Promise<void> = Promise.resolve();
  private readonly debounceMs: number;
  private readonly pollMissingMs: number;
  private currentMode: WatchMode | null = null;

  constructor(
    readonly runsDir: string,
    private readonly onChange: () => void,
    private readonly options: RunFolderWatcherOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 150;
    this.pollMissingMs = options.pollMissingMs ?? 500;
    this.start();
  }

  private start(): void {
    if (this.disposed) return;
    // chokidar cannot watch a folder that does not exist yet; wait for it to appear, then watch.
    if (!existsSync(this.runsDir)) {
      this.pollTimer = setTimeout(() => {
        this.pollTimer = null;
        if (existsSync(this.runsDir)) this.changed();
        this.start();
      }, this.pollMissingMs);
      return;
    }
    this.readyPromise = this.watchFolder();
  }

  /** Decides how to follow the folder, says so, and follows it; resolves once chokidar is ready. */
  private async watchFolder(): Promise<void> {
    const mode = await watchModeFor(this.runsDir, this.options.polling ?? 'auto');
    if (this.disposed) return;
    this.currentMode = mode;
    this.options.onMode?.(mode);
    const interval = this.options.pollIntervalMs ?? 1000;
    const watcher = watch(this.runsDir, {
      depth: 2,
      ignoreInitial: true,
      usePolling: mode.polling,
      interval,
      binaryInterval: interval,
      ignored: (path: string) =>
        path !== this.runsDir && !isRelevantPath(this.runsDir, path) && basename(path) !== 'run.json',
    });
    watcher.on('all', (_event, path) => {
      if (isRelevantPath(this.runsDir, path)) this.changed();
    });
    // The runs folder itself was deleted: go back to waiting for it.
    watcher.on('unlinkDir', (path) => {
      if (path === this.runsDir) {
        void watcher.close();
        if (this.watcher === watcher) this.watcher = null;
        this.changed();
        this.start();
      }
    });
    watcher.on('error', () => undefined);
    this.watcher = watcher;
    await new Promise<void>((res) => watcher.once('ready', () => res()));
  }

  /** How the folder is followed now; null while waiting for it to exist. */
  get mode(): WatchMode | null {
    return this.currentMode;
  }

  private changed(): void {
    if (this.disposed) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      if (!this.disposed) this.onChange();
    }, this.debounceMs);
  }

  /** Resolves once the watcher is watching (or waiting for the folder to appear). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    await this.watcher?.close();
    this.watcher = null;
  }
}
