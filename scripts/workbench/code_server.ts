// Runs code-server from the workbench install: installs a .vsix into a private extensions folder and
// starts the server on a loopback port. Both `npm start` and the e2e harness use this module, so
// what a developer sees is what the tests drive.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workbench } from './install';
import { killProcessTree } from './process_tree';

/**
 * An environment whose HOME, XDG folders and TMPDIR all lie under `root`, so that code-server, its
 * extension host and the shells it opens never read or write the user's own configuration, and a
 * test leaves nothing behind outside its temporary folder.
 */
export function isolatedEnv(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dirs = {
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'xdg', 'config'),
    XDG_DATA_HOME: join(root, 'xdg', 'data'),
    XDG_CACHE_HOME: join(root, 'xdg', 'cache'),
    XDG_STATE_HOME: join(root, 'xdg', 'state'),
    XDG_RUNTIME_DIR: join(root, 'xdg', 'runtime'),
    TMPDIR: join(root, 'tmp'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...process.env, ...dirs, ...extra };
  // Variables of an enclosing VS Code or code-server would make the child believe it runs inside it;
  // those of an enclosing `npm run` or `node --test` would reach every process the workbench starts
  // (terminals, the sidecar) and change how npm and node behave there.
  for (const key of Object.keys(env)) {
    if (
      /^(VSCODE_|CODE_SERVER_|npm_)/i.test(key) ||
      ['ELECTRON_RUN_AS_NODE', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS'].includes(key)
    )
      delete env[key];
  }
  return env;
}

/** A fresh temporary folder for one workbench session. */
export function makeSessionRoot(prefix = 'l3m-workbench-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CodeServerFolders {
  /** --user-data-dir: settings, state and logs of the workbench. */
  userDataDir: string;
  /** --extensions-dir: where the .vsix is installed. */
  extensionsDir: string;
}

function runToEnd(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else
        reject(
          new Error(`"${args.slice(1, 3).join(' ')}" of code-server exited with ${code}:\n${output.slice(-4000)}`),
        );
    });
  });
}

/** Installs `vsixPath` into the given extensions folder (replacing an older copy) and returns code-server's output. */
export async function installExtension(
  workbench: Workbench,
  vsixPath: string,
  folders: CodeServerFolders,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  mkdirSync(folders.extensionsDir, { recursive: true });
  mkdirSync(folders.userDataDir, { recursive: true });
  const output = await runToEnd(
    workbench.node,
    [
      workbench.codeServerEntry,
      '--extensions-dir',
      folders.extensionsDir,
      '--user-data-dir',
      folders.userDataDir,
      '--install-extension',
      vsixPath,
      '--force',
    ],
    env,
  );
  if (!/successfully installed|already installed/i.test(output)) {
    throw new Error(`code-server did not confirm the installation of ${vsixPath}. Its output:\n${output}`);
  }
  return output;
}

export interface StartOptions extends CodeServerFolders {
  /** The folder to open as the workspace. */
  workspace: string;
  env: NodeJS.ProcessEnv;
  /** 0 (the default) lets the system choose a free port, which code-server then reports. */
  port?: number;
  /**
   * false (the default) starts code-server with --disable-workspace-trust, so the workspace is trusted
   * and no dialog blocks the workbench; true keeps VS Code's Workspace Trust on, for tests of the
   * behaviour in an untrusted workspace.
   */
  workspaceTrust?: boolean;
  /** Receives every line that code-server prints. */
  log?: (line: string) => void;
  /** How long to wait for the server to listen. */
  startTimeoutMs?: number;
}

export interface RunningCodeServer {
  /** The workbench address with the workspace folder, ready for a browser. */
  url: string;
  /** The server's base address, e.g. http://127.0.0.1:40123/ */
  baseUrl: string;
  port: number;
  process: ChildProcess;
  /** Everything code-server printed so far (for failure reports). */
  output(): string;
  /** Ends code-server and all its descendants. */
  stop(): Promise<void>;
}

/** Starts code-server on 127.0.0.1 (a secure context, which webviews need) with no authentication. */
export function startCodeServer(workbench: Workbench, options: StartOptions): Promise<RunningCodeServer> {
  const args = [
    workbench.codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${options.port ?? 0}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir',
    options.userDataDir,
    '--extensions-dir',
    options.extensionsDir,
    ...(options.workspaceTrust === true ? [] : ['--disable-workspace-trust']),
    options.workspace,
  ];
  // A process group of its own, so that a Ctrl-C in the terminal reaches only our own handler, which
  // then ends the whole tree by PID.
  const child = spawn(workbench.node, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  let pending = '';
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      await killProcessTree(child.pid);
  };
  return new Promise((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      void stop();
      reject(
        new Error(
          `code-server did not report a listening address within ${timeoutMs / 1000} s. Its output:\n${output.slice(-4000)}`,
        ),
      );
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        options.log?.(line);
        const listening = /HTTP server listening on (http:\/\/127\.0\.0\.1:(\d+)\/?)/.exec(line);
        if (listening !== null) {
          clearTimeout(timer);
          const port = Number(listening[2]);
          const baseUrl = `http://127.0.0.1:${port}/`;
          resolve({
            url: `${baseUrl}?folder=${encodeURIComponent(options.workspace)}`,
            baseUrl,
            port,
            process: child,
            output: () => output,
            stop,
          });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `code-server exited (code ${code}, signal ${signal}) before it listened. Its output:\n${output.slice(-4000)}`,
        ),
      );
    });
  });
}
