// `l3m evaluate` on a regression run whose test split holds one lightcone: R² is undefined there
// (it compares the residuals with the spread of the test values, and one value has none), so
// eval/regression.json carries null for it. The command must print that as "undefined with one
// test lightcone" and succeed, not fail on the null. The CLI runs from the TypeScript sources (tsx).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTinyWorkspace } from './train_fixture';
import type { RegressionEvaluationFile } from '../../sidecar/protocol/run_folder';
import { parseJson, readJson } from '../read_json';

const root = resolve(__dirname, '../..');
const cli = join(root, 'sidecar', 'cli', 'main.ts');

function l3m(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      env: { ...process.env, L3M_RUNS_DIR: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

test('l3m evaluate prints an undefined R² of a one-lightcone test split and exits 0', async (t) => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-evaluate-cli-'));
  t.after(() => rmSync(workspace, { recursive: true, force: true }));
  // 5 lightcones with 20% each for validation and test: one test lightcone.
  const configPath = writeTinyWorkspace(
    workspace,
    {
      training: { batch_size: 2, steps: 4, checkpoint_every: 2, schedule: { warmup: 1, decay: 2 } },
      evaluation: { every: 2 },
    },
    { lightcones: 5 },
  );
  const trained = await l3m(['train', configPath]);
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = /Run folder: (.+)/.exec(trained.stdout)?.[1].trim() ?? '';
  const written = readJson<RegressionEvaluationFile>(join(runDir, 'eval', 'regression.json'));
  assert.equal(written.testLightcones, 1);
  assert.ok(
    written.parameters.every((p) => p.r2 === null),
    'R² of one test lightcone is written as null',
  );

  const evaluated = await l3m(['evaluate', runDir]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /Test evaluation on 1 lightcone \(/);
  for (const p of written.parameters)
    assert.match(evaluated.stdout, new RegExp(`${p.name} +– +${p.coverage68!.toFixed(3)} `));
  assert.match(evaluated.stdout, /R² is undefined with one test lightcone/);
  assert.match(evaluated.stdout, /data\.splits\.test_fraction/);
  assert.doesNotMatch(evaluated.stdout + evaluated.stderr, /toFixed|NaN/);

  const json = await l3m(['evaluate', runDir, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(parseJson<RegressionEvaluationFile>(json.stdout).parameters[0].r2, null);
});
