// The extension's settings (package.json "contributes.configuration"), read in one place.
import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';

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

/**
 * How to run Node for the sidecar. In desktop VS Code the extension host's process.execPath is the
 * Electron binary, which behaves as plain Node only with ELECTRON_RUN_AS_NODE=1; code-server runs
 * real Node, where that variable is harmless. `l3m.nodePath` overrides both.
 */
export function nodeCommand(): { nodePath: string; env: Record<string, string> } {
  const configured = vscode.workspace.getConfiguration('l3m').get<string>('nodePath')?.trim();
  const env: Record<string, string> = {};
  const backend = vscode.workspace.getConfiguration('l3m').get<string>('backend');
  // The sidecar's training engine reads L3M_BACKEND to override the config's runtime.backend.
  if (backend && backend !== 'config') env.L3M_BACKEND = backend;
  if (configured) return { nodePath: configured, env };
  return { nodePath: process.execPath, env: { ...env, ELECTRON_RUN_AS_NODE: '1' } };
}
