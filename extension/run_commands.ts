// The commands on experiments and runs: Train, Cancel, Resume, Open Config, Reveal Run Folder.
// Train and Resume are refused in an untrusted workspace (they execute code on this machine), and so
// is Cancel (it signals a process that a file in the workspace names); Open Config there opens only
// the run's own config.json. The views and validation keep working. Errors from the sidecar are
// shown as they are — in particular, until the training engine is built, Train shows the sidecar's
// error and no run.
import * as vscode from 'vscode';
import { signalRunProcess } from '../sidecar/protocol/run_process';
import { describeSidecarError as describeErrorText, isConfigInvalid } from './sidecar_error_text';
import { describeQueuePlace, queuePlace } from './queue_places';
import { runConfigToOpen } from './run_config';
import type { SidecarClient } from './sidecar_client';
import { ExperimentItem } from './experiments_tree';
import { RunItem } from './run_items';
import type { RunsTree } from './runs_tree';
import * as settings from './settings';

export interface CommandContext {
  client: SidecarClient;
  runsTree: RunsTree;
  output: vscode.OutputChannel;
  /** Marks a stale run failed through a fresh l3m process (see sidecar_client.ts). */
  markFailed(runDir: string, reason: string): Promise<void>;
}

/**
 * Refuses with a message in an untrusted workspace; returns whether the action may go on. `why`: what
 * the action would do that a workspace must be trusted for.
 */
export async function requireTrust(
  action: string,
  why = 'training runs code and reads files named by the config',
): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showWarningMessage(
    `L3M Studio does not ${action} in an untrusted workspace: ${why}. Trust this workspace to ${action}.`,
    manage,
  );
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

/** The config to train: an Experiments item, a URI (code lens, explorer), or the active editor. */
function configUriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof ExperimentItem) return arg.uri;
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  return active?.fsPath.endsWith('.l3m.json') ? active : undefined;
}

/** The run items a command applies to: the multi-selection when the clicked item is part of it. */
function runItemsOf(clicked: unknown, selected: unknown): RunItem[] {
  const all = Array.isArray(selected) ? selected.filter((s): s is RunItem => s instanceof RunItem) : [];
  if (clicked instanceof RunItem) return all.some((s) => s.runDir === clicked.runDir) ? all : [clicked];
  return all;
}

/** An error from the sidecar in one line, paths relative to the workspace folders (sidecar_error_text.ts). */
export function describeSidecarError(error: unknown): string {
  return describeErrorText(
    error,
    (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
  );
}

export async function train(ctx: CommandContext, arg: unknown): Promise<void> {
  const uri = configUriOf(arg);
  if (!uri) {
    void vscode.window.showErrorMessage(
      'L3M: choose an experiment (*.l3m.json) to train: use Train on an item of the Experiments view, or open the config.',
    );
    return;
  }
  if (!(await requireTrust('train'))) return;
  const runsDir = settings.runsDir();
  if (!runsDir) {
    void vscode.window.showErrorMessage(
      'L3M: the runs folder is unknown: open a workspace folder, or set l3m.runsDir to an absolute path.',
    );
    return;
  }
  // Train what the user sees: save the config first if it has unsaved edits.
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `L3M: starting ${uri.fsPath.split(/[\\/]/).pop()}` },
      () => ctx.client.startRun({ configPath: uri.fsPath, runsDir }),
    );
    // The view follows on its own; the message need not wait for it.
    void ctx.runsTree.refresh();
    void vscode.window.showInformationMessage(
      `L3M: run ${result.runId} ${result.status === 'queued' ? 'queued' : 'started'}.`,
    );
  } catch (error) {
    const message = describeSidecarError(error);
    // The output keeps the whole error, every diagnostic with its absolute path.
    ctx.output.appendLine(`[train] ${uri.fsPath}: ${error instanceof Error ? error.message : message}`);
    const showProblems = 'Show Problems';
    const actions = isConfigInvalid(error) ? [showProblems, 'Show Output'] : ['Show Output'];
    void vscode.window
      .showErrorMessage(`L3M: could not train ${uri.fsPath.split(/[\\/]/).pop()}: ${message}`, ...actions)
      .then((c) => {
        // The language server reports the problems of open documents: open the config beside them.
        if (c === showProblems)
          void vscode.window
            .showTextDocument(uri, { preview: true })
            .then(() => vscode.commands.executeCommand('workbench.actions.view.problems'));
        else if (c) ctx.output.show(true);
      });
  }
}

