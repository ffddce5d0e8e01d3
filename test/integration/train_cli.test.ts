// `l3m train` and `l3m resume` as real processes on a tiny workspace: a run completes and prints its
// folder; SIGINT cancels it cleanly (exit code 4, run.json cancelled, a checkpoint to resume from);
// `l3m resume` finishes it; `l3m evaluate` re-runs a finished run's evaluation; a config with errors
// exits 1 with file:line:col diagnostics and no run.
// The CLI runs from the TypeScript sources (tsx), so the test does not depend on the bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseMetricsJsonl, type RegressionEvaluationFile, type RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { writeTinyWorkspace } from './train_fixture';

const root = resolve(__dirname, '../..');
const cli = join(root, 'sidecar', 'cli', 'main.ts');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function l3m(
  args: string[],
  options: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      env: { ...process.env, L3M_RUNS_DIR: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const runFolderOf = (stdout: string) => /Run folder: (.+)/.exec(stdout)?.[1].trim();
test('l3m train completes a tiny run in runs/ beside the workspace and prints the run folder', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-cli-'));
  const configPath = writeTinyWorkspace(workspace);
  const result = await l3m(['train', configPath]);
  assert.equal(result.code, 0, result.stderr);
  const runDir = runFolderOf(result.stdout)!;
  assert.ok(runDir.startsWith(join(workspace, 'runs', 'tiny')), runDir);
  assert.match(result.stdout, /step 40\/40/);
  assert.match(result.stdout, /Completed\./);
  assert.equal(readJson<RunRecord>(join(runDir, 'run.json')).status, 'completed');
  assert.ok(existsSync(join(runDir, 'eval', 'regression.json')));

  // l3m evaluate re-runs the same evaluation on the best checkpoint and prints the table.
  const trained = readJson<RegressionEvaluationFile>(join(runDir, 'eval', 'regression.json'));
  const evaluated = await l3m(['evaluate', runDir]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, new RegExp(`NLL ${trained.nll!.toFixed(3)} nats`));
  for (const p of trained.parameters)
    assert.match(evaluated.stdout, new RegExp(`${p.name} +${p.r2!.toFixed(3)} +${p.coverage68!.toFixed(3)}`));
  assert.deepEqual(readJson<RegressionEvaluationFile>(join(runDir, 'eval', 'regression.json')), trained);
  const notARun = await l3m(['evaluate', workspace]);
  assert.equal(notARun.code, 1);
  assert.match(notARun.stderr, /config\.json/);
  rmSync(workspace, { recursive: true, force: true });
});

test('SIGINT cancels cleanly and l3m resume finishes the run', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-cli-'));
  const runsDir = join(workspace, 'elsewhere');
  // Long enough that the signal arrives mid-training; plain output (not a TTY) prints the run folder first.
  const configPath = writeTinyWorkspace(workspace, {
    training: { steps: 300, checkpoint_every: 100 },
    evaluation: { every: 150 },
  });
  let signalled = false;
  const cancelled = await l3m(['train', configPath, '--runs-dir', runsDir], {
    onStdout: (stdout, child) => {
      const runDir = runFolderOf(stdout);
      if (signalled || !runDir || !existsSync(join(runDir, 'metrics.jsonl'))) return;
      signalled = true;
      child.kill('SIGINT');
    },
  });
  assert.ok(signalled, `the run never started training: ${cancelled.stdout}\n${cancelled.stderr}`);
  assert.equal(cancelled.code, 4, cancelled.stderr);
  const runDir = runFolderOf(cancelled.stdout)!;
  assert.ok(runDir.startsWith(runsDir));
  const record = readJson<RunRecord>(join(runDir, 'run.json'));
  assert.equal(record.status, 'cancelled');
  assert.ok(record.progress, JSON.stringify(record));
  assert.ok(record.progress.step > 0 && record.progress.step < 300, JSON.stringify(record.progress));
  assert.ok(
    readdirSync(join(runDir, 'checkpoints')).includes(`step-${String(record.progress.step).padStart(8, '0')}.json`),
  );
  assert.match(cancelled.stdout, /Resume with: l3m resume/);

  const resumed = await l3m(['resume', runDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`Resuming from checkpoint step-0*${record.progress.step}`));
  assert.equal(readJson<RunRecord>(join(runDir, 'run.json')).status, 'completed');
  const { records } = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
  const trainSteps = records.filter((r) => r.split === 'train').map((r) => r.step);
  assert.equal(trainSteps[trainSteps.length - 1], 300);
  // Each step is logged once: the resumed process continues right after the cancelled one.
  assert.equal(new Set(trainSteps).size, trainSteps.length);

  const again = await l3m(['resume', runDir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already completed/);
  rmSync(workspace, { recursive: true, force: true });
});

test('a config with errors exits 1 with file:line:col diagnostics and starts no run', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-cli-'));
  const configPath = writeTinyWorkspace(workspace, { training: { batch_size: -3 } });
  const result = await l3m(['train', configPath]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`${configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: error: `));
  assert.equal(existsSync(join(workspace, 'runs')), false);
  const usage = await l3m(['train']);
  assert.equal(usage.code, 2);
  rmSync(workspace, { recursive: true, force: true });
});
