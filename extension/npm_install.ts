// Installing an optional backend package with npm into a folder the sidecar searches (L3M_BACKENDS_DIR):
// which npm to run, the command line, its output streamed as it comes, cancellation, and a message for
// each way an install fails (no npm, no network, no such version, the package's own install script).
// This module does not import `vscode` (backend_install.ts is the command), so tests run it in plain Node.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { HostRuntime } from './sidecar_cli';

/** How to run npm: an executable and the arguments that come before npm's own. */
export interface NpmCommand {
  command: string;
  args: string[];
  /** Where it was found, for the output channel. */
  foundBy: string;
  /** Added to the environment (ELECTRON_RUN_AS_NODE when the editor's Electron runs npm's script). */
  env?: Record<string, string>;
}

/** npm's CLI script beside a Node executable, in the layouts of the Node distributions (Unix, Windows). */
function npmCliBeside(nodePath: string, exists: (path: string) => boolean): string | undefined {
  const dir = dirname(nodePath);
  return [
    join(dir, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ].find(exists);
}

/**
 * The npm to run: the one beside `l3m.nodePath` (run by that Node), else the one beside the editor's own
 * Node (code-server; desktop VS Code runs Electron, which has none), else `npm` on PATH. Undefined when
 * there is none; npmMissingMessage says what to do.
 */
export function findNpm(
  nodePath: string | undefined,
  host: HostRuntime,
  pathVariable: string = process.env.PATH ?? '',
  exists: (path: string) => boolean = existsSync,
): NpmCommand | undefined {
  const configured = nodePath?.trim();
  if (configured) {
    const cli = npmCliBeside(configured, exists);
    if (cli) return { command: configured, args: [cli], foundBy: `beside l3m.nodePath (${configured})` };
  }
  if (host.electron === undefined) {
    const cli = npmCliBeside(host.execPath, exists);
    if (cli) return { command: host.execPath, args: [cli], foundBy: `beside the editor's Node (${host.execPath})` };
  }
  const names = process.platform === 'win32' ? ['npm.cmd', 'npm.exe'] : ['npm'];
  for (const dir of pathVariable.split(delimiter).filter((d) => d !== '')) {
    for (const name of names) {
      const candidate = join(dir, name);
      if (!exists(candidate)) continue;
      // npm.cmd is a batch file, which Node spawns only through a shell: run its script with the Node beside it.
      if (name === 'npm.cmd') {
        const node = join(dir, 'node.exe');
        const cli = npmCliBeside(node, exists);
        if (cli && exists(node)) return { command: node, args: [cli], foundBy: `on PATH (${candidate})` };
        continue;
      }
      return { command: candidate, args: [], foundBy: `on PATH (${candidate})` };
    }
  }
  return undefined;
}

/** What to do when no npm is found. */
export function npmMissingMessage(nodePath: string | undefined, folder: string): string {
  const where = nodePath?.trim() ? `beside l3m.nodePath (${nodePath.trim()}) nor on PATH` : 'on PATH';
  return (
    `L3M could not find npm ${where}, which installs GPU backends. Install Node.js 20 or newer with npm ` +
    `(https://nodejs.org, or your system's nodejs and npm packages) and set l3m.nodePath to its node, ` +
    `or install the package on another machine (npm install --prefix <folder> <package>) and set ` +
    `l3m.backendsPath to that folder. The backends folder is ${folder}.`
  );
}

/** The exact version in a dependency range like "^0.6.2": the version the extension was built against. */
export function pinnedVersion(range: unknown): string | undefined {
  if (typeof range !== 'string') return undefined;
  const exact = /^[\^~=]?\s*(\d+\.\d+\.\d+(?:-[\w.]+)?)$/.exec(range.trim());
  return exact ? exact[1] : range.trim() || undefined;
}

/** The npm command line that installs `specs` (package@version, or tarball paths) into the prefix `folder`. */
export function npmInstallArgs(folder: string, specs: readonly string[]): string[] {
  // --foreground-scripts: an install script's output (tfjs-node's libtensorflow download) reaches the
  // output channel as it runs, instead of only when it fails. The folder's package.json keeps every
  // package installed so far, so a second install does not remove the first.
  return [
    'install',
    '--prefix',
    folder,
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--foreground-scripts',
    ...specs,
  ];
}

export interface NpmRunOptions {
  /** Receives npm's stdout and stderr as they come. */
  output(text: string): void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export type NpmOutcome =
  | { kind: 'installed'; output: string }
  | { kind: 'failed'; message: string; output: string }
  | { kind: 'cancelled'; output: string };

/** Runs `npm install` to the end. Never throws: a failure comes back with the message describeNpmFailure gives. */
export function runNpmInstall(
  npm: NpmCommand,
  folder: string,
  specs: readonly string[],
  options: NpmRunOptions,
): Promise<NpmOutcome> {
  return new Promise((resolveRun) => {
    let output = '';
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      output += text;
      options.output(text);
    };
    // Its own process group on Unix, so that cancelling also stops the install scripts npm started.
    const group = process.platform !== 'win32';
    const child = spawn(npm.command, [...npm.args, ...npmInstallArgs(folder, specs)], {
      env: { ...(options.env ?? process.env), ...npm.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group,
      windowsHide: true,
    });
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const stop = (): void => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        if (group) process.kill(-child.pid, 'SIGTERM');
        else child.kill('SIGTERM');
      } catch {
        // Already gone.
      }
    };
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', stop);
      resolveRun({
        kind: 'failed',
        message: `L3M could not start npm (${npm.command}): ${error.message}. ${npmMissingMessage(undefined, folder)}`,
        output,
      });
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', stop);
      if (options.signal?.aborted) resolveRun({ kind: 'cancelled', output });
      else if (code === 0) resolveRun({ kind: 'installed', output });
      else resolveRun({ kind: 'failed', message: describeNpmFailure(specs, code, signal, output), output });
    });
  });
}

