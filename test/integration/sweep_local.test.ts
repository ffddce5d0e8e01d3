// `l3m sweep run|status|cancel|resume` on the local executor, as real processes of the built sidecar
// (each run its own `train-run` child), on the tiny regression workspace: a sweep of 2 setups × 2
// repeats completes with 2 runs at once; cancel-all leaves every unfinished run cancelled with a
// checkpoint, and resume finishes only those; a run whose process is killed ends failed with the
// signal named while the other goes on.
//
// Where a test must catch runs in the middle of training, it stops their processes (SIGSTOP) once they
// have made a step, so that no machine is fast enough to finish them before the test acts, and it waits
// for the runner's SIGTERM to be pending in them (/proc/<pid>/status) before letting them go on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { listSweeps, readSweepState, runsDirOfSweep, type SweepFile } from '../../sidecar/protocol/sweep_folder';
import { readRun } from '../../sidecar/runs/run_store';
import { writeTinyWorkspace } from './train_fixture';
import { readJson } from '../read_json';

const bundle = join(resolve(__dirname, '../..'), 'dist', 'sidecar.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function l3m(args: string[], cwd: string): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [bundle, ...args], { cwd, env: { ...process.env, L3M_RUNS_DIR: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Finished>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
  return { child, done };
}

/** Polls `check` every 200 ms until it returns a value; fails with `what` after `seconds`. */
async function until<T>(seconds: number, what: string, check: () => Promise<T | null | undefined>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > end) assert.fail(`Timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A workspace with the tiny config and a sweep file over it; setup "short" trains 40 steps, "long" `longSteps`. */
function sweepWorkspace(
  longSteps: number,
  sweep: Record<string, unknown> = {},
): { workspace: string; sweepPath: string } {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-sweep-'));
  writeTinyWorkspace(workspace, { training: { checkpoint_every: 100 } });
  const sweepPath = join(workspace, 'tiny.l3m-sweep.json');
  writeFileSync(
    sweepPath,
    JSON.stringify(
      {
        name: 'tiny-sweep',
        base: 'tiny.l3m.json',
        repeats: 2,
        seed: 5,
        setups: [
          { name: 'short', overrides: { 'training.steps': 40 } },
          { name: 'long', overrides: { 'training.steps': longSteps } },
        ],
        local: { parallel: 2 },
        ...sweep,
      },
      null,
      2,
    ),
  );
  return { workspace, sweepPath };
}

async function onlySweep(workspace: string): Promise<{ sweepDir: string; sweep: SweepFile; runDirs: string[] }> {
  const listings = await until(60, 'the sweep folder', async () => {
    const found = await listSweeps(join(workspace, 'runs'));
    return found.length > 0 ? found : null;
  });
  assert.equal(listings.length, 1);
  const listing = listings[0];
  assert.equal(listing.kind, 'sweep', JSON.stringify(listing));
  if (listing.kind !== 'sweep') throw new Error('unreachable');
  const runDirs = listing.sweep.runs.map((r) => join(runsDirOfSweep(listing.sweepDir), r.runDir));
  return { sweepDir: listing.sweepDir, sweep: listing.sweep, runDirs };
}

/** Waits until the run has made a step in its own process, then stops that process; returns its pid. */
async function holdAfterFirstStep(runDir: string): Promise<number> {
  const record = await until(120, `${runDir} to make a step`, async () => {
    const r = await readRun(runDir);
    return r.status === 'running' && (r.progress?.step ?? 0) >= 1 && r.pid !== undefined ? r : null;
  });
  process.kill(record.pid!, 'SIGSTOP');
  return record.pid!;
}

/** Whether a signal sent to the process waits in it (it is stopped, so it has not handled it yet). */
function signalPending(pid: number, signal: number): boolean {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const pending = ['ShdPnd', 'SigPnd'].map((field) =>
    BigInt(`0x${new RegExp(`${field}:\\s*([0-9a-f]+)`).exec(status)![1]}`),
  );
  const bit = 1n << BigInt(signal - 1);
  return pending.some((mask) => (mask & bit) !== 0n);
}

const overlap = (a: RunRecord, b: RunRecord) =>
  Date.parse(a.startedAt!) < Date.parse(b.endedAt!) && Date.parse(b.startedAt!) < Date.parse(a.endedAt!);

test('a sweep of 2 setups × 2 repeats runs 2 at once; cancel-all leaves the unfinished runs resumable and resume finishes only them', async () => {
  const { workspace, sweepPath } = sweepWorkspace(300);
  const running = l3m(['sweep', 'run', sweepPath], workspace);
  const { sweepDir, sweep, runDirs } = await onlySweep(workspace);
  assert.equal(sweep.runs.length, 4);
  assert.deepEqual(
    sweep.runs.map((r) => [r.index, r.setup, r.repeat]),
    [
      [0, 'short', 0],
      [1, 'short', 1],
      [2, 'long', 0],
      [3, 'long', 1],
    ],
  );
  // Every run folder exists, queued or further, from the start, labelled with the sweep and its seed.
  for (const [i, runDir] of runDirs.entries()) {
    const record = await readRun(runDir);
    assert.equal(record.sweep?.id, sweep.id);
    assert.equal(record.sweep?.index, i);
    assert.equal(record.seed, sweep.runs[i].seed);
    assert.equal(readJson<{ training: { seed: number } }>(join(runDir, 'config.json')).training.seed, record.seed);
  }
  assert.equal(sweep.runs[0].seed, sweep.runs[2].seed, 'repeat r has the same seed in every setup');
  assert.notEqual(sweep.runs[0].seed, sweep.runs[1].seed);

  // The long runs start once the short ones end (K = 2): hold them mid-training, then cancel the sweep
  // from another process, as a second terminal would.
  const held = [await holdAfterFirstStep(runDirs[2]), await holdAfterFirstStep(runDirs[3])];
  const short = await Promise.all(runDirs.slice(0, 2).map((runDir) => readRun(runDir)));
  for (const record of short) assert.equal(record.status, 'completed');
  assert.ok(
    overlap(short[0], short[1]),
    `the two short runs ran at once: ${JSON.stringify(short.map((r) => [r.startedAt, r.endedAt]))}`,
  );
  const before = runDirs.slice(0, 2).map((runDir) => ({
    runJson: readFileSync(join(runDir, 'run.json'), 'utf8'),
    metrics: readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'),
  }));

  const cancelling = l3m(['sweep', 'cancel', sweepDir], workspace);
  await until(60, "the runner's SIGTERM to reach both held runs", () =>
    Promise.resolve(held.every((pid) => signalPending(pid, 15)) ? true : null),
  );
  for (const pid of held) process.kill(pid, 'SIGCONT');
  const cancelled = await cancelling.done;
  assert.equal(cancelled.code, 0, cancelled.stderr);
  const ran = await running.done;
  assert.equal(ran.code, 4, `${ran.stdout}\n${ran.stderr}`);
  assert.match(ran.stdout, /Resume the unfinished runs with: l3m sweep resume/);
  assert.equal((await readSweepState(sweepDir)).cancelled, true);
  for (const runDir of runDirs.slice(2)) {
    const record = await readRun(runDir);
    assert.equal(record.status, 'cancelled', JSON.stringify(record));
    const step = record.progress!.step;
    assert.ok(step >= 1 && step < 300, JSON.stringify(record.progress));
    assert.ok(
      readdirSync(join(runDir, 'checkpoints')).includes(`step-${String(step).padStart(8, '0')}.json`),
      `${runDir} has a checkpoint at the step it stopped`,
    );
  }

  const status = await l3m(['sweep', 'status', sweep.id, '--runs-dir', join(workspace, 'runs'), '--json'], workspace)
    .done;
  assert.equal(status.code, 0, status.stderr);
  const document = JSON.parse(status.stdout) as { summary: { byStatus: Record<string, number> } };
  assert.deepEqual(document.summary.byStatus, { queued: 0, running: 0, completed: 2, failed: 0, cancelled: 2 });

  const cancelledAt = await Promise.all(runDirs.slice(2).map((runDir) => readRun(runDir)));
  const resumed = await l3m(['sweep', 'resume', sweepDir], workspace).done;
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  assert.match(resumed.stdout, /Resuming 2 unfinished runs/);
  for (const [i, runDir] of runDirs.slice(2).entries()) {
    const record = await readRun(runDir);
    assert.equal(record.status, 'completed');
    assert.equal(record.startedAt, cancelledAt[i].startedAt);
    assert.match(readFileSync(join(sweepDir, 'local', `run-${i + 2}.log`), 'utf8'), /Resuming from checkpoint step-/);
  }
  // The completed runs were not run again: run.json and metrics.jsonl are as they were.
  for (const [i, runDir] of runDirs.slice(0, 2).entries()) {
    assert.equal(readFileSync(join(runDir, 'run.json'), 'utf8'), before[i].runJson);
    assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), before[i].metrics);
  }
  assert.equal((await readSweepState(sweepDir)).cancelled, false);
  rmSync(workspace, { recursive: true, force: true });
});

test('a run whose process is killed ends failed with the signal named, and the other run goes on', async () => {
  const { workspace, sweepPath } = sweepWorkspace(60, {
    setups: [{ name: 'only', overrides: { 'training.steps': 60 } }],
  });
  const running = l3m(['sweep', 'run', sweepPath], workspace);
  const { sweepDir, runDirs } = await onlySweep(workspace);
  assert.equal(runDirs.length, 2);
  const victim = await holdAfterFirstStep(runDirs[0]);
  process.kill(victim, 'SIGKILL');
  const ran = await running.done;
  assert.equal(ran.code, 3, `${ran.stdout}\n${ran.stderr}`);
  const killed = await readRun(runDirs[0]);
  assert.equal(killed.status, 'failed');
  assert.match(killed.error!.message, /was killed by SIGKILL without ending the run/);
  assert.match(killed.error!.message, /its last output/);
  assert.equal((await readRun(runDirs[1])).status, 'completed');
  const status = await l3m(['sweep', 'status', sweepDir], workspace).done;
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /1 completed, 1 failed \(2 runs\)/);
  assert.match(status.stdout, /Failures:\n {2}#0 The run's process \d+ was killed by SIGKILL/);
  rmSync(workspace, { recursive: true, force: true });
});

test('a sweep file with errors starts nothing; more runs than max_runs need --yes', async () => {
  const { workspace, sweepPath } = sweepWorkspace(40, { grid: { 'training.nope': [1, 2] } });
  const invalid = await l3m(['sweep', 'run', sweepPath], workspace).done;
  assert.equal(invalid.code, 1, invalid.stderr);
  assert.match(invalid.stderr, new RegExp(`${sweepPath.replace(/[.]/g, '\\.')}:\\d+:\\d+: error: .*training\\.nope`));
  assert.match(invalid.stderr, /has errors; no run was started/);
  assert.ok(!existsSync(join(workspace, 'runs')), 'no run folder was created');

  const large = sweepWorkspace(40, { max_runs: 3 });
  const refused = await l3m(['sweep', 'run', large.sweepPath], large.workspace).done;
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /expands to 4 runs, more than its max_runs \(3\); add --yes/);
  assert.ok(!existsSync(join(large.workspace, 'runs')));
  const dry = await l3m(['sweep', 'run', large.sweepPath, '--dry-run'], large.workspace).done;
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /Would run 2 runs at once, as the sweep file \(local\.parallel\) sets/);
  assert.ok(!existsSync(join(large.workspace, 'runs')), 'a dry run creates nothing');
  rmSync(workspace, { recursive: true, force: true });
  rmSync(large.workspace, { recursive: true, force: true });
});
