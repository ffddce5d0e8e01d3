// The sidecar's CLI commands `l3m runs` and `l3m probe`, run as real processes from the bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRun, readRun, updateRun } from '../../sidecar/runs/run_store';

const bundle = join(resolve(__dirname, '../..'), 'dist', 'sidecar.js');

function l3m(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [bundle, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      res({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('l3m runs lists runs, unreadable ones with the reason, as a table and as JSON', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-cli-'));
  t.after(() => rmSync(runsDir, { recursive: true, force: true }));
  const ok = await createRun({ runsDir, experiment: 'quick', task: 'regression', config: {} });
  await updateRun(ok.runDir, {
    status: 'running',
    device: { backend: 'wasm', device: 'cpu' },
    progress: { step: 12, totalSteps: 100, epoch: 1 },
  });
  const bad = await createRun({ runsDir, experiment: 'quick', task: 'regression', config: {} });
  writeFileSync(join(bad.runDir, 'run.json'), 'garbage');
  // A run simulating its dataset shows the stage, its progress and ETA, not the 0/0 of its step counts.
  const simulating = await createRun({ runsDir, experiment: 'quick', task: 'regression', config: {} });
  await updateRun(simulating.runDir, {
    status: 'running',
    progress: {
      step: 0,
      totalSteps: 0,
      epoch: 0,
      stage: { name: 'data', text: 'simulating lightcones 3/40', fraction: 0.075, etaSeconds: 125 },
    },
  });

  const table = await l3m(['runs', '--runs-dir', runsDir]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`quick\\s+${ok.runId}\\s+running\\s+12/100`));
  assert.match(table.stdout, new RegExp(`${bad.runId}\\s+unreadable.*not valid JSON`));
  assert.match(
    table.stdout,
    new RegExp(`${simulating.runId}\\s+running\\s+simulating lightcones 3/40 · ETA 2 min 5 s\\s`),
  );
  assert.match(table.stdout, /3 runs in .*, 1 unreadable\./);

  const json = await l3m(['runs', '--json'], { L3M_RUNS_DIR: runsDir });
  const parsed = JSON.parse(json.stdout) as { runsDir: string; runs: { runId: string; kind: string }[] };
  assert.equal(parsed.runsDir, runsDir);
  assert.deepEqual(parsed.runs.map((r) => r.kind).sort(), ['run', 'run', 'unreadable']);
});

test('l3m runs --mark-failed records the failure with its exit code, and refuses an illegal transition', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-cli-'));
  t.after(() => rmSync(runsDir, { recursive: true, force: true }));
  const run = await createRun({ runsDir, experiment: 'quick', task: 'regression', config: {} });
  await updateRun(run.runDir, { status: 'running' });
  const marked = await l3m([
    'runs',
    '--mark-failed',
    run.runDir,
    '--reason',
    'The L3M sidecar was killed by SIGKILL.',
    '--exit-code',
    '137',
  ]);
  assert.equal(marked.code, 0, marked.stderr);
  assert.deepEqual((await readRun(run.runDir)).error, {
    message: 'The L3M sidecar was killed by SIGKILL.',
    exitCode: 137,
  });
  await updateRun(run.runDir, { status: 'running' });
  await updateRun(run.runDir, { status: 'completed' });
  const refused = await l3m(['runs', '--mark-failed', run.runDir, '--reason', 'late']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cannot go from "completed" to "failed"/);
  assert.equal((await readRun(run.runDir)).status, 'completed');
});

test('bad options are usage errors with the help text', async () => {
  const unknown = await l3m(['runs', '--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option "--frobnicate"/);
  const missing = await l3m(['runs', '--runs-dir']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--runs-dir needs a value/);
  const noReason = await l3m(['runs', '--mark-failed', '/tmp/x']);
  assert.equal(noReason.code, 2);
  assert.match(noReason.stderr, /--mark-failed needs --reason/);
});

test('l3m probe prints the backends as JSON with the chosen one', async () => {
  const probe = await l3m(['probe', '--json']);
  assert.equal(probe.code, 0, probe.stderr);
  const parsed = JSON.parse(probe.stdout) as { backends: { name: string; available: boolean }[]; chosen: string };
  assert.deepEqual(
    parsed.backends.map((b) => b.name),
    ['cuda', 'cpu-native', 'webgpu', 'wasm', 'cpu'],
  );
  assert.equal(parsed.chosen, parsed.backends.find((b) => b.available)?.name);
  const table = await l3m(['probe']);
  assert.match(table.stdout, /^backend\s+available\s+device\s+detail/m);
  assert.match(table.stdout, /chosen by runtime\.backend "auto": /);
});
