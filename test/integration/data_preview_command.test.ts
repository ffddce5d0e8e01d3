// The inspector's data preview runs the real `l3m data` from the bundle with the Node the extension
// was told to use (l3m.nodePath, through extension/sidecar_cli.ts), and says so when that Node is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureDataPreview, readDataPreview } from '../../extension/panels/data_preview';
import { sidecarCommand } from '../../extension/sidecar_cli';
import { writePreviewRun } from '../browser/run_fixtures';

const bundle = join(resolve(import.meta.dirname, '../..'), 'dist', 'sidecar.js');

test('the data preview runs l3m data with l3m.nodePath, and names that Node when it cannot start', async (t) => {
  assert.ok(existsSync(bundle), `${bundle} is missing; run "node esbuild.mjs --no-typecheck" first`);
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-preview-'));
  t.after(() => rmSync(runsDir, { recursive: true, force: true }));
  const runDir = writePreviewRun(runsDir, 28, 30);

  const missing = await ensureDataPreview(
    runDir,
    sidecarCommand({ nodePath: join(runsDir, 'no-such-node') }, bundle),
    [runsDir],
    3,
  );
  assert.match(missing ?? '', /Could not start the L3M sidecar with ".*no-such-node": .*ENOENT.*l3m\.nodePath/);
  assert.equal(existsSync(join(runDir, 'data-preview', 'index.json')), false);

  // The configured Node: a launcher that records its arguments and hands over to this test's Node.
  const launcher = join(runsDir, 'node-launcher');
  const log = join(runsDir, 'launcher.log');
  writeFileSync(launcher, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${process.execPath}' "$@"\n`);
  chmodSync(launcher, 0o755);
  assert.equal(await ensureDataPreview(runDir, sidecarCommand({ nodePath: launcher }, bundle), [runsDir], 3), null);
  assert.match(
    readFileSync(log, 'utf8'),
    new RegExp(
      `^${bundle.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} data .*preview\\.l3m\\.json --out .*data-preview --slices 3 --max-cones 1 --json\\n$`,
    ),
  );
  const preview = await readDataPreview(runDir);
  assert.deepEqual(preview.problems, []);
  assert.deepEqual(preview.shape, [3, 28, 28]);
});
