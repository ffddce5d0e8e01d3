// The Runs view: runs/<experiment>/<run-id>/ from the `l3m.runsDir` setting, grouped by experiment,
// newest first. A run item's label is its run id and its description its status (stable for the
// end-to-end tests); unreadable runs are listed with the reason; runs whose process died show as
// stale. The folder is followed with chokidar (run_folder_watcher.ts), and the sidecar's run/state
// notifications refresh it at once.
import * as vscode from 'vscode';
import { listRuns, type DisplayStatus, type RunListing } from '../sidecar/protocol/run_listing';
import { RunFolderWatcher } from './run_folder_watcher';
import type { WatchMode, WatchPollingSetting } from './watch_mode';
import { SnapshotLoader, changedNodes, treeChanges, type Snapshot, type TreeChange } from './tree_changes';

const statusIcons: Record<DisplayStatus | 'unreadable', [string, string | undefined]> = {
  queued: ['clock', undefined],
  running: ['sync~spin', 'charts.blue'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', undefined],
  stale: ['warning', 'list.warningForeground'],
  unreadable: ['question', 'list.warningForeground'],
};

function icon(status: DisplayStatus | 'unreadable'): vscode.ThemeIcon {
  const [id, color] = statusIcons[status];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

export class RunExperimentItem extends vscode.TreeItem {
  constructor(
    readonly experiment: string,
    public runs: RunItem[],
  ) {
    super(experiment, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `runs:${experiment}`;
    this.contextValue = 'runExperiment';
    this.iconPath = new vscode.ThemeIcon('beaker');
    this.setRuns(runs);
  }

  setRuns(runs: RunItem[]): void {
    this.runs = runs;
    this.description = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
  }
}

/**
 * A run row. The same object stays in the tree for as long as its run folder exists and is updated
 * in place: VS Code resolves a context-menu command's argument through the object it was given, so
 * replacing it on every change would lose the clicked row during a refresh.
 */
export class RunItem extends vscode.TreeItem {
  readonly runDir: string;
  status: DisplayStatus | 'unreadable' = 'unreadable';
  listing!: RunListing;

  constructor(listing: RunListing) {
    super(listing.runId, vscode.TreeItemCollapsibleState.None);
    this.runDir = listing.runDir;
    this.id = `run:${listing.runDir}`;
    this.resourceUri = vscode.Uri.file(listing.runDir);
    this.update(listing);
  }

  update(listing: RunListing): void {
    this.listing = listing;
    if (listing.kind === 'unreadable') {
      this.status = 'unreadable';
      this.description = 'unreadable';
      this.tooltip = `${listing.runDir}\nUnreadable: ${listing.reason}`;
    } else {
      const r = listing.record;
      this.status = listing.displayStatus;
      this.description = listing.displayStatus;
      const lines = [
        listing.runDir,
        `Status: ${listing.displayStatus === 'stale' ? `stale — run.json says ${r.status}, but process ${r.pid} is gone` : r.status}`,
        `Task: ${r.task}`,
        r.progress ? `Step: ${r.progress.step}/${r.progress.totalSteps} (epoch ${r.progress.epoch})` : undefined,
        r.device ? `Device: ${r.device.backend} — ${r.device.device}` : undefined,
        r.startedAt ? `Started: ${r.startedAt}` : `Created: ${r.createdAt}`,
        r.endedAt ? `Ended: ${r.endedAt}` : undefined,
        r.error
          ? `Error: ${r.error.message}${r.error.exitCode !== undefined ? ` (exit code ${r.error.exitCode})` : ''}`
          : undefined,
      ];
      this.tooltip = lines.filter((l) => l !== undefined).join('\n');
    }
    this.contextValue = `run-${this.status}`;
    this.iconPath = icon(this.status);
  }
}

type Node = RunExperimentItem | RunItem;

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
  private readonly items = new Map<string, RunItem>();
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

  /** Re-reads the runs folder (once more after the load in flight, if any) and then updates the tree. */
  refresh(): Promise<void> {
    return this.loader.refresh();
  }

  private async load(): Promise<TreeChange> {
    const listing = this.runsDir ? await listRuns(this.runsDir).catch(() => []) : [];
    // Experiments by name (listRuns sorts them), runs newest first: run ids sort by creation time.
    const grouped = new Map<string, RunListing[]>();
    for (const run of listing) grouped.set(run.experiment, [...(grouped.get(run.experiment) ?? []), run]);
    for (const runs of grouped.values()) runs.sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
    const shown: Snapshot = new Map(
      [...grouped].map(([experiment, runs]) => [
        experiment,
        runs.map((r) => ({ key: r.runDir, signature: JSON.stringify(r) })),
      ]),
    );
    const change = treeChanges(this.shown, shown);
    this.shown = shown;
    this.listing = listing;
    const seen = new Set<string>();
    const groups: RunExperimentItem[] = [];
    for (const [experiment, runs] of grouped) {
      const items = runs.map((run) => {
        seen.add(run.runDir);
        const existing = this.items.get(run.runDir);
        if (existing) {
          existing.update(run);
          return existing;
        }
        const created = new RunItem(run);
        this.items.set(run.runDir, created);
        return created;
      });
      const group = this.groups.find((g) => g.experiment === experiment);
      if (group) group.setRuns(items);
      groups.push(group ?? new RunExperimentItem(experiment, items));
    }
    for (const runDir of [...this.items.keys()]) if (!seen.has(runDir)) this.items.delete(runDir);
    this.groups = groups;
    return change;
  }

  /** Tells VS Code which nodes changed, and nothing else. */
  private announce(change: TreeChange): void {
    const nodes = changedNodes<Node, Node>(change, new Map(this.groups.map((g) => [g.experiment, g])), this.items);
    if (nodes !== null) this.changed.fire(nodes);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node instanceof RunExperimentItem) return node.runs;
    if (node) return [];
    await this.loader.inFlight;
    return this.groups;
  }

  dispose(): void {
    void this.watcher?.dispose();
    this.changed.dispose();
    this.watchModeChanged.dispose();
  }
}