export async function cancelRuns(ctx: CommandContext, clicked: unknown, selected: unknown): Promise<void> {
  const items = runItemsOf(clicked, selected).filter((i) => i.status === 'queued' || i.status === 'running');
  if (items.length === 0) {
    void vscode.window.showInformationMessage('L3M: select a queued or running run to cancel.');
    return;
  }
  if (!(await requireTrust('cancel a run', "cancelling signals the process that the run's run.json names"))) return;
  for (const item of items) {
    try {
      if (ctx.client.activeRuns.includes(item.runDir)) {
        await ctx.client.cancelRun(item.runDir);
      } else if (item.listing.kind === 'run') {
        // A run started elsewhere on this machine (`l3m train` in a terminal): SIGINT is its Ctrl-C,
        // which stops within one step and leaves the run resumable. Sent only to the process whose
        // identity run.json recorded, never to a bare pid (run_process.ts).
        const outcome = signalRunProcess(item.listing.record, 'SIGINT');
        if (!outcome.signalled)
          void vscode.window.showWarningMessage(
            `L3M: run ${item.listing.runId} is not run by this window's sidecar, and it was not signalled: ${outcome.reason}.`,
          );
      } else {
        void vscode.window.showWarningMessage(
          `L3M: run ${item.listing.runId} is not run by this window's sidecar, and its run.json cannot be read: ${item.listing.reason}.`,
        );
      }
    } catch (error) {
      void vscode.window.showErrorMessage(
        `L3M: could not cancel ${item.listing.runId}: ${describeSidecarError(error)}`,
      );
    }
  }
  await ctx.runsTree.refresh();
}

export async function resumeRuns(ctx: CommandContext, clicked: unknown, selected: unknown): Promise<void> {
  // A run already in this window's queue is not resumed twice: say where it is instead.
  const all = runItemsOf(clicked, selected);
  for (const item of all) {
    const place = queuePlace(ctx.client.queue, item.runDir);
    if (place)
      void vscode.window.showInformationMessage(
        `L3M: run ${item.listing.runId} is already ${place.state === 'running' ? 'running' : `queued: ${describeQueuePlace(place)}`} (see the Queue section of the Runs view).`,
      );
  }
  const items = all
    .filter((i) => !queuePlace(ctx.client.queue, i.runDir))
    .filter((i) => i.status === 'cancelled' || i.status === 'failed' || i.status === 'stale');
  if (items.length === 0) {
    if (all.length === 0 || all.some((i) => !queuePlace(ctx.client.queue, i.runDir)))
      void vscode.window.showInformationMessage('L3M: select a cancelled, failed or stale run to resume.');
    return;
  }
  if (!(await requireTrust('resume a run'))) return;
  for (const item of items) {
    try {
      if (item.status === 'stale' && item.listing.kind === 'run') {
        // Its process is gone: record that first, so the run may legally go back to running.
        await ctx.markFailed(
          item.runDir,
          `The process that ran it (pid ${item.listing.record.pid}) is gone; found stale by the extension.`,
        );
      }
      const result = await ctx.client.resumeRun({ runDir: item.runDir });
      void vscode.window.showInformationMessage(
        `L3M: run ${result.runId} ${result.status === 'queued' ? 'queued to resume' : 'resumed'}.`,
      );
    } catch (error) {
      void vscode.window.showErrorMessage(
        `L3M: could not resume ${item.listing.runId}: ${describeSidecarError(error)}`,
      );
    }
  }
  await ctx.runsTree.refresh();
}

export async function openConfig(arg: unknown): Promise<void> {
  let uri: vscode.Uri | undefined;
  if (arg instanceof ExperimentItem) uri = arg.uri;
  else if (arg instanceof vscode.Uri) uri = arg;
  else if (arg instanceof RunItem) {
    const workspaceFolders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const chosen = await runConfigToOpen(
      arg.runDir,
      arg.listing.kind === 'run' ? arg.listing.record.configPath : undefined,
      workspaceFolders,
      vscode.workspace.isTrusted,
    );
    if ('problem' in chosen) {
      void vscode.window.showErrorMessage(`L3M: Open Config: ${chosen.problem}`);
      return;
    }
    if (chosen.note) void vscode.window.showInformationMessage(`L3M: ${chosen.note}`);
    uri = vscode.Uri.file(chosen.path);
  }
  if (!uri) {
    void vscode.window.showErrorMessage('L3M: Open Config needs an experiment or a run item.');
    return;
  }
  await vscode.window.showTextDocument(uri, { preview: true });
}

export async function revealRunFolder(clicked: unknown, selected: unknown): Promise<void> {
  const item = runItemsOf(clicked, selected)[0];
  if (!item) {
    void vscode.window.showErrorMessage('L3M: Reveal Run Folder needs a run item.');
    return;
  }
  const uri = vscode.Uri.file(item.runDir);
  // Inside the workspace the Explorer can show it (also in code-server); elsewhere the OS file manager.
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}
