// The Runs view: runs/<experiment>/<run-id>/ from the `l3m.runsDir` setting, grouped by experiment,
// newest first, and above them one node per sweep (newest first) with that sweep's runs as children.
// A sweep's runs stay under their experiment too: the experiment groups are every run there is, as
// `l3m runs` lists them, and Compare Runs can take runs of several sweeps from there. The rows are in
// run_items.ts. The folder is followed with chokidar (run_folder_watcher.ts), and the sidecar's
// run/state and sweep/state notifications refresh it at once.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { listRuns, type RunListing } from '../sidecar/protocol/run_listing';
import { listSweeps, summarizeSweepRuns, type SweepListing } from '../sidecar/protocol/sweep_folder';
import { RunExperimentItem, RunItem, SweepItem, SweepRunItem } from './run_items';
import { RunFolderWatcher } from './run_folder_watcher';
import { SweepEnds, countSweepRuns, type SweepCounts } from './sweep_progress';
import type { WatchMode, WatchPollingSetting } from './watch_mode';
import type { QueueState } from '../sidecar/protocol/messages';
import { QueueItem, QueueSection } from './queue_items';
import { withQueueStatus } from './queue_places';
import {
  SnapshotLoader,
  changedNodes,
  mergeChanges,
  treeChanges,
  type Snapshot,
  type TreeChange,
} from './tree_changes';

type Node = RunExperimentItem | RunItem | SweepItem | QueueSection | QueueItem;

/** A sweep's group key: experiment folders are never hidden, so no experiment has one. */
function sweepKey(sweepDir: string): string {
  return `.sweeps/${sweepDir}`;
}

/** The change that refreshes these groups' own rows (a sweep node's description), beside `change`. */
function withGroups(change: TreeChange, groups: string[]): TreeChange {
  return groups.length === 0 ? change : mergeChanges(change, { kind: 'elements', groups, rows: [] });
}

