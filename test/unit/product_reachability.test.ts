// Every module in a product folder is reached by importing from a product entry point. A module that
// only tests or benchmarks import is either a second way of doing what the product does (its tests
// then prove nothing about the product) or a test helper in the wrong place, shipped and read as
// product code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { importGraph, sourceFiles } from './import_graph';

const root = join(import.meta.dirname, '..', '..');
const productFolders = ['extension', 'sidecar', 'schemas', 'webview'];
const files = sourceFiles(root, [...productFolders, 'test', 'bench']);

/** What esbuild bundles (esbuild.mjs) and the worker threads loaded by path rather than imported. */
const entryPoints = [
  'extension/extension.ts',
  'extension/server/server.ts',
  'sidecar/cli/main.ts',
  'sidecar/data/dataset_worker.ts',
  'sidecar/data/store/store_worker.ts',
  'sidecar/jobs/training_worker.ts',
  // Bundled on its own and carried into the inspector page as text (esbuild.mjs), so not imported.
  'webview/inspector/spectrum_worker.ts',
  ...files.filter((file) => /^webview\/[^/]+\/main\.ts$/.test(file)),
];

/** Product code no entry point reaches yet, each with the reason it stays in a product folder. */
const notYetReached: Array<{ prefix: string; reason: string }> = [];

test('every product module is reached from a product entry point', () => {
  const edges = importGraph(root, files);
  const importsOf = new Map<string, string[]>();
  for (const edge of edges) {
    if (edge.target.kind === 'file') importsOf.set(edge.from, [...(importsOf.get(edge.from) ?? []), edge.target.path]);
  }
  const reached = new Set<string>();
  const stack = [...entryPoints];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (reached.has(file)) continue;
    reached.add(file);
    stack.push(...(importsOf.get(file) ?? []));
  }
  for (const entry of entryPoints)
    assert.ok(files.includes(entry), `entry point ${entry} does not exist; update entryPoints in this test`);
  const unreached = files.filter(
    (file) =>
      productFolders.some((folder) => file.startsWith(`${folder}/`)) &&
      !file.endsWith('.d.ts') &&
      !reached.has(file) &&
      !notYetReached.some((entry) => file.startsWith(entry.prefix)),
  );
  const users = (file: string) => [
    ...new Set(edges.filter((e) => e.target.kind === 'file' && e.target.path === file).map((e) => e.from)),
  ];
  assert.deepEqual(
    unreached,
    [],
    `Product modules that no entry point reaches:\n${unreached.map((f) => `  ${f} ← ${users(f).join(', ') || 'nothing'}`).join('\n')}\n` +
      'Fix: make the product use the module, point its tests at the product code that does the same and delete it, ' +
      'or move it under test/ or bench/ if it only builds fixtures or baselines.',
  );
  for (const entry of notYetReached) {
    assert.ok(
      files.some((file) => file.startsWith(entry.prefix) && !reached.has(file)),
      `${entry.prefix} is now reached from an entry point (or gone); delete its entry in notYetReached`,
    );
  }
});
