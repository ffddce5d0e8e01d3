// The sweep commands: Run Sweep on a sweep file (the Experiments view's inline action, the code lens,
// the editor title), Cancel All and Resume Unfinished on a sweep node of the Runs view, and the
// notification when a sweep ends. Run Sweep plans the sweep here first, with the same checks as the
// editor's diagnostics, so a sweep file with errors starts nothing and says why; a sweep larger than its
// max_runs starts only once the user agreed. Like Train, all three are refused in an untrusted
// workspace: they run code, read files named by configs, or signal processes and Slurm jobs.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { planSweep } from '../schemas/sweep_plan';
import { formatDiagnostic, hasErrors } from '../schemas/validate_config';
import { DiagnosticSeverity } from 'vscode-json-languageservice';
import { SweepFileItem } from './experiments_tree';
import { describeSidecarError, requireTrust } from './run_commands';
import { SweepItem } from './run_items';
import type { RunsTree } from './runs_tree';
import type { SidecarClient } from './sidecar_client';
import { describeSweepEnd, failedRuns } from './sweep_progress';
import * as settings from './settings';

export interface SweepCommandContext {
  client: SidecarClient;
  runsTree: RunsTree;
  output: vscode.OutputChannel;
}

const sweepSuffix = '.l3m-sweep.json';

/** The sweep file to run: an Experiments item, a URI (code lens, editor title), or the active editor. */
function sweepUriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof SweepFileItem) return arg.uri;
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  return active?.fsPath.endsWith(sweepSuffix) ? active : undefined;
}

function showOutputOn(ctx: SweepCommandContext, choice: string | undefined): void {
  if (choice === 'Show Output') ctx.output.show(true);
}

/** Opens the sweep file (the language server reports its problems for open files) and the Problems panel. */
async function showProblems(uri: vscode.Uri): Promise<void> {
  await vscode.window.showTextDocument(uri, { preview: true });
  await vscode.commands.executeCommand('workbench.actions.view.problems');
}

export async function runSweep(ctx: SweepCommandContext, arg: unknown): Promise<void> {
  const uri = sweepUriOf(arg);
  if (!uri) {
    void vscode.window.showErrorMessage(
      `L3M: choose a sweep file (*${sweepSuffix}) to run: use Run Sweep on a sweep of the Experiments view, or open the sweep file.`,
    );
    return;
  }
  if (!(await requireTrust('run a sweep', 'a sweep trains runs, which run code and read files named by the configs')))
    return;
  const runsDir = settings.runsDir();
  if (!runsDir) {
    void vscode.window.showErrorMessage(
      'L3M: the runs folder is unknown: open a workspace folder, or set l3m.runsDir to an absolute path.',
    );
    return;
  }
  const file = basename(uri.fsPath);
  // Run what the user sees: save the sweep file first if it has unsaved edits.
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();

  const planned = await planSweep(uri.fsPath);
  if (!planned.plan || hasErrors(planned.diagnostics)) {
    const errors = planned.diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    for (const d of errors) ctx.output.appendLine(`[sweep] ${formatDiagnostic(d, uri.fsPath)}`);
    const first = errors[0] ? ` ${formatDiagnostic(errors[0], file)}` : '';
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    const show = 'Show Problems';
    const choice = await vscode.window.showErrorMessage(
      `L3M: ${file} has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}, so no run of the sweep started:${first}${more}`,
      show,
    );
    if (choice === show) await showProblems(uri);
    return;
  }
  const plan = planned.plan;
  const executor = settings.executorOverride() ?? plan.executor;
  const count = plan.runs.length;
  let yes = false;
  if (count > plan.maxRuns) {
    const go = `Start ${count} Runs`;
    const choice = await vscode.window.showWarningMessage(
      `The sweep ${plan.name} expands to ${count} runs, more than its max_runs (${plan.maxRuns}). Start all ${count}?`,
      {
        modal: true,
        detail: `${file} · executor ${executor}. Raise max_runs in the sweep file to run sweeps of this size without this question.`,
      },
      go,
    );
    if (choice !== go) return;
    yes = true;
  }
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `L3M: starting the sweep ${file}` },
      () => ctx.client.runSweep({ sweepPath: uri.fsPath, runsDir, executor, yes, slurm: settings.slurmSettings() }),
    );
    ctx.runsTree.sweepEnds.started(result.sweepId);
    void ctx.runsTree.refresh();
    const how = executor === 'slurm' ? 'submitted to Slurm' : 'started';
    void vscode.window.showInformationMessage(`L3M: sweep ${result.sweepId} ${how}: ${result.runs.length} runs.`);
  } catch (error) {
    const message = describeSidecarError(error);
    ctx.output.appendLine(`[sweep] ${uri.fsPath}: ${message}`);
    void vscode.window
      .showErrorMessage(`L3M: could not run the sweep ${file}: ${message}`, 'Show Output')
      .then((choice) => showOutputOn(ctx, choice));
  }
}

function sweepNodeOf(clicked: unknown, action: string): SweepItem | undefined {
  if (clicked instanceof SweepItem && clicked.listing.kind === 'sweep') return clicked;
  void vscode.window.showErrorMessage(`L3M: ${action} needs a sweep of the Runs view.`);
  return undefined;
}

export async function cancelSweep(ctx: SweepCommandContext, clicked: unknown): Promise<void> {
  const node = sweepNodeOf(clicked, 'Cancel All');
  if (!node) return;
  if (
    !(await requireTrust(
      'cancel a sweep',
      "cancelling signals the processes of the sweep's runs, or cancels its Slurm jobs",
    ))
  )
    return;
  try {
    await ctx.client.cancelSweep(node.sweepDir);
  } catch (error) {
    void vscode.window
      .showErrorMessage(
        `L3M: could not cancel the sweep ${node.sweepId}: ${describeSidecarError(error)}`,
        'Show Output',
      )
      .then((choice) => showOutputOn(ctx, choice));
  }
  await ctx.runsTree.refresh();
}

export async function resumeSweep(ctx: SweepCommandContext, clicked: unknown): Promise<void> {
  const node = sweepNodeOf(clicked, 'Resume Unfinished');
  if (!node) return;
  if (!(await requireTrust('resume a sweep'))) return;
  try {
    const result = await ctx.client.resumeSweep({ sweepDir: node.sweepDir });
    ctx.runsTree.sweepEnds.started(node.sweepId);
    const resumed = result.runs.length;
    void vscode.window.showInformationMessage(
      `L3M: sweep ${node.sweepId}: ${resumed} unfinished run${resumed === 1 ? '' : 's'} resumed.`,
    );
  } catch (error) {
    void vscode.window
      .showErrorMessage(
        `L3M: could not resume the sweep ${node.sweepId}: ${describeSidecarError(error)}`,
        'Show Output',
      )
      .then((choice) => showOutputOn(ctx, choice));
  }
  await ctx.runsTree.refresh();
}

/** "Sweep … ended: 3 done, 1 failed of 4", with Compare Sweep on it. */
export function announceSweepEnd(node: SweepItem): void {
  const compare = 'Compare Sweep';
  const text = `L3M: sweep ${node.sweepId} ended: ${describeSweepEnd(node.counts)}.`;
  const problems = failedRuns(node.counts) + node.counts.byStatus.unreadable;
  void (
    problems > 0 ? vscode.window.showWarningMessage(text, compare) : vscode.window.showInformationMessage(text, compare)
  ).then((choice) => {
    if (choice === compare) void vscode.commands.executeCommand('l3m.compareSweep', node);
  });
}
