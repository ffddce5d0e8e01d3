// "L3M: Install GPU Backend": the packaged extension carries no node_modules, so the sidecar of an
// installed extension finds no native or GPU package beside itself. This command installs one with npm
// into a folder of the extension's global storage, which the sidecar searches first (L3M_BACKENDS_DIR,
// settings.ts): a backend package at the version this extension was built against, or package tarballs
// (`npm pack`) for a machine without internet. npm's output goes to the "L3M Sidecar" output channel;
// afterwards an idle sidecar is restarted and `l3m probe` says what the folder now provides.
import * as vscode from 'vscode';
import { mkdirSync } from 'node:fs';
import { errorMessage } from '../sidecar/protocol/error_message';
import { backendsIn, describeInstalled, parseProbeOutput } from './backend_probe_report';
import { findNpm, npmMissingMessage, pinnedVersion, runNpmInstall } from './npm_install';
import { hostRuntime, runSidecarCli } from './sidecar_cli';
import type { SidecarClient } from './sidecar_client';
import * as settings from './settings';

export interface BackendInstallContext {
  client: SidecarClient;
  output: vscode.OutputChannel;
  /** Absolute path of dist/sidecar.js, for the probe after the install. */
  sidecarScript: string;
  /** The folder installs go to (settings.ts's backends install folder). */
  installFolder: string;
  /** The extension's package.json optionalDependencies: the backend packages it was built against. */
  builtAgainst: Record<string, unknown>;
}

/** The packages offered, with what each gives. */
const backendPackages = [
  {
    name: 'webgpu',
    description: 'Dawn: WebGPU on Vulkan, Metal or Direct3D 12 GPUs (any vendor)',
  },
  {
    name: '@tensorflow/tfjs-node-gpu',
    description:
      'CUDA on NVIDIA GPUs, Linux x64 only; its install downloads libtensorflow (needs CUDA 11.2 and cuDNN 8.1)',
  },
  {
    name: '@tensorflow/tfjs-node',
    description: 'native TensorFlow on the CPU; its install downloads libtensorflow',
  },
] as const;

interface InstallChoice {
  /** What npm installs: package@version, or tarball paths. */
  specs: string[];
  label: string;
}

async function chooseWhatToInstall(builtAgainst: Record<string, unknown>): Promise<InstallChoice | undefined> {
  const fromTarballs = 'From package tarballs (.tgz)…';
  const items: (vscode.QuickPickItem & { spec?: string })[] = backendPackages.map((p) => {
    const version = pinnedVersion(builtAgainst[p.name]);
    const spec = version ? `${p.name}@${version}` : p.name;
    return { label: p.name, description: version, detail: p.description, spec };
  });
  items.push({
    label: fromTarballs,
    detail: 'For a machine without internet: a backend package and its dependencies, each packed with npm pack',
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'L3M: Install GPU Backend',
    placeHolder: 'The backend package to install for the training sidecar',
    matchOnDetail: true,
  });
  if (!picked) return undefined;
  if (picked.spec) return { specs: [picked.spec], label: picked.spec };
  const files = await vscode.window.showOpenDialog({
    title: 'L3M: package tarballs to install (the backend package and its dependencies)',
    canSelectMany: true,
    canSelectFiles: true,
    canSelectFolders: false,
    openLabel: 'Install',
    filters: { 'npm package tarballs': ['tgz'] },
  });
  if (!files || files.length === 0) return undefined;
  const paths = files.map((file) => file.fsPath);
  return { specs: paths, label: paths.map((p) => p.split(/[/\\]/).pop()).join(', ') };
}

/** The command. Refused in an untrusted workspace, like Train: npm runs the packages' install scripts. */
export async function installGpuBackend(ctx: BackendInstallContext): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(
      "L3M does not install a GPU backend in an untrusted workspace: npm runs the package's install scripts. Trust this workspace to install one.",
    );
    return;
  }
  const choice = await chooseWhatToInstall(ctx.builtAgainst);
  if (!choice) return;
  const folder = ctx.installFolder;
  const nodePath = vscode.workspace.getConfiguration('l3m').get<string>('nodePath');
  const npm = findNpm(nodePath, hostRuntime);
  if (!npm) {
    void vscode.window.showErrorMessage(npmMissingMessage(nodePath, folder));
    return;
  }
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    void vscode.window.showErrorMessage(`L3M could not create the backends folder ${folder}: ${errorMessage(error)}.`);
    return;
  }
  const { output } = ctx;
  output.show(true);
  output.appendLine(`[install] npm install --prefix ${folder} ${choice.specs.join(' ')} (npm ${npm.foundBy})`);
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `L3M: installing ${choice.label}`, cancellable: true },
    (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return runNpmInstall(npm, folder, choice.specs, {
        signal: abort.signal,
        output: (text) => {
          output.append(text);
          const last = text.trim().split('\n').pop()?.trim();
          if (last) progress.report({ message: last.slice(0, 120) });
        },
      });
    },
  );
  if (outcome.kind === 'cancelled') {
    output.appendLine('[install] cancelled');
    void vscode.window.showWarningMessage(
      `L3M: installing ${choice.label} was cancelled; ${folder} may hold part of it, which "l3m probe" reports as failing to load. Install again to complete it.`,
    );
    return;
  }
  if (outcome.kind === 'failed') {
    output.appendLine(`[install] failed: ${outcome.message}`);
    const pick = await vscode.window.showErrorMessage(`L3M: ${outcome.message}`, 'Show Output');
    if (pick) output.show(true);
    return;
  }
  output.appendLine(`[install] installed ${choice.label} into ${folder}`);
  await showWhatTheSidecarFinds(ctx, choice.label);
}

/** Restarts an idle sidecar so that it loads the new package, and shows what a fresh probe finds in the folder. */
async function showWhatTheSidecarFinds(ctx: BackendInstallContext, label: string): Promise<void> {
  const { client, output } = ctx;
  let restart = '';
  if (client.isRunning && client.activeRuns.length === 0) {
    // The sidecar probes once per process; a fresh one starts with the next request.
    await client.stop();
    restart = ' The sidecar restarts with it at the next run.';
  } else if (client.isRunning) {
    restart =
      ' The sidecar is training; it uses the new backend from its next start (reload the window once its runs end).';
  }
  let summary: string;
  try {
    // A one-shot probe: its own process with the sidecar's environment, whatever the sidecar is doing.
    const { stdout } = await runSidecarCli(settings.sidecarCommand(ctx.sidecarScript), ['probe', '--json'], {
      timeoutMs: 120_000,
    });
    const backends = parseProbeOutput(stdout);
    if (backends instanceof Error) throw backends;
    output.appendLine(`[install] l3m probe: ${JSON.stringify(backends, null, 2)}`);
    summary = `Probe: ${describeInstalled(backendsIn(backends, ctx.installFolder), ctx.installFolder)}.`;
  } catch (error) {
    summary = `The probe after the install failed: ${errorMessage(error)}`;
  }
  const pick = await vscode.window.showInformationMessage(
    `L3M: installed ${label}. ${summary}${restart}`,
    'Show Output',
  );
  if (pick) output.show(true);
}
