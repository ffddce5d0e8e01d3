// Registers the panels with VS Code: the commands that open them (from the Runs view, including
// its multi-selection for Compare), the serializers that bring them back after a window reload
// (from the state each page keeps with setState), and the monitor that opens by itself when a run
// the extension started begins to train. extension.ts calls `registerPanels` once.
import * as vscode from 'vscode';
import { isRecord } from '../../schemas/json_value';
import { listRuns } from '../../sidecar/protocol/run_listing';
import type { ProgressParams, RunStateParams } from '../../sidecar/protocol/messages';
import { monitorColumn } from './monitor_column';
import type { PanelState } from '../../webview/shared/panel_protocol';
import { viewTypes, webviewOptions } from './panel_channel';
import { MonitorPanel } from './monitor_panel';
import { InspectorPanel } from './inspector_panel';
import { ComparePanel } from './compare_panel';
import { sweepRunDirs } from './run_data';
import { listSweeps } from '../../sidecar/protocol/sweep_folder';

type Subscription = { dispose(): void };

/** What the panels need from the sidecar client (extension/sidecar_client.ts). */
export interface RunEvents {
  onRunState: { on(listener: (state: RunStateParams) => void): Subscription };
  onMetrics: { on(listener: (params: { runDir: string }) => void): Subscription };
  onProgress: { on(listener: (params: ProgressParams) => void): Subscription };
}

export interface PanelOptions {
  runEvents: RunEvents;
  /** The runs folder now (it follows the l3m.runsDir setting). */
  runsDir(): string | undefined;
}

/** A Runs view item, or anything else carrying a run folder. */
function runDirOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.runDir === 'string' ? value.runDir : undefined;
}

/** The runs a command applies to: the multi-selection when the clicked item is part of it. */
function runDirsOf(clicked: unknown, selected: unknown): string[] {
  const all = Array.isArray(selected) ? selected.map(runDirOf).filter((d): d is string => d !== undefined) : [];
  const one = runDirOf(clicked);
  if (one) return all.includes(one) ? all : [one];
  return all;
}

/** A sweep folder from a command's argument: its path, its Uri, or a Runs view node carrying `sweepDir`. */
function sweepDirOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof vscode.Uri) return value.fsPath;
  return isRecord(value) && typeof value.sweepDir === 'string' ? value.sweepDir : undefined;
}

/**
 * A serializer's deserialize function from a synchronous one. The state is what the page saved with
 * setState (webview/shared/vscode_api.ts), and undefined when it saved none.
 */
function revive(
  restore: (panel: vscode.WebviewPanel, state: PanelState | undefined) => void,
): (panel: vscode.WebviewPanel, state: PanelState | undefined) => Promise<void> {
  return (panel, state) => {
    restore(panel, state);
    return Promise.resolve();
  };
}