/** npm's error lines ("npm error …", or "npm ERR! …" before npm 10), without the prefix. */
function npmErrorLines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => /^npm (?:error|ERR!)\s?(.*)$/.exec(line.trim())?.[1]?.trim())
    .filter(
      (line): line is string =>
        line !== undefined &&
        line !== '' &&
        !/^at |complete log of this run/i.test(line) &&
        !/^[\w]+: .*,$|^[{}]$/.test(line),
    );
}

const networkCodes =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|ENOTCACHED|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\b/;

/** One message for a failed `npm install`: what failed, npm's own words, and what would fix it. */
export function describeNpmFailure(
  specs: readonly string[],
  code: number | null,
  signal: NodeJS.Signals | null,
  output: string,
): string {
  const what = specs.join(' ');
  const errors = npmErrorLines(output);
  // npm's first error lines say what failed ("code E404", "404 Not Found - GET …"); the rest is detail.
  const said = errors.slice(0, 3).join('; ') || output.trim().split('\n').slice(-3).join(' ') || 'no output';
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const tarballs = 'or install from package tarballs (npm pack <package> on a machine with internet)';
  const elsewhere =
    'or install it on another machine (npm install --prefix <folder> <package>) and set l3m.backendsPath';
  const network = networkCodes.exec(output);
  if (network) {
    const request = errors.find((line) => /request to .* failed/.test(line))?.replace(/^FetchError:\s*/, '');
    return `npm could not reach the package registry to install ${what} (${request ?? `${network[1]}: ${said}`}). Check the network connection and npm's proxy settings (npm config get proxy), ${tarballs}, ${elsewhere}.`;
  }
  if (/\b(ETARGET|E404)\b/.test(output))
    return `npm found no such package or version for ${what} (${said}). Check the version, ${elsewhere}.`;
  if (/\bEACCES\b|\bEPERM\b/.test(output))
    return `npm was not allowed to write the backends folder while installing ${what} (${said}). Check its permissions, or set l3m.backendsPath to a folder you own.`;
  const scriptPath = errors.find((line) => line.startsWith('path '))?.slice('path '.length);
  const scriptCommand = errors.find((line) => line.startsWith('command ') && !line.startsWith('command failed'));
  if (errors.includes('command failed') && scriptPath) {
    const pkg = /node_modules[/\\](@[^/\\]+[/\\][^/\\]+|[^/\\]+)$/.exec(scriptPath)?.[1] ?? scriptPath;
    const native = /tfjs-node/.test(pkg)
      ? ' tfjs-node downloads libtensorflow (and, for tfjs-node-gpu, needs Linux x64 with CUDA 11.2 and cuDNN 8.1) during its install; on a machine without internet, install it elsewhere and set l3m.backendsPath.'
      : '';
    const scriptOutput = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !/^npm (error|ERR!|warn|WARN|notice)/.test(line))
      .slice(-3)
      .join(' ');
    return `The install script of ${pkg} failed (${scriptCommand ?? 'its install script'}, ${how}): ${scriptOutput || said}.${native} The whole output is in the "L3M Sidecar" output channel.`;
  }
  return `npm install ${what} ${how}: ${said}. The whole output is in the "L3M Sidecar" output channel.`;
}
