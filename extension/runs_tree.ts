// The Runs view: runs/<experiment>/<run-id>/ from the `l3m.runsDir` setting, grouped by experiment,
// newest first. A run item's label is its run id and its description its status (stable for the
// end-to-end tests); unreadable runs are listed with the reason; runs whose process died show as
// stale. The folder is followed with chokidar (run_folder_watcher.ts), and the sidecar's run/state
// notifications refresh it at once.
import * as vscode from 'vscode';
import { listRuns, type DisplayStatus, type RunListing } from '../sidecar/protocol/run_listing';
import { RunFolderWatcher } from './run_folder_watcher';

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
  constructor(readonly experiment: string, readonly runs: RunItem[]) {
    super(experiment, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `runs:${experiment}`;
    this.description = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
    this.contextValue = 'runExperiment';
    this.iconPath = new vscode.ThemeIcon('beaker');
  }
}

export class RunItem extends vscode.TreeItem {
  readonly runDir: string;
  readonly status: DisplayStatus | 'unreadable';

  constructor(readonly listing: RunListing) {
    super(listing.runId, vscode.TreeItemCollapsibleState.None);
    this.runDir = listing.runDir;
    this.id = `run:${listing.runDir}`;
    this.resourceUri = vscode.Uri.file(listing.runDir);
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
        r.error ? `Error: ${r.error.message}${r.error.exitCode !== undefined ? ` (exit code ${r.error.exitCode})` : ''}` : undefined,
      ];
      this.tooltip = lines.filter((l) => l !== undefined).join('\n');
    }
    this.contextValue = `run-${this.status}`;
    this.iconPath = icon(this.status);
  }
}

type Node = RunExperimentItem | RunItem;

export class RunsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private watcher: RunFolderWatcher | null = null;
  private listing: RunListing[] = [];
  private groups: RunExperimentItem[] = [];
  // The folder is read by one load at a time, and the tree is told of a change only when a load has
  // finished: getChildren then answers from that snapshot. Reading the folder inside getChildren let
  // two refreshes resolve concurrently with different items under the same ids, which left VS Code's
  // tree with an expanded experiment and no rows under it.
  private loading: Promise<void> | null = null;
  private reloadWanted = false;

  constructor(private runsDir: string | undefined) {
    this.follow();
    this.refresh();
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
    this.refresh();
  }

  private follow(): void {
    void this.watcher?.dispose();
    this.watcher = this.runsDir ? new RunFolderWatcher(this.runsDir, () => this.refresh()) : null;
  }

  /** Re-reads the runs folder (once more after the load in flight, if any) and then updates the tree. */
  refresh(): Promise<void> {
    if (this.loading) {
      this.reloadWanted = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.reloadWanted = false;
        await this.load();
      } while (this.reloadWanted);
      this.loading = null;
      this.changed.fire(undefined);
    })();
    return this.loading;
  }

  private async load(): Promise<void> {
    const listing = this.runsDir ? await listRuns(this.runsDir).catch(() => []) : [];
    const byExperiment = new Map<string, RunItem[]>();
    for (const run of listing) {
      const items = byExperiment.get(run.experiment) ?? [];
      items.push(new RunItem(run));
      byExperiment.set(run.experiment, items);
    }
    this.listing = listing;
    // Newest run first: run ids sort by time.
    this.groups = [...byExperiment.entries()].map(([experiment, items]) => new RunExperimentItem(experiment, items.sort((a, b) => (a.listing.runId < b.listing.runId ? 1 : -1))));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node instanceof RunExperimentItem) return node.runs;
    if (node) return [];
    if (this.loading) await this.loading;
    return this.groups;
  }

  dispose(): void {
    void this.watcher?.dispose();
    this.changed.dispose();
  }
}