export function registerPanels(context: vscode.ExtensionContext, options: PanelOptions): void {
  const extensionUri = context.extensionUri;
  const monitors = new Map<string, MonitorPanel>();
  const inspectors = new Map<string, InspectorPanel>();
  let compare: ComparePanel | undefined;
  const autoOpened = new Set<string>();

  const pickRuns = async (canPickMany: boolean, title: string): Promise<string[]> => {
    const runsDir = options.runsDir();
    if (!runsDir) {
      void vscode.window.showErrorMessage(
        'L3M: the runs folder is unknown: open a workspace folder, or set l3m.runsDir.',
      );
      return [];
    }
    const listings = await listRuns(runsDir);
    if (listings.length === 0) {
      void vscode.window.showInformationMessage(`L3M: no runs in ${runsDir} yet. Train an experiment first.`);
      return [];
    }
    const items = listings.map((l) => ({
      label: `${l.experiment}/${l.runId}`,
      description: l.kind === 'run' ? `${l.displayStatus} · ${l.record.task}` : 'unreadable',
      runDir: l.runDir,
    }));
    const picked = canPickMany
      ? await vscode.window.showQuickPick(items, { canPickMany: true, title })
      : await vscode.window.showQuickPick(items, { title });
    if (!picked) return [];
    return (Array.isArray(picked) ? picked : [picked]).map((p) => p.runDir);
  };

  const openMonitor = (runDir: string, reveal = true): void => {
    const existing = monitors.get(runDir);
    if (existing) {
      if (reveal) existing.panel.reveal(undefined, true);
      return;
    }
    const column = monitorColumn([...monitors.values()].map((m) => m.panel.viewColumn));
    monitors.set(
      runDir,
      MonitorPanel.create(extensionUri, runDir, () => monitors.delete(runDir), column),
    );
  };
  const openInspector = (runDir: string): void => {
    const existing = inspectors.get(runDir);
    if (existing) return existing.panel.reveal();
    inspectors.set(
      runDir,
      InspectorPanel.create(extensionUri, runDir, () => inspectors.delete(runDir)),
    );
  };
  const openCompare = async (runDirs: string[]): Promise<void> => {
    if (compare) {
      await compare.addRuns(runDirs);
      compare.panel.reveal();
      return;
    }
    compare = ComparePanel.create(
      extensionUri,
      runDirs,
      () => options.runsDir(),
      () => {
        compare = undefined;
      },
    );
  };

  /** Compare on all the runs of a sweep, grouped by its group_by; the runs replace those compared before. */
  const openCompareSweep = async (sweepDir: string): Promise<void> => {
    const read = await sweepRunDirs(sweepDir);
    if ('error' in read) {
      void vscode.window.showErrorMessage(`L3M: cannot compare the sweep: ${read.error}`);
      return;
    }
    if (compare) {
      await compare.setRuns(read.runDirs, 'sweep');
      compare.panel.reveal();
      return;
    }
    compare = ComparePanel.create(
      extensionUri,
      read.runDirs,
      () => options.runsDir(),
      () => {
        compare = undefined;
      },
      'sweep',
    );
  };
  const pickSweep = async (): Promise<string | undefined> => {
    const runsDir = options.runsDir();
    if (!runsDir) {
      void vscode.window.showErrorMessage(
        'L3M: the runs folder is unknown: open a workspace folder, or set l3m.runsDir.',
      );
      return undefined;
    }
    const sweeps = (await listSweeps(runsDir)).filter((l) => l.kind === 'sweep');
    if (sweeps.length === 0) {
      void vscode.window.showInformationMessage(`L3M: no sweeps in ${runsDir} yet. Run a sweep file first.`);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      sweeps.reverse().map((l) => ({
        label: l.sweep.name,
        description: `${l.sweep.id} · ${l.sweep.runs.length} runs`,
        sweepDir: l.sweepDir,
      })),
      { title: 'Compare the runs of a sweep' },
    );
    return picked?.sweepDir;
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('l3m.compareSweep', async (clicked: unknown) => {
      const sweepDir = sweepDirOf(clicked) ?? (await pickSweep());
      if (sweepDir) await openCompareSweep(sweepDir);
    }),
    vscode.commands.registerCommand('l3m.openMonitor', async (clicked: unknown, selected: unknown) => {
      const runDirs = runDirsOf(clicked, selected);
      for (const runDir of runDirs.length > 0 ? runDirs : await pickRuns(false, 'Open the training monitor of a run'))
        openMonitor(runDir);
    }),
    vscode.commands.registerCommand('l3m.openInspector', async (clicked: unknown, selected: unknown) => {
      const runDirs = runDirsOf(clicked, selected);
      for (const runDir of runDirs.length > 0 ? runDirs : await pickRuns(false, 'Inspect the lightcones of a run'))
        openInspector(runDir);
    }),
    vscode.commands.registerCommand('l3m.compareRuns', async (clicked: unknown, selected: unknown) => {
      const runDirs = runDirsOf(clicked, selected);
      const chosen =
        runDirs.length > 1 || compare ? runDirs : [...runDirs, ...(await pickRuns(true, 'Choose runs to compare'))];
      if (chosen.length > 0) await openCompare(chosen);
    }),
    // After a window reload VS Code recreates the panels and hands back each page's saved state.
    vscode.window.registerWebviewPanelSerializer(viewTypes.monitor, {
      deserializeWebviewPanel: revive((panel, state) => {
        if (state?.kind !== 'monitor' || !state.runDir) {
          panel.dispose();
          return;
        }
        panel.webview.options = webviewOptions(extensionUri, [state.runDir]);
        monitors.get(state.runDir)?.panel.dispose();
        monitors.set(
          state.runDir,
          new MonitorPanel(panel, extensionUri, state.runDir, () => monitors.delete(state.runDir)),
        );
      }),
    }),
    vscode.window.registerWebviewPanelSerializer(viewTypes.inspector, {
      deserializeWebviewPanel: revive((panel, state) => {
        if (state?.kind !== 'inspector' || !state.runDir) {
          panel.dispose();
          return;
        }
        panel.webview.options = webviewOptions(extensionUri, [state.runDir]);
        inspectors.get(state.runDir)?.panel.dispose();
        inspectors.set(
          state.runDir,
          new InspectorPanel(panel, extensionUri, state.runDir, () => inspectors.delete(state.runDir)),
        );
      }),
    }),
    vscode.window.registerWebviewPanelSerializer(viewTypes.compare, {
      deserializeWebviewPanel: revive((panel, state) => {
        const runDirs = state?.kind === 'compare' ? state.runDirs : [];
        panel.webview.options = webviewOptions(extensionUri, runDirs);
        compare?.panel.dispose();
        compare = new ComparePanel(
          panel,
          extensionUri,
          runDirs,
          () => options.runsDir(),
          () => {
            compare = undefined;
          },
        );
      }),
    }),
    options.runEvents.onRunState.on((state) => {
      // A run this extension started begins training: show its monitor beside the editor, once.
      if (state.kind === 'running' && !autoOpened.has(state.runDir)) {
        autoOpened.add(state.runDir);
        openMonitor(state.runDir, false);
      }
      monitors.get(state.runDir)?.runState(state.record);
    }),
    options.runEvents.onMetrics.on((params) => monitors.get(params.runDir)?.metricsArrived()),
    options.runEvents.onProgress.on((params) => monitors.get(params.runDir)?.progress(params)),
    {
      dispose: () => {
        for (const p of [...monitors.values(), ...inspectors.values()]) p.panel.dispose();
        compare?.panel.dispose();
      },
    },
  );
}
