#!/usr/bin/env node
// The `l3m` command: runs the bundled sidecar CLI, building it first on a fresh checkout or after
// an edit to its sources.
'use strict';
const { existsSync, utimesSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');
const { rebuildReason } = require('./bundle_freshness');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'sidecar.js');
const reason = rebuildReason(root, bundle);
if (reason) {
  console.error(`l3m: ${reason}; rebuilding the sidecar bundle.`);
  const build = spawnSync(process.execPath, [join(root, 'esbuild.mjs'), '--no-typecheck'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0 || !existsSync(bundle)) {
    console.error(`l3m: could not build ${bundle}; run "npm run build" in ${root} and look at its errors.`);
    process.exit(70);
  }
  // A build that leaves the bundle's bytes (and so perhaps its time) unchanged must still count as
  // current, or every later start would rebuild again.
  const now = new Date();
  utimesSync(bundle, now, now);
}
require(bundle);
