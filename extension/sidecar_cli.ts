// The one way the extension starts the sidecar's `l3m` CLI (dist/sidecar.js): the long-lived `serve`
// process of sidecar_client.ts, and the one-shot commands (`runs --mark-failed` after a crash, `data`
// for the inspector's preview). All of them run with the same Node and environment:
//   - `l3m.nodePath` when set;
//   - else the extension host's own executable. In desktop VS Code that is the Electron binary, which
//     acts as plain Node only with ELECTRON_RUN_AS_NODE=1 (without it, it opens another editor
//     window); code-server runs real Node and needs nothing;
//   - `l3m.backend` as L3M_BACKEND, which overrides the config's runtime.backend;
//   - the backends folders (`l3m.backendsPath`, then the one "L3M: Install GPU Backend" installs into)
//     as L3M_BACKENDS_DIR, where the sidecar looks for its optional GPU packages first.
// This module does not import `vscode` (settings.ts reads the settings), so tests run it in plain Node.
import { execFile, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { delimiter } from 'node:path';

/** How to run the sidecar CLI: the Node executable, the script, and the environment added to the host's. */
export interface SidecarCommand {
  /** The Node executable (l3m.nodePath, or the extension host's own). */
  nodePath: string;
  /** Absolute path of dist/sidecar.js. */
  sidecarScript: string;
  /** Added to the extension host's environment (ELECTRON_RUN_AS_NODE, L3M_BACKEND). */
  env?: Record<string, string>;
}

/** The process the extension runs in: its executable, and Electron's version when it is Electron. */
export interface HostRuntime {
  execPath: string;
  electron?: string;
}

export const hostRuntime: HostRuntime = { execPath: process.execPath, electron: process.versions.electron };

/**
 * The command for the settings `l3m.nodePath` and `l3m.backend` (either unset or blank) and the
 * backends folders, in search order, running `sidecarScript`, from an extension host that is `runtime`.
 */
export function sidecarCommand(
  settings: { nodePath?: string; backend?: string; backendsDirs?: readonly string[] },
  sidecarScript: string,
  runtime: HostRuntime = hostRuntime,
): SidecarCommand {
  const env: Record<string, string> = {};
  const backend = settings.backend?.trim();
  if (backend && backend !== 'config') env.L3M_BACKEND = backend;
  const backendsDirs = (settings.backendsDirs ?? []).map((dir) => dir.trim()).filter((dir) => dir !== '');
  if (backendsDirs.length > 0) env.L3M_BACKENDS_DIR = backendsDirs.join(delimiter);
  const configured = settings.nodePath?.trim();
  if (configured) return { nodePath: configured, sidecarScript, env };
  if (runtime.electron !== undefined) env.ELECTRON_RUN_AS_NODE = '1';
  return { nodePath: runtime.execPath, sidecarScript, env };
}

/** The command line as a person would type it, for logs. */
export function describeCommand(command: SidecarCommand, args: readonly string[]): string {
  const vars = Object.entries(command.env ?? {})
    .map(([name, value]) => `${name}=${value} `)
    .join('');
  return `${vars}${command.nodePath} ${command.sidecarScript} ${args.join(' ')}`;
}

const startAdvice = 'Set the l3m.nodePath setting to a Node 20 (or newer) executable.';

/** Why the sidecar could not be started with `nodePath`, with the fix. */
export function startFailure(nodePath: string, error: Error): string {
  return `Could not start the L3M sidecar with "${nodePath}": ${error.message}. ${startAdvice}`;
}

/** Starts a long-lived sidecar process (`serve`); the caller owns its stdio and its exit. */
export function spawnSidecar(
  command: SidecarCommand,
  args: readonly string[],
  stdio: StdioOptions = ['pipe', 'pipe', 'pipe'],
): ChildProcess {
  return spawn(command.nodePath, [command.sidecarScript, ...args], {
    stdio,
    env: { ...process.env, ...command.env },
    windowsHide: true,
  });
}

export interface CliRunOptions {
  /** The command is stopped (SIGTERM) after this long and reported as timed out. */
  timeoutMs: number;
  /** Aborting stops the command (SIGTERM) and reports it as cancelled. */
  signal?: AbortSignal;
  cwd?: string;
}

export interface CliOutput {
  stdout: string;
  stderr: string;
}

/** A one-shot command that did not succeed; `message` says how, with the end of its stderr. */
export class SidecarCliError extends Error {
  constructor(
    message: string,
    /** Why it ended: a non-zero exit, the timeout, a cancellation, or no process at all. */
    readonly reason: 'exit' | 'timeout' | 'cancelled' | 'start',
    /** Its stderr as captured (empty when it never started). */
    readonly stderr: string,
    /** The exit code, when it exited by itself. */
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'SidecarCliError';
  }
}

/** The last `count` non-blank lines of `text`, joined by spaces: the part of stderr that says what failed. */
export function lastLines(text: string, count = 3): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join(' ');
}

const duration = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

interface ExecFailure extends Error {
  code?: number | string | null;
  signal?: NodeJS.Signals | null;
  killed?: boolean;
}

/**
 * Runs `l3m <args>` to the end and resolves with its output; a failure rejects with a SidecarCliError
 * that names the command, how it ended and the end of its stderr.
 */
export function runSidecarCli(
  command: SidecarCommand,
  args: readonly string[],
  options: CliRunOptions,
): Promise<CliOutput> {
  const name = `l3m ${args[0] ?? ''}`.trim();
  return new Promise((resolve, reject) => {
    execFile(
      command.nodePath,
      [command.sidecarScript, ...args],
      {
        env: { ...process.env, ...command.env },
        cwd: options.cwd,
        timeout: options.timeoutMs,
        signal: options.signal,
        maxBuffer: 1 << 24,
        windowsHide: true,
      },
      (error: ExecFailure | null, stdout: string, stderr: string) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const tail = lastLines(stderr);
        const said = tail ? `: ${tail}` : '';
        if (error.name === 'AbortError' || options.signal?.aborted) {
          reject(new SidecarCliError(`${name} was cancelled before it finished${said}`, 'cancelled', stderr, null));
        } else if (typeof error.code === 'string') {
          reject(new SidecarCliError(startFailure(command.nodePath, error), 'start', stderr, null));
        } else if (error.killed && error.signal) {
          reject(
            new SidecarCliError(
              `${name} did not finish within ${duration(options.timeoutMs)} and was stopped${said}`,
              'timeout',
              stderr,
              null,
            ),
          );
        } else {
          const how = error.signal ? `was killed by ${error.signal}` : `exited with code ${error.code}`;
          reject(
            new SidecarCliError(
              `${name} ${how}${said || ` (${error.message.trim()})`}`,
              'exit',
              stderr,
              typeof error.code === 'number' ? error.code : null,
            ),
          );
        }
      },
    );
  });
}

/**
 * Marks a run failed in its run.json through `l3m runs --mark-failed`, which applies the run store's
 * checked transition and atomic write (the extension may not import the run store).
 */
export async function markRunFailed(
  command: SidecarCommand,
  runDir: string,
  reason: string,
  exitCode?: number,
): Promise<void> {
  const args = ['runs', '--mark-failed', runDir, '--reason', reason];
  if (exitCode !== undefined) args.push('--exit-code', String(exitCode));
  await runSidecarCli(command, args, { timeoutMs: 60_000 });
}
