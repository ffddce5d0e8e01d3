// One build for every process (docs/conventions.md#one-build): the extension host and the language server
// (Node, `vscode` external), the sidecar (Node, native TF.js packages external), and the panels
// (browser). `tsc --noEmit` gates it so that a type error never ships.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const skipTypecheck = process.argv.includes('--no-typecheck');

if (!skipTypecheck && !watch) {
  const tsc = 'node_modules/typescript/bin/tsc';
  execFileSync(process.execPath, [tsc, '-p', '.', '--noEmit'], { stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '-p', 'webview', '--noEmit'], { stdio: 'inherit' });
}

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

// Native or optional packages that must be resolved at run time, never bundled.
const sidecarExternal = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'];

const nodeEntries = [
  { entryPoints: { extension: 'extension/extension.ts' }, external: ['vscode'] },
  { entryPoints: { server: 'extension/server/server.ts' }, external: ['vscode'] },
  { entryPoints: { sidecar: 'sidecar/cli/main.ts' }, external: sidecarExternal },
  // Worker-thread entry of dataset generation; simulated_dataset.ts looks for it next to the bundle.
  { entryPoints: { dataset_worker: 'sidecar/data/dataset_worker.ts' }, external: sidecarExternal },
  // Worker-thread entry of lightcone store prefetching; sidecar/data/store/prefetch_pool.ts looks for it next to the bundle.
  { entryPoints: { store_worker: 'sidecar/data/store/store_worker.ts' }, external: sidecarExternal },
  // Worker-thread entry of data-parallel training; sidecar/jobs/training_workers.ts looks for it next to the bundle.
  { entryPoints: { training_worker: 'sidecar/jobs/training_worker.ts' }, external: sidecarExternal },
].filter((entry) => Object.values(entry.entryPoints).every((p) => existsSync(p)));

const webEntries = ['monitor', 'inspector', 'compare']
  .map((name) => `webview/${name}/main.ts`)
  .filter((p) => existsSync(p));

const contexts = [];
for (const entry of nodeEntries) {
  contexts.push(
    await esbuild.context({
      ...common,
      ...entry,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outdir: 'dist',
      // Prefer ES module builds: vscode-json-languageservice's UMD "main" build requires its own
      // files by relative path at run time, which a bundle cannot satisfy.
      mainFields: ['module', 'main'],
      // ESM-only packages bundled into CommonJS (h5wasm's Node build calls createRequire(import.meta.url))
      // need import.meta.url, which esbuild leaves empty in cjs output: point it at the bundle file.
      banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
      define: { 'import.meta.url': '__importMetaUrl' },
    }),
  );
}
// The inspector's power-spectrum worker, bundled on its own and carried by the page bundles as text:
// a webview may start a worker only from a blob: URL (its scripts come from another origin, and it
// may not fetch). Read once per build, so `--watch` picks up a change to the worker on a restart.
const spectrumWorker = 'webview/inspector/spectrum_worker.ts';
const spectrumWorkerSource = existsSync(spectrumWorker)
  ? (
      await esbuild.build({
        ...common,
        sourcemap: false,
        entryPoints: [spectrumWorker],
        platform: 'browser',
        target: 'es2022',
        format: 'iife',
        write: false,
      })
    ).outputFiles[0].text
  : '';
if (webEntries.length > 0) {
  contexts.push(
    await esbuild.context({
      ...common,
      entryPoints: Object.fromEntries(webEntries.map((p) => [p.split('/')[1], p])),
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      outdir: 'dist/webview',
      loader: { '.css': 'css' },
      define: { L3M_SPECTRUM_WORKER_SOURCE: JSON.stringify(spectrumWorkerSource) },
    }),
  );
}

// WebAssembly payloads that the bundles load from disk at run time.
mkdirSync('dist/wasm', { recursive: true });
for (const file of [
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
]) {
  if (existsSync(file)) cpSync(file, `dist/wasm/${file.split('/').pop()}`);
}

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
