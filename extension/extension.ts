// Entry point of L3M Studio in VS Code's extension host: the Experiments and Runs views, the
// language client for *.l3m.json, the sidecar client and the commands that drive it, the queue in
// the status bar, and a notification when a run or a sweep ends. Activation: package.json activationEvents
// (a workspace with *.l3m.json files, or a view or command of the extension).
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { RunStateParams } from '../sidecar/protocol/messages';
import { ExperimentsTree, experimentGlob, sweepGlob } from './experiments_tree';
import { RunsTree } from './runs_tree';
import { SidecarClient } from './sidecar_client';
import { QueueStatusBar } from './status_bar';
import { TrainCodeLensProvider } from './train_code_lens';
import { startLanguageClient } from './language_client';
import * as commands from './run_commands';
import { sampleRun } from './sample_command';
import type { SweepItem } from './run_items';
import * as sweeps from './sweep_commands';
import * as settings from './settings';
import { registerPanels } from './panels/panels';
import { installGpuBackend } from './backend_install';
import { registerQueueCommands } from './queue_commands';

let languageClient: LanguageClient | undefined;
let sidecar: SidecarClient | undefined;

function notifyRunEnded(state: RunStateParams, output: vscode.OutputChannel): void {
  const name = `${state.record.experiment}/${state.record.id}`;
  const reveal = 'Reveal Run Folder';
  const act = (choice: string | undefined) => {
    if (choice === reveal) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(state.runDir));
    else if (choice === 'Show Output') output.show(true);
  };
  if (state.kind === 'completed')
    void vscode.window.showInformationMessage(`L3M: run ${name} completed.`, reveal).then(act);
  else if (state.kind === 'cancelled')
    void vscode.window.showWarningMessage(`L3M: run ${name} was cancelled; it can be resumed.`).then(act);
  else if (state.kind === 'failed')
    void vscode.window.showErrorMessage(`L3M: run ${name} failed: ${state.message}`, 'Show Output', reveal).then(act);
}

