// The rows of the Runs view: an experiment with its runs, a run, a sweep (one node per sweep folder,
// `<runsDir>/.sweeps/<id>/`, described "k/N done, r running, f failed") and a run under its sweep.
// A run item's label is its run id and its description its status (stable for the end-to-end tests);
// unreadable runs are listed with the reason; runs whose process died show as stale. A sweep's context
// actions (package.json) are Cancel All while runs are live, Resume Unfinished once none is and some
// ended cancelled or failed, and Compare Sweep.
import * as vscode from 'vscode';
import type { DisplayStatus, RunListing } from '../sidecar/protocol/run_listing';
import type { SweepListing, SweepRunEntry, SweepSummary } from '../sidecar/protocol/sweep_folder';
import { describeSweepProgress, liveRuns, resumableRuns, type SweepCounts } from './sweep_progress';
import { formatEpoch, progressLine, runDescription } from '../sidecar/protocol/run_stage';

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
      this.description = runDescription(listing.displayStatus, r.progress);
      const lines = [
        listing.runDir,
        `Status: ${listing.displayStatus === 'stale' ? `stale — run.json says ${r.status}, but process ${r.pid} is gone` : listing.displayStatus === 'queued' && r.status !== 'queued' ? `queued to resume (see the Queue section); run.json says ${r.status} until it starts` : r.status}`,
        `Task: ${r.task}`,
        r.progress
          ? `Step: ${r.progress.step}/${r.progress.totalSteps} (epoch ${formatEpoch(r.progress.epoch)})`
          : undefined,
        r.progress?.stage && listing.displayStatus === 'running' ? `Now: ${progressLine(r.progress)}` : undefined,
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

export class SweepItem extends vscode.TreeItem {
  /** The sweep folder; Compare Sweep (l3m.compareSweep) reads it from the node it is given. */
  readonly sweepDir: string;
  listing!: SweepListing;
  counts: SweepCounts = {
    total: 0,
    byStatus: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, stale: 0, unreadable: 0, pending: 0 },
  };
  runs: RunItem[] = [];

  constructor(listing: SweepListing) {
    super(idOf(listing), vscode.TreeItemCollapsibleState.Collapsed);
    this.sweepDir = listing.sweepDir;
    this.id = `sweep:${listing.sweepDir}`;
    this.resourceUri = vscode.Uri.file(listing.sweepDir);
  }

  /** The sweep's id (its folder's name). */
  get sweepId(): string {
    return idOf(this.listing);
  }

  /** The sweep's name from sweep.json, or its id when sweep.json cannot be read. */
  get name(): string {
    return this.listing.kind === 'sweep' ? this.listing.sweep.name : this.listing.id;
  }

  update(listing: SweepListing, counts: SweepCounts, failures: SweepSummary['failures'], runs: RunItem[]): void {
    this.listing = listing;
    this.counts = counts;
    this.runs = runs;
    if (listing.kind === 'unreadable') {
      this.description = 'unreadable';
      this.tooltip = `${listing.sweepDir}\nUnreadable: ${listing.reason}`;
      this.contextValue = 'unreadableSweep';
      this.iconPath = new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground'));
      return;
    }
    const { sweep } = listing;
    const live = liveRuns(counts) > 0;
    const resumable = !live && resumableRuns(counts) > 0;
    this.description = describeSweepProgress(counts);
    this.contextValue = ['sweep', live ? 'live' : '', resumable ? 'resumable' : ''].filter((p) => p !== '').join(' ');
    const failed = counts.byStatus.failed + counts.byStatus.stale + counts.byStatus.unreadable;
    this.iconPath = live
      ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'))
      : failed > 0
        ? new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'))
        : counts.byStatus.cancelled > 0
          ? new vscode.ThemeIcon('circle-slash')
          : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    const lines = [
      listing.sweepDir,
      `Sweep ${sweep.name}, from ${sweep.sweepPath || 'an unknown sweep file'}`,
      `Executor: ${sweep.executor}${sweep.local?.parallel ? `, ${sweep.local.parallel} at once` : ''}`,
      `Created: ${sweep.createdAt}`,
      `Runs: ${this.description}`,
      sweep.groupBy.length > 0 ? `Grouped by: ${sweep.groupBy.join(', ')}` : undefined,
      ...failures.slice(0, 5).map((f) => `Run ${f.index} failed: ${f.message}`),
      failures.length > 5 ? `… and ${failures.length - 5} more failures` : undefined,
    ];
    this.tooltip = lines.filter((l) => l !== undefined).join('\n');
  }
}

function idOf(listing: SweepListing): string {
  return listing.kind === 'sweep' ? listing.sweep.id : listing.id;
}

/**
 * A run under its sweep node: the same run as under its experiment (so every run action applies to
 * it), under its own id since a tree item's id is unique in the view, and labelled by its group and
 * repeat, which is what tells a sweep's runs apart.
 */
export class SweepRunItem extends RunItem {
  entry!: SweepRunEntry;

  constructor(listing: RunListing, sweepId: string) {
    super(listing);
    this.id = `sweep-run:${sweepId}:${listing.runDir}`;
  }

  /** Its sweep entry: label, and the sweep's facts added to the run's tooltip. */
  noteSweep(entry: SweepRunEntry): void {
    this.entry = entry;
    this.label = `${entry.group} · repeat ${entry.repeat}`;
    const seed = `Sweep run ${entry.index}: group ${entry.group}, repeat ${entry.repeat}, seed ${entry.seed}`;
    this.tooltip = `${typeof this.tooltip === 'string' ? this.tooltip : ''}\n${seed}`;
  }
}
