// The extension's settings (package.json "contributes.configuration"), read in one place.
import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';
import { sidecarCommand as sidecarCommandFor, type SidecarCommand } from './sidecar_cli';
import { watchPollingSettings, type WatchPollingSetting } from './watch_mode';

/** The first workspace folder's path, or undefined in an empty window. */
export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/**
 * The runs folder from `l3m.runsDir`: `${workspaceFolder}` is replaced by the first workspace
 * folder, and a relative path is taken relative to it. Undefined when there is no workspace and
 * the setting is not absolute.
 */
export function runsDir(): string | undefined {
  const root = workspaceRoot();
  const raw = vscode.workspace.getConfiguration('l3m').get<string>('runsDir') || '${workspaceFolder}/runs';
  if (raw.includes('${workspaceFolder}')) {
    if (!root) return undefined;
    return raw.split('${workspaceFolder}').join(root);
  }
  if (isAbsolute(raw)) return raw;
  return root ? join(root, raw) : undefined;
}

/** How to run the sidecar CLI at `sidecarScript` by `l3m.nodePath` and `l3m.backend` (sidecar_cli.ts). */
export function sidecarCommand(sidecarScript: string): SidecarCommand {
  const l3m = vscode.workspace.getConfiguration('l3m');
  return sidecarCommandFor(
    { nodePath: l3m.get<string>('nodePath'), backend: l3m.get<string>('backend') },
    sidecarScript,
  );
}

/** `l3m.executor`: where sweeps run, overriding each sweep file's `executor`; undefined: the file decides. */
export function executorOverride(): 'local' | 'slurm' | undefined {
  const value = vscode.workspace.getConfiguration('l3m').get<string>('executor');
  return value === 'local' || value === 'slurm' ? value : undefined;
}

/** `l3m.watchPolling`: whether the Runs view polls its folder (watch_mode.ts); "auto" for anything else. */
export function watchPolling(): WatchPollingSetting {
  const value = vscode.workspace.getConfiguration('l3m').get<string>('watchPolling');
  return watchPollingSettings.find((s) => s === value) ?? 'auto';
}