export class RunsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watchModeChanged = new vscode.EventEmitter<{ runsDir: string; mode: WatchMode }>();
  /** How the runs folder is followed (file events or polling), each time its watching starts. */
  readonly onDidChangeWatchMode = this.watchModeChanged.event;
  private watcher: RunFolderWatcher | null = null;
  private listing: RunListing[] = [];
  private shown: Snapshot = new Map();
  private groups: RunExperimentItem[] = [];
  private sweeps: SweepItem[] = [];
  /** Every run row by its key: run folders under experiments, sweep keys + run folder under sweeps. */
  private readonly items = new Map<string, RunItem>();
  private readonly sweepItems = new Map<string, SweepItem>();
  /** What each sweep node showed, to refresh it when its counts change (its rows alone would not). */
  private sweepSignatures = new Map<string, string>();
  /** When sweeps end, as this view sees their runs; the extension claims each end once (sweep_progress.ts). */
  readonly sweepEnds = new SweepEnds();
  private readonly sweepEnded = new vscode.EventEmitter<SweepItem>();
  /** A sweep whose last live run ended, as seen in the folder (also when no sidecar of this window ran it). */
  readonly onDidSeeSweepEnd = this.sweepEnded.event;
  /** This window's sidecar queue, shown as the first node while it holds a run (queue_items.ts). */
  readonly queueSection = new QueueSection();
  private queue: QueueState = { active: null, waiting: [] };
  private readonly loader = new SnapshotLoader(
    () => this.load(),
    (change) => this.announce(change),
  );

  constructor(
    private runsDir: string | undefined,
    private polling: WatchPollingSetting = 'auto',
  ) {
    this.follow();
    void this.refresh();
  }

  /** The runs folder shown, or undefined when there is no workspace to resolve it against. */
  get folder(): string | undefined {
    return this.runsDir;
  }

  /** The latest listing (for the status bar and the commands). */
  get runs(): readonly RunListing[] {
    return this.listing;
  }

  /** The node of the sweep with this id, as of the latest load. */
  sweep(id: string): SweepItem | undefined {
    return this.sweeps.find((s) => s.sweepId === id);
  }

  /** The node of the sweep folder `sweepDir`, as of the latest load. */
  sweepAt(sweepDir: string): SweepItem | undefined {
    return this.sweepItems.get(sweepDir);
  }

  setRunsDir(runsDir: string | undefined): void {
    if (runsDir === this.runsDir) return;
    this.runsDir = runsDir;
    this.follow();
    void this.refresh();
  }

  /** Follows the folder again under a new `l3m.watchPolling`. */
  setWatchPolling(polling: WatchPollingSetting): void {
    if (polling === this.polling) return;
    this.polling = polling;
    this.follow();
  }

  private follow(): void {
    void this.watcher?.dispose();
    const runsDir = this.runsDir;
    this.watcher = runsDir
      ? new RunFolderWatcher(runsDir, () => void this.refresh(), {
          polling: this.polling,
          onMode: (mode) => this.watchModeChanged.fire({ runsDir, mode }),
        })
      : null;
  }

  /**
   * The sidecar's queue changed: the Queue section shows it, and a resumed run waiting in it shows as
   * queued (run.json says cancelled or failed until it starts).
   */
  setQueue(state: QueueState): void {
    const shown = this.queueSection.items.length > 0;
    this.queue = state;
    this.queueSection.show(state);
    // Only the section while it stays: a refresh of the root would re-resolve every row, and a command
    // clicked on a row meanwhile would get no row.
    this.changed.fire(shown && this.queueSection.items.length > 0 ? this.queueSection : undefined);
    void this.refresh();
  }

  /** Re-reads the runs folder (once more after the load in flight, if any) and then updates the tree. */
  refresh(): Promise<void> {
    return this.loader.refresh();
  }

  private async load(): Promise<TreeChange> {
    const runsDir = this.runsDir;
    const [folderListing, sweepListing] = runsDir
      ? await Promise.all([listRuns(runsDir).catch(() => []), listSweeps(runsDir).catch(() => [])])
      : [[], []];
    const queue = this.queue;
    const listing = folderListing.map((run) => withQueueStatus(run, queue));
    // Experiments by name (listRuns sorts them), runs newest first: run ids sort by creation time.
    const grouped = new Map<string, RunListing[]>();
    for (const run of listing) grouped.set(run.experiment, [...(grouped.get(run.experiment) ?? []), run]);
    for (const runs of grouped.values()) runs.sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
    const byRunDir = new Map(listing.map((run) => [run.runDir, run]));
    // Sweeps newest first (listSweeps gives them oldest first), each with its runs in expansion order.
    const sweeps = [...sweepListing].reverse().map((sweep) => sweepRows(sweep, runsDir ?? '', byRunDir));
    const shown: Snapshot = new Map([
      ...sweeps.map(({ sweep, runs }): [string, { key: string; signature: string }[]] => [
        sweepKey(sweep.sweepDir),
        runs.map(({ key, run, entry }) => ({ key, signature: JSON.stringify([run, entry]) })),
      ]),
      ...[...grouped].map(([experiment, runs]): [string, { key: string; signature: string }[]] => [
        experiment,
        runs.map((r) => ({ key: r.runDir, signature: JSON.stringify(r) })),
      ]),
    ]);
    const seen = new Set<string>();
    const rowOf = (key: string, run: RunListing, make: () => RunItem): RunItem => {
      seen.add(key);
      const item = this.items.get(key) ?? make();
      item.update(run);
      this.items.set(key, item);
      return item;
    };
    const groups = [...grouped].map(([experiment, runs]) => {
      const items = runs.map((run) => rowOf(run.runDir, run, () => new RunItem(run)));
      const group = this.groups.find((g) => g.experiment === experiment);
      if (group) group.setRuns(items);
      return group ?? new RunExperimentItem(experiment, items);
    });
    const signatures = new Map<string, string>();
    const counts = new Map<string, SweepCounts>();
    const sweepItems = sweeps.map(({ sweep, runs, counts: sweepCounts, failures }) => {
      const id = sweep.kind === 'sweep' ? sweep.sweep.id : sweep.id;
      const items = runs.map(({ key, run, entry }) => {
        const item = rowOf(key, run, () => new SweepRunItem(run, id));
        if (item instanceof SweepRunItem) item.noteSweep(entry);
        return item;
      });
      const node = this.sweepItems.get(sweep.sweepDir) ?? new SweepItem(sweep);
      this.sweepItems.set(sweep.sweepDir, node);
      node.update(sweep, sweepCounts, failures, items);
      signatures.set(sweepKey(sweep.sweepDir), JSON.stringify([node.description, node.tooltip, node.contextValue]));
      if (sweep.kind === 'sweep') counts.set(id, sweepCounts);
      return node;
    });
    const changedSweeps = [...signatures]
      .filter(([key, signature]) => this.sweepSignatures.has(key) && this.sweepSignatures.get(key) !== signature)
      .map(([key]) => key);
    const change = withGroups(treeChanges(this.shown, shown), changedSweeps);
    this.shown = shown;
    this.listing = listing;
    this.sweepSignatures = signatures;
    for (const key of [...this.items.keys()]) if (!seen.has(key)) this.items.delete(key);
    for (const dir of [...this.sweepItems.keys()])
      if (!sweeps.some((s) => s.sweep.sweepDir === dir)) this.sweepItems.delete(dir);
    this.groups = groups;
    this.sweeps = sweepItems;
    for (const id of this.sweepEnds.look(counts)) {
      const node = this.sweep(id);
      if (node) this.sweepEnded.fire(node);
    }
    return change;
  }

  /** Tells VS Code which nodes changed, and nothing else. */
  private announce(change: TreeChange): void {
    const groups = new Map<string, Node>([
      ...this.sweeps.map((s): [string, Node] => [sweepKey(s.sweepDir), s]),
      ...this.groups.map((g): [string, Node] => [g.experiment, g]),
    ]);
    const nodes = changedNodes<Node, Node>(change, groups, this.items);
    if (nodes !== null) this.changed.fire(nodes);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node instanceof RunExperimentItem || node instanceof SweepItem) return node.runs;
    if (node instanceof QueueSection) return node.items;
    if (node) return [];
    await this.loader.inFlight;
    const queue = this.queueSection.items.length > 0 ? [this.queueSection] : [];
    return [...queue, ...this.sweeps, ...this.groups];
  }

  dispose(): void {
    void this.watcher?.dispose();
    this.changed.dispose();
    this.watchModeChanged.dispose();
    this.sweepEnded.dispose();
  }
}

/** A sweep's rows (the runs whose folders exist), its counts and its failures, from the run listing. */
function sweepRows(sweep: SweepListing, runsDir: string, byRunDir: ReadonlyMap<string, RunListing>) {
  if (sweep.kind === 'unreadable') return { sweep, runs: [], counts: countSweepRuns([], byRunDir), failures: [] };
  const entries = [...sweep.sweep.runs].sort((a, b) => a.index - b.index);
  const runDirs = entries.map((entry) => join(runsDir, entry.runDir));
  const runs = entries.flatMap((entry, i) => {
    const run = byRunDir.get(runDirs[i]);
    return run ? [{ key: `${sweepKey(sweep.sweepDir)}/${run.runDir}`, run, entry }] : [];
  });
  const failures = summarizeSweepRuns(
    runs.map(({ run, entry }) => ({ entry, runDir: run.runDir, listing: run })),
  ).failures;
  return { sweep, runs, counts: countSweepRuns(runDirs, byRunDir), failures };
}
