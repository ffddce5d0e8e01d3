// `l3m` (bin/l3m.js) rebuilds dist/sidecar.js when it is missing or older than a source it is built
// from, so that `npx l3m` never runs stale code after an edit. The decision is checked on a real
// folder tree with set modification times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleSources, rebuildReason } from '../../bin/bundle_freshness.js';

const past = new Date('2024-01-01T00:00:00Z');
const built = new Date('2024-06-01T00:00:00Z');
const later = new Date('2024-09-01T00:00:00Z');

/** A package root with sources written at `past` and dist/sidecar.js at `built`. */
function packageRoot(): { root: string; bundle: string } {
  const root = mkdtempSync(join(tmpdir(), 'l3m-bundle-'));
  const files = [
    'sidecar/train/training_loop.ts',
    'sidecar/data/simulator/presets.ts',
    'schemas/l3m-experiment.schema.json',
    'esbuild.mjs',
  ];
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '// source\n');
    utimesSync(join(root, file), past, past);
  }
  const bundle = join(root, 'dist', 'sidecar.js');
  mkdirSync(join(root, 'dist'));
  writeFileSync(bundle, '// bundle\n');
  utimesSync(bundle, built, built);
  return { root, bundle };
}

test('a bundle newer than every source is current', (t) => {
  const { root, bundle } = packageRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(rebuildReason(root, bundle), undefined);
});

test('a source touched after the build makes the bundle stale, naming the source', (t) => {
  const { root, bundle } = packageRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  utimesSync(join(root, 'sidecar/data/simulator/presets.ts'), later, later);
  assert.equal(rebuildReason(root, bundle), 'sidecar/data/simulator/presets.ts is newer than dist/sidecar.js');
});

test('a changed schema or build script also makes it stale', (t) => {
  const { root, bundle } = packageRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  utimesSync(join(root, 'schemas/l3m-experiment.schema.json'), later, later);
  assert.match(rebuildReason(root, bundle) ?? '', /^schemas\/l3m-experiment\.schema\.json is newer/);
  utimesSync(join(root, 'schemas/l3m-experiment.schema.json'), past, past);
  utimesSync(join(root, 'esbuild.mjs'), later, later);
  assert.match(rebuildReason(root, bundle) ?? '', /^esbuild\.mjs is newer/);
});

test('a missing bundle is built', (t) => {
  const { root, bundle } = packageRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  rmSync(bundle);
  assert.equal(rebuildReason(root, bundle), 'dist/sidecar.js is missing');
});

test('an installed package without the sources runs its bundle', (t) => {
  const { root, bundle } = packageRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const source of bundleSources) rmSync(join(root, source), { recursive: true, force: true });
  assert.equal(rebuildReason(root, bundle), undefined);
});
