// The resolver of optional backend packages: the folders of L3M_BACKENDS_DIR first, in their order, then
// the node_modules beside the sidecar; each place reported as absent, found, loaded, or failed with the
// loader's error. Real packages in temporary folders stand in for the native ones, under the name of a
// package the repository really installs (fflate), so the place beside the sidecar holds a copy too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  backendsDirVariable,
  checkOptionalModule,
  describeSearch,
  loadOptionalModule,
  locateOptionalModule,
  modulePlaces,
} from '../../sidecar/runtime/optional_modules';

const pkg = 'fflate';

/** A temporary npm prefix holding node_modules/fflate with `source` as its entry; removed after the test. */
function backendsFolder(t: { after(fn: () => void): void }, version: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-backends-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const packageDir = join(dir, 'node_modules', pkg);
  mkdirSync(packageDir, { recursive: true });
  writeFileSync(join(packageDir, 'package.json'), JSON.stringify({ name: pkg, version, main: 'index.js' }));
  writeFileSync(join(packageDir, 'index.js'), source);
  return dir;
}

test('without L3M_BACKENDS_DIR only the place beside the sidecar is searched', () => {
  const places = modulePlaces({});
  assert.deepEqual(
    places.map((p) => p.place),
    ['sidecar'],
  );
  const search = locateOptionalModule(pkg, places);
  assert.equal(search.found?.place, 'sidecar');
  assert.match(search.found?.packageDir ?? '', /node_modules[/\\]fflate$/);
  assert.deepEqual(
    search.searched.map((s) => s.outcome),
    ['found'],
  );
});

test('a package in the backends folder is loaded from there, before the copy beside the sidecar', async (t) => {
  const dir = backendsFolder(t, '0.0.1-backends', "exports.from = 'backends folder';");
  const search = await loadOptionalModule(pkg, modulePlaces({ [backendsDirVariable]: dir }));
  assert.equal(search.found?.place, 'backends-dir');
  assert.equal(search.found?.packageDir, join(dir, 'node_modules', pkg));
  assert.equal(search.found?.version, '0.0.1-backends');
  assert.equal((search.module as { from?: string }).from, 'backends folder');
  assert.deepEqual(
    search.searched.map((s) => [s.place, s.outcome]),
    [
      ['backends-dir', 'loaded'],
      ['sidecar', 'found'],
    ],
  );
});

test('the folders of L3M_BACKENDS_DIR are searched in their order; an absent one is named', async (t) => {
  const missing = join(tmpdir(), 'l3m-no-such-backends-folder');
  const empty = mkdtempSync(join(tmpdir(), 'l3m-backends-empty-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const second = backendsFolder(t, '0.0.2-second', "exports.from = 'second';");
  const places = modulePlaces({ [backendsDirVariable]: [missing, empty, second].join(delimiter) });
  const search = await loadOptionalModule(pkg, places);
  assert.equal((search.module as { from?: string }).from, 'second');
  assert.deepEqual(
    search.searched.map((s) => s.outcome),
    ['absent', 'absent', 'loaded', 'found'],
  );
  assert.match(search.searched[0].detail, /the folder .*l3m-no-such-backends-folder does not exist/);
  assert.equal(search.searched[1].detail, `${join(empty, 'node_modules', pkg)} does not exist`);
});

test('a node_modules folder itself may be given', async (t) => {
  const dir = backendsFolder(t, '0.0.3-direct', "exports.from = 'node_modules given';");
  const search = await loadOptionalModule(pkg, modulePlaces({ [backendsDirVariable]: join(dir, 'node_modules') }));
  assert.equal((search.module as { from?: string }).from, 'node_modules given');
});

test('a copy that fails to load is reported with its error, and the next place is used', async (t) => {
  const dir = backendsFolder(
    t,
    '0.0.4-broken',
    "throw new Error('libtensorflow.so.2: cannot open shared object file');",
  );
  const search = await loadOptionalModule(pkg, modulePlaces({ [backendsDirVariable]: dir }));
  assert.equal(search.searched[0].outcome, 'failed');
  assert.match(
    search.searched[0].detail,
    /^0\.0\.4-broken failed to load: libtensorflow\.so\.2: cannot open shared object file$/,
  );
  assert.equal(search.found?.place, 'sidecar');
  assert.equal(search.searched[1].outcome, 'loaded');
  assert.equal(typeof (search.module as { gzipSync?: unknown }).gzipSync, 'function', 'the real fflate');
});

test('a load checked in a child process reports the error too, and loads nothing here', async (t) => {
  const broken = backendsFolder(
    t,
    '0.0.5-broken',
    "throw new Error('dawn.node: undefined symbol vkGetInstanceProcAddr');",
  );
  const working = backendsFolder(t, '0.0.6-fine', 'globalThis.l3mLoadedHere = true; exports.ok = true;');
  const search = await checkOptionalModule(
    pkg,
    modulePlaces({ [backendsDirVariable]: [broken, working].join(delimiter) }),
  );
  assert.deepEqual(
    search.searched.map((s) => s.outcome),
    ['failed', 'loaded', 'found'],
  );
  assert.match(search.searched[0].detail, /failed to load: Error: dawn\.node: undefined symbol vkGetInstanceProcAddr/);
  assert.equal(search.found?.version, '0.0.6-fine');
  assert.equal(search.module, undefined);
  assert.equal(Reflect.get(globalThis, 'l3mLoadedHere'), undefined, 'the package ran in the child only');
});

test('a package found nowhere is described with every place and the way to install it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-backends-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const search = locateOptionalModule('l3m-no-such-package', modulePlaces({ [backendsDirVariable]: dir }));
  assert.equal(search.found, undefined);
  const text = describeSearch(search);
  assert.match(
    text,
    /^l3m-no-such-package is not installed \(the backends folder \(L3M_BACKENDS_DIR\): .+ does not exist; beside the sidecar: not in .+node_modules nor in the node_modules folders above it\)/,
  );
  assert.match(text, /"L3M: Install GPU Backend"/);
  assert.match(text, /npm install --prefix <folder> l3m-no-such-package and L3M_BACKENDS_DIR=<folder>/);
});
