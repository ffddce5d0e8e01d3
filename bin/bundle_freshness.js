// Whether `l3m` must rebuild its bundle first: when dist/sidecar.js is missing, or when a file it is
// built from (sidecar/, schemas/, the build script) changed after it, since running a stale bundle
// after an edit silently runs old code. An mtime scan of a few hundred files takes milliseconds.
'use strict';
const { readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

/** What the bundle is built from, relative to the package root. */
const bundleSources = ['sidecar', 'schemas', 'esbuild.mjs'];

function mtimeOf(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? { mtimeMs: stat.mtimeMs, isDirectory: stat.isDirectory() } : undefined;
}

/** The first file under `path` modified after `sinceMs`, or undefined. */
function newerFile(path, sinceMs) {
  const stat = mtimeOf(path);
  if (!stat) return undefined;
  if (!stat.isDirectory) return stat.mtimeMs > sinceMs ? path : undefined;
  for (const name of readdirSync(path)) {
    const found = newerFile(join(path, name), sinceMs);
    if (found) return found;
  }
  return undefined;
}

/**
 * Why `bundle` must be rebuilt from the sources under `root` ("… is missing", "… is newer than …"), or
 * undefined when it is current. An installed package without the sources never rebuilds.
 */
function rebuildReason(root, bundle) {
  const built = mtimeOf(bundle);
  if (!built) return `${relative(root, bundle)} is missing`;
  for (const source of bundleSources) {
    const changed = newerFile(join(root, source), built.mtimeMs);
    if (changed) return `${relative(root, changed)} is newer than ${relative(root, bundle)}`;
  }
  return undefined;
}

module.exports = { bundleSources, rebuildReason };
