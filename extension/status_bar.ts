// The queue in the status bar: the running run's step/total and loss, and how many wait behind it.
// Clicking it shows the Runs view.
import * as vscode from 'vscode';
import type { ProgressParams, RunStateParams } from '../sidecar/protocol/messages';
import { progressLine, progressOfReport, shortProgress } from '../sidecar/protocol/run_stage';

function runName(runDir: string): string {
  const parts = runDir.split(/[\\/]/).filter((p) => p !== '');
  return parts.slice(-2).join('/');
}

export class QueueStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('l3m.queue', vscode.StatusBarAlignment.Left, 50);
  private active: string | null = null;
  private readonly queued = new Set<string>();
  private lastProgress: ProgressParams | null = null;

  constructor() {
    this.item.name = 'L3M training queue';
    this.item.command = 'l3m.runs.focus';
  }

  onRunState(state: RunStateParams): void {
    if (state.kind === 'queued') this.queued.add(state.runDir);
    else if (state.kind === 'running') {
      this.queued.delete(state.runDir);
      this.active = state.runDir;
      this.lastProgress = null;
    } else {
      this.queued.delete(state.runDir);
      if (this.active === state.runDir) {
        this.active = null;
        this.lastProgress = null;
      }
    }
    this.render();
  }

  onProgress(progress: ProgressParams): void {
    // Only the training run the queue started (run/state `running`) shows here: sampling a finished
    // run also sends progress, with its own notification, and must not look like training.
    if (progress.runDir !== this.active) return;
    this.lastProgress = progress;
    this.render();
  }

  /** The sidecar is gone: nothing is running or queued any more. */
  clear(): void {
    this.active = null;
    this.queued.clear();
    this.lastProgress = null;
    this.render();
  }

  private render(): void {
    if (!this.active && this.queued.size === 0) {
      this.item.hide();
      return;
    }
    const waiting = this.queued.size > 0 ? ` (+${this.queued.size} queued)` : '';
    if (!this.active) {
      this.item.text = `$(clock) L3M: ${this.queued.size} queued`;
      this.item.tooltip = [...this.queued].map(runName).join('\n');
    } else {
      const p = this.lastProgress;
      this.item.text = `$(sync~spin) L3M ${runName(this.active)}${p ? ` ${shortProgress(p)}` : ''}${waiting}`;
      this.item.tooltip = `Training ${this.active}${p ? `\n${progressLine(progressOfReport(p))}${p.phase === undefined ? `, lr ${p.lr.toExponential(2)}` : ''}` : ''}`;
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
