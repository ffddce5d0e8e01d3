// The extension's settings (package.json "contributes.configuration"), read in one place.
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { sidecarCommand as sidecarCommandFor, type SidecarCommand } from './sidecar_cli';
import { watchPollingSettings, type WatchPollingSetting } from './watch_mode';
import type { SlurmSettings } from '../sidecar/protocol/messages';

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

let backendsInstallFolder: string | undefined;

/** Where "L3M: Install GPU Backend" installs (a folder of the extension's global storage); set at activation. */
export function setBackendsInstallFolder(folder: string): void {
  backendsInstallFolder = folder;
}

/**
 * `l3m.backendsPath`: a folder holding node_modules with GPU backend packages installed elsewhere.
 * `~` is the home folder; a relative path is taken relative to the first workspace folder.
 */
export function backendsPath(): string | undefined {
  const raw = vscode.workspace.getConfiguration('l3m').get<string>('backendsPath')?.trim();
  if (!raw) return undefined;
  const expanded = raw === '~' || raw.startsWith('~/') ? join(homedir(), raw.slice(1)) : raw;
  if (isAbsolute(expanded)) return expanded;
  const root = workspaceRoot();
  return root ? join(root, expanded) : undefined;
}

/** The folders the sidecar searches for GPU backend packages first, in order: the setting's, then the installed ones. */
export function backendsDirs(): string[] {
  return [backendsPath(), backendsInstallFolder].filter((dir): dir is string => dir !== undefined);
}

/**
 * How to run the sidecar CLI at `sidecarScript` by `l3m.nodePath`, `l3m.backend` and the backends
 * folders (sidecar_cli.ts).
 */
export function sidecarCommand(sidecarScript: string): SidecarCommand {
  const l3m = vscode.workspace.getConfiguration('l3m');
  return sidecarCommandFor(
    { nodePath: l3m.get<string>('nodePath'), backend: l3m.get<string>('backend'), backendsDirs: backendsDirs() },
    sidecarScript,
  );
}

/** `l3m.executor`: where sweeps run, overriding each sweep file's `executor`; undefined: the file decides. */
export function executorOverride(): 'local' | 'slurm' | undefined {
  const value = vscode.workspace.getConfiguration('l3m').get<string>('executor');
  return value === 'local' || value === 'slurm' ? value : undefined;
}

/**
 * `l3m.slurm`: Slurm options for what a sweep file's `slurm` section leaves out (partition, account, …),
 * its well-typed fields; the sidecar checks their values. Undefined when the setting is not an object.
 */
export function slurmSettings(): SlurmSettings | undefined {
  const value: unknown = vscode.workspace.getConfiguration('l3m').get('slurm');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const field = (key: string): unknown => Reflect.get(value, key);
  const settings: SlurmSettings = {};
  for (const key of ['partition', 'time', 'mem', 'gres', 'account', 'shared_dir'] as const) {
    const text = field(key);
    if (typeof text === 'string' && text !== '') settings[key] = text;
  }
  const cpus = field('cpus_per_task');
  if (typeof cpus === 'number') settings.cpus_per_task = cpus;
  const extra = field('extra');
  if (Array.isArray(extra)) settings.extra = extra.filter((line): line is string => typeof line === 'string');
  return settings;
}

/** `l3m.watchPolling`: whether the Runs view polls its folder (watch_mode.ts); "auto" for anything else. */
export function watchPolling(): WatchPollingSetting {
  const value = vscode.workspace.getConfiguration('l3m').get<string>('watchPolling');
  return watchPollingSettings.find((s) => s === value) ?? 'auto';
}
