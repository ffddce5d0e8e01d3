// The Queue section at the top of the Runs view: the run this window's sidecar trains now and the
// ones waiting behind it, in the order they will run, each movable (Move Up, Move Down) and
// cancellable (queue_commands.ts). It shows the sidecar's queue/changed notifications as they come,
// and only while the queue holds a run; the status bar's queue item opens the Runs view, where it is
// the first node. Runs started elsewhere (a terminal, a sweep) are not in this queue.
import * as vscode from 'vscode';
import type { QueueState } from '../sidecar/protocol/messages';
import { describeQueuePlace, queueRows, type QueueRow } from './queue_places';

export class QueueItem extends vscode.TreeItem {
  constructor(readonly row: QueueRow) {
    // The experiment as the label and the place first in the description, so that a narrow side bar
    // still shows what runs and in which order; the run id follows (the tooltip has the folder).
    super(row.experiment, vscode.TreeItemCollapsibleState.None);
    this.id = `queue:${row.runDir}`;
    this.resourceUri = vscode.Uri.file(row.runDir);
    const where = describeQueuePlace(row.place);
    this.description = `${where} · ${row.runId}`;
    this.tooltip = `${row.runDir}\n${row.place.kind === 'resume' ? 'Resumed from its last checkpoint' : 'A new run'}, ${where}.`;
    this.iconPath =
      row.place.state === 'running'
        ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'))
        : new vscode.ThemeIcon('clock');
    // package.json's menus read these words: which of Move Up / Move Down apply; Cancel always does.
    this.contextValue = [
      'queueRun',
      row.place.state,
      row.canMoveUp ? 'canMoveUp' : '',
      row.canMoveDown ? 'canMoveDown' : '',
    ]
      .filter((w) => w !== '')
      .join(' ');
  }
}

export class QueueSection extends vscode.TreeItem {
  items: QueueItem[] = [];

  constructor() {
    super('Queue', vscode.TreeItemCollapsibleState.Expanded);
    this.id = 'queue';
    this.contextValue = 'queue';
    this.iconPath = new vscode.ThemeIcon('list-ordered');
  }

  show(state: QueueState): void {
    this.items = queueRows(state).map((row) => new QueueItem(row));
    this.description = `${state.active ? '1 running, ' : ''}${state.waiting.length} waiting`;
    this.tooltip = "This window's training queue: one run at a time, the others in the order they will run.";
  }
}
