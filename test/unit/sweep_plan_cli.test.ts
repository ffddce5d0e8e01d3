// `l3m sweep plan`: the run table, the estimates, the run time from an earlier completed run of the
// same shape (written through the real run store) or else the backend benchmark, the JSON form, and a
// sweep with errors exiting 1 with file:line:col diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweepPlan } from '../../sidecar/cli/sweep_plan';
import { resolveConfig } from '../../schemas/resolve_config';
import { deriveSeed } from '../../schemas/sweep_plan';
import { appendMetrics, createRun, updateRun } from '../../sidecar/runs/run_store';
import { exitCodes } from '../../sidecar/protocol/exit_codes';
import { parseJson } from '../read_json';

const quickstart = readFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'quickstart-regression.l3m.json'),
  'utf8',
);

function workspace(sweep: unknown): { dir: string; sweepPath: string; runsDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-sweep-cli-'));
  writeFileSync(join(dir, 'q.l3m.json'), quickstart);
  const sweepPath = join(dir, 'pair.l3m-sweep.json');
  writeFileSync(sweepPath, typeof sweep === 'string' ? sweep : JSON.stringify(sweep, null, 2));
  return { dir, sweepPath, runsDir: join(dir, 'runs') };
}

/** Runs the command with console output captured. */
async function plan(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => out.push(parts.map(String).join(' '));
  console.error = (...parts: unknown[]) => err.push(parts.map(String).join(' '));
  try {
    const code = await runSweepPlan(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    Object.assign(console, { log, error });
  }
}

const pair = {
  base: 'q.l3m.json',
  repeats: 2,
  setups: [
    { name: 'full', overrides: { 'backbone.finetune': 'full' } },
    { name: 'frozen', overrides: { 'backbone.finetune': 'frozen' } },
  ],
};

test('plan prints the runs, the estimates and the run time measured on an earlier run of the same shape', async () => {
  const { sweepPath, runsDir } = workspace(pair);
  // A completed full-finetuning run of q: 960 steps at 8 steps/s, 150 s from start to end, so 30 s
  // of data and evaluation around the 120 s of steps. Its lr and seed differ: they do not change the shape.
  const written = parseJson<{ training: Record<string, unknown> }>(quickstart);
  const config = resolveConfig({ ...written, training: { ...written.training, lr: 0.01, seed: 5 } });
  const start = new Date('2025-01-01T10:00:00Z');
  const { runDir } = await createRun({
    runsDir,
    experiment: 'q',
    task: 'regression',
    config,
    status: 'running',
    now: start,
  });
  await appendMetrics(runDir, [
    { step: 480, epoch: 30, wall_time: 70, split: 'train', loss: 1, steps_per_s: 7.5 },
    { step: 960, epoch: 60, wall_time: 140, split: 'train', loss: 0.5, steps_per_s: 8 },
  ]);
  await updateRun(runDir, { progress: { step: 960, totalSteps: 960, epoch: 60 } });
  await updateRun(runDir, { status: 'completed' }, new Date(start.getTime() + 150_000));

  const { code, out } = await plan([sweepPath, '--runs-dir', runsDir]);
  assert.equal(code, exitCodes.ok, out);
  assert.match(
    out,
    /Sweep pair \(.*pair\.l3m-sweep\.json\): 4 runs in 2 groups, 2 repeats each, sweep seed 0, executor local\./,
  );
  const rows = out.split('\n').filter((line) => /^\s+\d+\s+q\s/.test(line));
  assert.equal(rows.length, 4);
  assert.match(rows[0], /^\s*0\s+q\s+setup=full\s+backbone\.finetune=full\s+0\s+(\d+)$/);
  assert.match(rows[3], /^\s*3\s+q\s+setup=frozen\s+backbone\.finetune=frozen\s+1\s+(\d+)$/);
  assert.ok(rows[0].endsWith(` ${deriveSeed(0, 0)}`) && rows[3].endsWith(` ${deriveSeed(0, 1)}`));
  assert.match(
    out,
    /q: setup=full: 20\.2k parameters \(19\.7k trained\), about [\d.]+ MiB to train \(activations [\d.]+ MiB at \d+ × 55 tokens\)/,
  );
  assert.match(out, /q: setup=frozen: 20\.2k parameters \(987 trained\)/);
  assert.match(
    out,
    /q: setup=full: 2 min 30 s per run \(2\.0 s per epoch\): 960 steps at 8\.00 steps\/s \+ 30 s data and evaluation, measured on 1 completed run of the same shape/,
  );
  // No frozen run was measured: its time comes from the backend benchmark, and says so.
  assert.match(
    out,
    /q: setup=frozen: .* per run \(.* per epoch\): 900 steps × [\d.]+ GFLOP at [\d.]+ GFLOP\/s \(\w+(-\w+)? matmul benchmark/,
  );
  assert.match(out, /Total: \d+ min \d+ s of runs one at a time/);
});

test('--json prints one document with the plan, the estimates and the run times', async () => {
  const { sweepPath, runsDir } = workspace({ ...pair, max_runs: 3 });
  const { code, out, err } = await plan([sweepPath, '--runs-dir', runsDir, '--json']);
  assert.equal(code, exitCodes.ok);
  const document = parseJson<{
    sweep: { name: string; maxRuns: number };
    runs: Array<{ index: number; seed: number; group: string }>;
    estimates: Array<{ runs: number[] }>;
    runTime: { totalSeconds: number | null; runs: Array<{ source: string }> };
    diagnostics: string[];
  }>(out);
  assert.equal(document.sweep.name, 'pair');
  assert.deepEqual(
    document.runs.map((r) => `${r.index} ${r.group} ${r.seed}`),
    [0, 1, 2, 3].map((i) => `${i} setup=${i < 2 ? 'full' : 'frozen'} ${deriveSeed(0, i % 2)}`),
  );
  assert.deepEqual(
    document.estimates.map((e) => e.runs),
    [
      [0, 1],
      [2, 3],
    ],
  );
  assert.deepEqual(
    document.runTime.runs.map((r) => r.source),
    ['benchmark', 'benchmark', 'benchmark', 'benchmark'],
  );
  assert.ok(typeof document.runTime.totalSeconds === 'number' && document.runTime.totalSeconds > 0);
  assert.equal(document.diagnostics.length, 1);
  assert.match(document.diagnostics[0], /warning: The sweep expands to 4 runs, more than max_runs \(3\)/);
  assert.equal(err, '');
});

test('a sweep with errors prints them as file:line:col and exits 1; usage errors exit 2', async () => {
  const { sweepPath } = workspace('{\n  "base": "q.l3m.json",\n  "grid": { "training.lrr": [0.1] }\n}\n');
  const { code, out, err } = await plan([sweepPath]);
  assert.equal(code, exitCodes.invalid);
  assert.equal(out, '');
  assert.match(err, /pair\.l3m-sweep\.json:3:13: error: grid\["training\.lrr"\]: .*Did you mean "training\.lr"\?/);
  assert.match(err, /has 1 error; nothing was planned/);
  assert.equal((await plan([])).code, exitCodes.usage);
  assert.equal((await plan([sweepPath, '--bogus'])).code, exitCodes.usage);
});
