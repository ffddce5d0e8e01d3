// Builds the extension and packages it as a .vsix with @vscode/vsce 3 (which runs on Node 20; vsce 4
// wants Node 22). The esbuild bundles carry their npm dependencies, so the package is made with
// --no-dependencies and .vscodeignore keeps sources, tests and node_modules out of it.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './install';

const vsceCli = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');

/** The bundle of each entry point that esbuild.mjs builds when its source exists. */
const bundleOfEntry: Record<string, string> = {
  'extension/extension.ts': 'dist/extension.js',
  'extension/server/server.ts': 'dist/server.js',
  'sidecar/cli/main.ts': 'dist/sidecar.js',
};

/** Files the packaged extension cannot work without; packaging fails when one is missing. */
export const requiredInVsix = [
  'package.json',
  ...Object.entries(bundleOfEntry)
    .filter(([entry]) => existsSync(join(repoRoot, entry)))
    .map(([, bundle]) => bundle),
  'dist/wasm/tfjs-backend-wasm.wasm',
  'dist/wasm/tfjs-backend-wasm-simd.wasm',
  'dist/wasm/tfjs-backend-wasm-threaded-simd.wasm',
];

function runNode(args: string[], log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`"node ${args.join(' ')}" exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

export interface BuildOptions {
  /** Minified bundles without source maps (what `npm run package` ships). */
  production?: boolean;
  /** Run tsc before bundling (esbuild.mjs's gate). */
  typecheck?: boolean;
  log?: (line: string) => void;
}

export async function buildExtension(options: BuildOptions = {}): Promise<void> {
  const args = ['esbuild.mjs'];
  if (options.production === true) args.push('--production');
  if (options.typecheck === false) args.push('--no-typecheck');
  await runNode(args, options.log ?? (() => {}));
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/**
 * Whether dist/ holds bundles at least as new as every source file. The e2e harness builds only when
 * it must: `npm test` has just built, and rebuilding dist/ while another suite runs dist/sidecar.js
 * would race with it.
 */
export function bundlesAreFresh(): boolean {
  const bundles = Object.entries(bundleOfEntry)
    .filter(([entry]) => existsSync(join(repoRoot, entry)))
    .map(([, bundle]) => join(repoRoot, bundle));
  if (bundles.length === 0 || !bundles.every((p) => existsSync(p))) return false;
  const oldestBundle = Math.min(...bundles.map((p) => statSync(p).mtimeMs));
  const newestSource = Math.max(
    ...['extension', 'sidecar', 'webview', 'schemas', 'package.json', 'esbuild.mjs'].map((p) =>
      newestMtime(join(repoRoot, p)),
    ),
  );
  return newestSource <= oldestBundle;
}

/** The files vsce would put into the package, as paths relative to the repository root. */
export async function listPackageFiles(): Promise<string[]> {
  const output = await runNode([vsceCli, 'ls', '--no-dependencies'], () => {});
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(WARNING|INFO|DONE)\b/.test(line));
}

/** Packages the current dist/ into `outPath` and checks that the runtime files are in it. */
export async function packageVsix(outPath: string, log: (line: string) => void = () => {}): Promise<string> {
  const files = new Set(await listPackageFiles());
  const missing = requiredInVsix.filter((file) => !files.has(file));
  if (missing.length > 0) {
    throw new Error(
      `The .vsix would lack ${missing.join(', ')}. Build first (npm run build), and check that .vscodeignore does not exclude them ` +
        `and that the extension, server and sidecar entry points exist (esbuild.mjs bundles only those that do).`,
    );
  }
  const leaked = [...files].filter((file) =>
    /^(node_modules|test|\.workbench|extension|sidecar)\/|\.(map|vsix)$/.test(file),
  );
  if (leaked.length > 0) {
    throw new Error(
      `The .vsix would include sources, dependencies, source maps or an older package (${leaked.slice(0, 5).join(', ')}); extend .vscodeignore.`,
    );
  }
  // The README links to docs/ relatively; with no repository URL to rewrite them against, vsce refuses
  // to package unless told to leave relative links as they are (they work in a checkout, which is where
  // docs/ lives: the .vsix carries no docs).
  await runNode(
    [
      vsceCli,
      'package',
      '--no-dependencies',
      '--skip-license',
      '--allow-missing-repository',
      '--no-rewrite-relative-links',
      '--out',
      outPath,
    ],
    log,
  );
  return outPath;
}

/** `npm run package`: a production build gated by tsc, packaged as dist/l3m-studio.vsix. */
export async function main(): Promise<number> {
  try {
    const log = (line: string) => console.error(`  ${line}`);
    console.error('Building the extension (production) ...');
    await buildExtension({ production: true, typecheck: true, log });
    const out = join(repoRoot, 'dist', 'l3m-studio.vsix');
    await packageVsix(out, log);
    console.log(
      `${out} (${(statSync(out).size / 1e6).toFixed(1)} MB). Install it in VS Code with "Extensions: Install from VSIX..." or: code --install-extension ${out}`,
    );
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}
