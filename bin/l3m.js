#!/usr/bin/env node
// The `l3m` command: runs the bundled sidecar CLI, building it first on a fresh checkout.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'sidecar.js');
if (!existsSync(bundle)) {
  const build = spawnSync(process.execPath, [join(root, 'esbuild.mjs'), '--no-typecheck'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0 || !existsSync(bundle)) {
    console.error(`l3m: could not build ${bundle}; run "npm run build" in ${root} and look at its errors.`);
    process.exit(70);
  }
}
require(bundle);