/** The optionalDependencies of the extension's package.json: the GPU backend packages it was built against. */
function optionalDependencies(packageJson: unknown): Record<string, unknown> {
  if (typeof packageJson !== 'object' || packageJson === null || !('optionalDependencies' in packageJson)) return {};
  const deps: unknown = packageJson.optionalDependencies;
  return typeof deps === 'object' && deps !== null ? { ...deps } : {};
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('L3M Sidecar');
  const languageOutput = vscode.window.createOutputChannel('L3M Language Server');
  context.subscriptions.push(output, languageOutput);

  const experimentsTree = new ExperimentsTree();
  const runsTree = new RunsTree(settings.runsDir(), settings.watchPolling());
  const runsView = vscode.window.createTreeView('l3m.runs', {
    treeDataProvider: runsTree,
    canSelectMany: true,
    showCollapseAll: true,
  });
  context.subscriptions.push(
    experimentsTree,
    runsTree,
    vscode.window.createTreeView('l3m.experiments', { treeDataProvider: experimentsTree, showCollapseAll: true }),
    runsView,
    runsTree.onDidChangeWatchMode(({ runsDir, mode }) => {
      output.appendLine(
        `[runs] Following ${runsDir} ${mode.polling ? 'by polling it every second' : 'by file events'}: ${mode.reason}.`,
      );
      // Polling is slower and costs a stat per run each second: say so where the runs are shown.
      runsView.message = mode.polling ? `Polling the runs folder every second: ${mode.reason}.` : undefined;
    }),
  );

  const backendsInstallFolder = vscode.Uri.joinPath(context.globalStorageUri, 'backends').fsPath;
  settings.setBackendsInstallFolder(backendsInstallFolder);
  const client = new SidecarClient({
    ...settings.sidecarCommand(context.asAbsolutePath('dist/sidecar.js')),
    runsDir: settings.runsDir() ?? '',
    clientName: `${vscode.env.appName} ${vscode.version}`,
    output: (text) => output.append(text),
    mayStart: () => vscode.workspace.isTrusted,
  });
  sidecar = client;

  const statusBar = new QueueStatusBar();
  context.subscriptions.push(statusBar);
  client.onRunState.on((state) => {
    statusBar.onRunState(state);
    // The view updates itself when its load ends; the event listener has nothing to wait for.
    void runsTree.refresh();
    // A sweep's runs end by the dozen: the sweep's own notification speaks for them.
    if ((state.kind === 'completed' || state.kind === 'cancelled' || state.kind === 'failed') && !state.record.sweep)
      notifyRunEnded(state, output);
  });
  // The end of a sweep, from whichever says it first: this window's sidecar, or the runs folder (a
  // Slurm sweep, or one run by `l3m sweep run` in a terminal); each end is announced once.
  const announceSweepEnd = (node: SweepItem | undefined) => {
    if (node && runsTree.sweepEnds.claim(node.sweepId)) sweeps.announceSweepEnd(node);
  };
  context.subscriptions.push(runsTree.onDidSeeSweepEnd(announceSweepEnd));
  client.onSweepState.on((state) => {
    void runsTree.refresh().then(() => {
      // `ended` says the sidecar is done with the sweep; on Slurm that is at submission, so the runs decide.
      if (state.ended && state.summary.ended) announceSweepEnd(runsTree.sweepAt(state.sweepDir));
    });
  });
  client.onProgress.on((p) => statusBar.onProgress(p));
  // The Runs view's Queue section, and a resumed run waiting in the queue shown as queued.
  client.onQueueChanged.on((state) => runsTree.setQueue(state));
  registerQueueCommands(context, client);
  client.onExit.on((exit) => {
    statusBar.clear();
    void runsTree.refresh();
    if (exit.expected) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const runs = exit.failedRuns.length > 0 ? ` ${exit.failedRuns.length} run(s) marked failed.` : '';
    void vscode.window
      .showErrorMessage(
        `L3M: the sidecar ${how}${exit.fatalMessage ? `: ${exit.fatalMessage}` : ''}.${runs} The next Train starts a new one.`,
        'Show Output',
      )
      .then((c) => {
        if (c) output.show(true);
      });
  });

  const ctx: commands.CommandContext = {
    client,
    runsTree,
    output,
    markFailed: (runDir, reason) => client.markFailed(runDir, reason),
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('l3m.train', (arg: unknown) => commands.train(ctx, arg)),
    vscode.commands.registerCommand('l3m.runSweep', (arg: unknown) => sweeps.runSweep(ctx, arg)),
    vscode.commands.registerCommand('l3m.cancelSweep', (clicked: unknown) => sweeps.cancelSweep(ctx, clicked)),
    vscode.commands.registerCommand('l3m.resumeSweep', (clicked: unknown) => sweeps.resumeSweep(ctx, clicked)),
    vscode.commands.registerCommand('l3m.cancelRun', (clicked: unknown, selected: unknown) =>
      commands.cancelRuns(ctx, clicked, selected),
    ),
    vscode.commands.registerCommand('l3m.resumeRun', (clicked: unknown, selected: unknown) =>
      commands.resumeRuns(ctx, clicked, selected),
    ),
    vscode.commands.registerCommand('l3m.openConfig', (arg: unknown) => commands.openConfig(arg)),
    vscode.commands.registerCommand('l3m.revealRunFolder', (clicked: unknown, selected: unknown) =>
      commands.revealRunFolder(clicked, selected),
    ),
    vscode.commands.registerCommand('l3m.sample', (clicked: unknown) =>
      sampleRun(client, clicked, (runDir) => void vscode.commands.executeCommand('l3m.openInspector', { runDir })),
    ),
    vscode.commands.registerCommand('l3m.installGpuBackend', () =>
      installGpuBackend({
        client,
        output,
        sidecarScript: context.asAbsolutePath('dist/sidecar.js'),
        installFolder: backendsInstallFolder,
        builtAgainst: optionalDependencies(context.extension.packageJSON),
      }),
    ),
    vscode.commands.registerCommand('l3m.refresh', async () => {
      runsTree.setRunsDir(settings.runsDir());
      await Promise.all([experimentsTree.refresh(), runsTree.refresh()]);
    }),
    vscode.languages.registerCodeLensProvider(
      [
        { scheme: 'file', pattern: experimentGlob },
        { scheme: 'file', pattern: sweepGlob },
      ],
      new TrainCodeLensProvider(),
    ),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('l3m.runsDir')) runsTree.setRunsDir(settings.runsDir());
      if (e.affectsConfiguration('l3m.watchPolling')) runsTree.setWatchPolling(settings.watchPolling());
      if (
        e.affectsConfiguration('l3m.nodePath') ||
        e.affectsConfiguration('l3m.backend') ||
        e.affectsConfiguration('l3m.backendsPath')
      ) {
        void vscode.window.showInformationMessage('L3M: the new sidecar setting applies after a window reload.');
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => runsTree.setRunsDir(settings.runsDir())),
    vscode.workspace.onDidGrantWorkspaceTrust(() => runsTree.refresh()),
  );

  registerPanels(context, { runEvents: client, runsDir: settings.runsDir });
  languageClient = await startLanguageClient(context, languageOutput);
}

export async function deactivate(): Promise<void> {
  // Stop the sidecar first: it cancels its runs, which stay resumable.
  await Promise.allSettled([sidecar?.stop(5_000), languageClient?.stop()]);
  sidecar = undefined;
  languageClient = undefined;
}
