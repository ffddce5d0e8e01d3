// The Slurm executor against a real single-node cluster (test/slurm_cluster.ts): sweeps submitted with
// sbatch, runs stopped by scancel and by their time limit (checkpoint, cancelled, resumed), a node that
// dies under a run, and sbatch refusing a submission. A machine without Slurm skips these tests with
// the reason; CI (CI=true) fails instead.
//
// Where a test must catch a run in the middle of training, it stops the run's process with SIGSTOP once
// the run has made a step, so that no machine is fast enough to finish the run before the test acts.
// Slurm sends SIGCONT before its SIGTERM (as it does for suspended jobs), so the run goes on from there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { planSweep } from '../../schemas/sweep_plan';
import * as protocol from '../../sidecar/protocol/messages';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { readSweepState, runsDirOfSweep } from '../../sidecar/protocol/sweep_folder';
import { readRun, updateRun } from '../../sidecar/runs/run_store';
import type { SweepEvents } from '../../sidecar/sweeps/executor';
import { SlurmExecutor } from '../../sidecar/sweeps/slurm_executor';
import { createSweep } from '../../sidecar/sweeps/sweep_store';
import { slurmUnavailableReason, startSlurmCluster, type SlurmCluster } from '../slurm_cluster';
import { inMemoryServer } from './in_memory_server';
import { tinyConfig, writeSyntheticLightcones } from './train_fixture';

const bundle = join(resolve(__dirname, '../..'), 'dist', 'sidecar.js');
const unavailable = slurmUnavailableReason();
if (unavailable !== null && process.env.CI === 'true')
  throw new Error(`CI must run the Slurm tests, but: ${unavailable}`);

let cluster: SlurmCluster;
let workspace: string;

/** Polls `check` every 200 ms until it returns a value; fails with `what` and the cluster's logs after `seconds`. */
async function until<T>(seconds: number, what: string, check: () => Promise<T | null | undefined>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > end) assert.fail(`Timed out after ${seconds} s waiting for ${what}\n${cluster.logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function l3m(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bundle, ...args], { env }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function recorder(): SweepEvents & { lines: string[] } {
  const lines: string[] = [];
  return { lines, runState: () => undefined, log: (level, message) => lines.push(`${level}: ${message}`) };
}

function executor(env: NodeJS.ProcessEnv = {}): SlurmExecutor {
  return new SlurmExecutor({
    sidecarCommand: [process.execPath, bundle],
    env: { ...process.env, ...cluster.env, ...env },
  });
}

/** Writes a sweep file over tiny.l3m.json and creates its sweep folder; returns the folder and run folders. */
async function newSweep(
  name: string,
  sweep: Record<string, unknown>,
): Promise<{ sweepDir: string; runDirs: string[] }> {
  const path = join(workspace, `${name}.l3m-sweep.json`);
  writeFileSync(path, JSON.stringify({ base: 'tiny.l3m.json', executor: 'slurm', ...sweep }, null, 2));
  const planned = await planSweep(path);
  assert.ok(planned.plan, JSON.stringify(planned.diagnostics));
  const { sweepDir, sweep: file } = await createSweep(planned.plan, {
    runsDir: join(workspace, 'runs'),
    executor: 'slurm',
  });
  return { sweepDir, runDirs: file.runs.map((r) => join(runsDirOfSweep(sweepDir), r.runDir)) };
}

function slurmField(record: RunRecord) {
  assert.equal(record.executor?.kind, 'slurm', JSON.stringify(record));
  return record.executor?.kind === 'slurm' ? record.executor : assert.fail('no slurm executor');
}

/** A check for `until`: the run's record once it has `status`; a run that fails instead fails the test at once. */
const statusOf = (status: RunRecord['status'], runDir: string) => async () => {
  const record = await readRun(runDir);
  if (record.status === 'failed' && status !== 'failed')
    assert.fail(`${runDir} failed while waiting for "${status}": ${record.error?.message ?? '(no message)'}`);
  return record.status === status ? record : null;
};

/** Waits until the run has made a step, then stops its process (SIGSTOP); returns its pid. */
async function holdAfterFirstStep(runDir: string): Promise<number> {
  const record = await until(120, `${runDir} to make a step`, async () => {
    const r = await readRun(runDir);
    return r.status === 'running' && (r.progress?.step ?? 0) >= 1 && r.pid !== undefined ? r : null;
  });
  process.kill(record.pid!, 'SIGSTOP');
  return record.pid!;
}

/** The steps of a run's step checkpoints. */
function checkpointSteps(runDir: string): number[] {
  const folder = join(runDir, 'checkpoints');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((f) => /^step-(\d{8})\.json$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number);
}

describe('Slurm executor on a real cluster', { skip: unavailable ?? false }, () => {
  before(async () => {
    const started = await startSlurmCluster();
    if (!started.cluster) throw new Error(`No cluster: ${started.skip}`);
    cluster = started.cluster;
    console.log(`Slurm cluster up in ${cluster.startSeconds.toFixed(1)} s (${cluster.root})`);
    workspace = mkdtempSync(join(tmpdir(), 'l3m-slurm-sweep-'));
    writeSyntheticLightcones(workspace);
    // The job user of one test (nobody) must reach the sweep's log folder.
    chmodSync(workspace, 0o755);
    // Runs checkpoint only at their end and when stopped, so a step checkpoint of a stopped run is the one
    // it wrote on SIGTERM.
    const config = tinyConfig({ training: { steps: 30, checkpoint_every: 1_000_000 } });
    writeFileSync(join(workspace, 'tiny.l3m.json'), JSON.stringify(config, null, 2));
  });
  after(async () => {
    await cluster?.stop();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  test(
    'a 2×2 sweep runs as one job array through sbatch and completes, job ids in run.json and state.json',
    { timeout: 600_000 },
    async () => {
      const { sweepDir, runDirs } = await newSweep('grid', {
        repeats: 2,
        setups: [
          { name: 'frozen', overrides: { 'backbone.finetune': 'frozen' } },
          { name: 'full', overrides: { 'backbone.finetune': 'full' } },
        ],
        slurm: { partition: 'test', cpus_per_task: 1, time: '00:10:00' },
      });
      assert.equal(runDirs.length, 4);
      const events = recorder();
      await executor().start(sweepDir, [0, 1, 2, 3], events);
      assert.match(events.lines.join('\n'), /4 runs submitted to Slurm as job array (\d+) \(tasks 0-3\)/);

      const fields = await Promise.all(runDirs.map(async (runDir) => slurmField(await readRun(runDir))));
      assert.equal(new Set(fields.map((f) => f.jobId)).size, 1, 'one array job');
      assert.deepEqual(
        fields.map((f) => f.arrayTaskId),
        [0, 1, 2, 3],
      );
      const state = await readSweepState(sweepDir);
      assert.deepEqual(
        state.submissions?.map((s) => [s.jobIds, s.runIndexes]),
        [[[fields[0].jobId], [0, 1, 2, 3]]],
      );

      for (const runDir of runDirs) await until(300, `${runDir} to complete`, statusOf('completed', runDir));
      const script = readFileSync(join(sweepDir, 'slurm', 'submit-1.sh'), 'utf8');
      assert.match(script, /^#SBATCH --partition=test$/m);
      assert.match(script, /^#SBATCH --cpus-per-task=1$/m);
      assert.match(script, /^#SBATCH --time=00:10:00$/m);
      assert.match(script, /^exec .* train-run "\$run"$/m);
      for (const task of [0, 1, 2, 3]) {
        const out = readFileSync(join(sweepDir, 'slurm', `${fields[0].jobId}_${task}.out`), 'utf8');
        assert.match(out, /Completed\. Run folder: /);
      }
      // Each run was its own process with the thread count of its allocation.
      const pids = await Promise.all(runDirs.map(async (runDir) => (await readRun(runDir)).pid));
      assert.equal(new Set(pids).size, 4);

      // A run records its end just before its process exits, and Slurm ends the job after that: wait for both.
      await until(60, 'Slurm to record COMPLETED for every job', async () => {
        await executor().refresh(sweepDir);
        const states = await Promise.all(runDirs.map(async (runDir) => slurmField(await readRun(runDir)).lastState));
        return states.every((state) => state === 'COMPLETED') ? true : null;
      });
    },
  );

  describe('runs stopped by Slurm checkpoint, end cancelled and resume', { concurrency: true }, () => {
    test('scancel of a running job', { timeout: 600_000 }, async () => {
      const { sweepDir, runDirs } = await newSweep('cancel', {
        grid: { 'training.steps': [120] },
        slurm: { partition: 'test', array: false },
      });
      const [runDir] = runDirs;
      await executor().start(sweepDir, [0], recorder());
      const first = slurmField(await readRun(runDir)).jobId;
      await holdAfterFirstStep(runDir);
      await executor().cancel(sweepDir);

      const cancelled = await until(120, 'the run to end cancelled', statusOf('cancelled', runDir));
      const step = cancelled.progress?.step ?? 0;
      assert.ok(step >= 1 && step < 120, `stopped at step ${step}`);
      assert.deepEqual(checkpointSteps(runDir), [step], 'the checkpoint written on SIGTERM');
      assert.match(readFileSync(join(sweepDir, 'slurm', `${first}.out`), 'utf8'), /Cancelled\. Resume with/);
      await until(60, 'Slurm to record CANCELLED', async () => {
        await executor().refresh(sweepDir);
        return slurmField(await readRun(runDir)).lastState === 'CANCELLED' ? true : null;
      });
      assert.equal((await readSweepState(sweepDir)).cancelled, true);

      await executor().start(sweepDir, [0], recorder());
      const second = slurmField(await readRun(runDir)).jobId;
      assert.notEqual(second, first, 'resume submits a new job');
      const completed = await until(300, 'the resumed run to complete', statusOf('completed', runDir));
      assert.equal(completed.progress?.step, 120);
      assert.match(
        readFileSync(join(sweepDir, 'slurm', `${second}.err`), 'utf8'),
        new RegExp(`Resuming from checkpoint step-\\d{8} \\(step ${step} of 120\\)`),
      );
      assert.equal((await readSweepState(sweepDir)).submissions?.length, 2);
    });

    test('a job that reaches its time limit', { timeout: 600_000 }, async () => {
      // Slurm counts time limits in whole minutes ("00:00:20" is one minute) and checks them every 30 s,
      // so the limit strikes 60 to 90 s after the job starts; KillWait (30 s) then leaves time to checkpoint.
      const { sweepDir, runDirs } = await newSweep('timelimit', {
        grid: { 'training.steps': [120] },
        slurm: { partition: 'test', array: false, time: '00:00:20' },
      });
      const [runDir] = runDirs;
      await executor().start(sweepDir, [0], recorder());
      const first = slurmField(await readRun(runDir)).jobId;
      await holdAfterFirstStep(runDir);

      const cancelled = await until(240, 'the time limit to stop the run', statusOf('cancelled', runDir));
      const step = cancelled.progress?.step ?? 0;
      assert.deepEqual(checkpointSteps(runDir), [step]);
      assert.match(readFileSync(join(sweepDir, 'slurm', `${first}.err`), 'utf8'), /CANCELLED AT .* DUE TO TIME LIMIT/);
      await until(60, 'Slurm to record TIMEOUT', async () => {
        await executor().refresh(sweepDir);
        return slurmField(await readRun(runDir)).lastState === 'TIMEOUT' ? true : null;
      });

      await executor().start(sweepDir, [0], recorder());
      const completed = await until(300, 'the resumed run to complete', statusOf('completed', runDir));
      assert.equal(completed.progress?.step, 120);
    });
  });

  test("sbatch refusing a submission gives Slurm's message and starts no run", { timeout: 120_000 }, async () => {
    const { sweepDir, runDirs } = await newSweep('badpartition', {
      repeats: 2,
      slurm: { partition: 'nosuchpartition' },
    });
    await assert.rejects(executor().start(sweepDir, [0, 1], recorder()), (error: Error) => {
      assert.match(error.message, /no run was started/);
      assert.match(error.message, /invalid partition specified: nosuchpartition/);
      return true;
    });
    for (const runDir of runDirs) {
      const record = await readRun(runDir);
      assert.equal(record.status, 'queued');
      assert.equal(record.executor, undefined);
    }
    assert.equal((await readSweepState(sweepDir)).submissions, undefined);

    // Memory no node has: Slurm refuses it (checked before the job is submitted held, see submitHeld).
    const mixed = await newSweep('badmem', { repeats: 2, slurm: { array: false, mem: '100T' } });
    await assert.rejects(
      executor().start(mixed.sweepDir, [0, 1], recorder()),
      /Requested node configuration is not available/,
    );
    for (const runDir of mixed.runDirs) assert.equal((await readRun(runDir)).executor, undefined);

    const noSlurm = mkdtempSync(join(tmpdir(), 'l3m-no-slurm-'));
    try {
      await assert.rejects(
        executor({ PATH: noSlurm }).start(sweepDir, [0, 1], recorder()),
        /sbatch was not found on PATH: this machine is not a Slurm login node/,
      );
    } finally {
      rmSync(noSlurm, { recursive: true, force: true });
    }
    for (const runDir of runDirs) assert.equal((await readRun(runDir)).status, 'queued');
  });

  test(
    'a run folder the compute node cannot write fails that run with the path, before training',
    { timeout: 300_000 },
    async () => {
      // The job runs as another user than the one who owns the run folders (as where the cluster maps
      // users differently from the login node): the job script finds the folder unwritable and says so.
      const { sweepDir, runDirs } = await newSweep('unwritable', { slurm: { array: false, extra: ['--uid=nobody'] } });
      mkdirSync(join(sweepDir, 'slurm'));
      chmodSync(join(sweepDir, 'slurm'), 0o777);
      await executor().start(sweepDir, [0], recorder());
      const failed = await until(120, 'the run to be marked failed', async () => {
        await executor().refresh(sweepDir);
        return statusOf('failed', runDirs[0])();
      });
      const message = failed.error?.message ?? '';
      assert.match(
        message,
        /^Slurm job \d+ ended FAILED, reason NonZeroExitCode, exit code 3:0 before the run started/,
      );
      assert.ok(
        message.includes(
          `the run folder ${runDirs[0]} is not writable from the compute node ${hostname()} as user nobody`,
        ),
        message,
      );
      assert.equal(failed.error?.exitCode, 3);
      assert.equal(failed.progress, undefined, 'it never trained');
    },
  );

  test(
    'cancelling a sweep whose jobs have not started ends its runs cancelled at once',
    { timeout: 60_000 },
    async () => {
      // --begin keeps the jobs pending for an hour: they are waiting when the cancel comes.
      const { sweepDir, runDirs } = await newSweep('pending', { repeats: 2, slurm: { extra: ['--begin=now+1hour'] } });
      await executor().start(sweepDir, [0, 1], recorder());
      await executor().cancel(sweepDir);
      for (const runDir of runDirs) {
        const record = await readRun(runDir);
        assert.equal(record.status, 'cancelled');
        assert.match(
          record.error?.message ?? '',
          /Slurm job \d+_\d ended CANCELLED before the run started; resume the sweep to run it/,
        );
        assert.equal(slurmField(record).lastState, 'CANCELLED');
      }
    },
  );

  test('a job Slurm no longer knows fails its run with what was last seen', { timeout: 60_000 }, async () => {
    const { sweepDir, runDirs } = await newSweep('vanished', {});
    await updateRun(runDirs[0], { executor: { kind: 'slurm', jobId: '987654' } });
    await executor().refresh(sweepDir);
    const record = await readRun(runDirs[0]);
    assert.equal(record.status, 'failed');
    assert.match(
      record.error?.message ?? '',
      /Slurm no longer knows job 987654 .*L3M Studio never saw it in the queue/,
    );
  });

  test(
    'l3m sweep run --executor slurm submits and returns; l3m sweep status shows the jobs',
    { timeout: 300_000 },
    async () => {
      const path = join(workspace, 'cli.l3m-sweep.json');
      writeFileSync(path, JSON.stringify({ base: 'tiny.l3m.json', repeats: 2, executor: 'local' }));
      const env = { ...process.env, ...cluster.env };
      const submitted = await l3m(
        ['sweep', 'run', path, '--executor', 'slurm', '--runs-dir', join(workspace, 'runs')],
        env,
      );
      assert.equal(submitted.code, 0, submitted.stderr);
      assert.match(submitted.stderr, /2 runs submitted to Slurm as job array (\d+) \(tasks 0-1\)/);
      const sweepDir =
        /Follow the sweep with: l3m sweep status (.+)$/m.exec(submitted.stdout)?.[1] ?? assert.fail(submitted.stdout);
      const jobId = /job array (\d+)/.exec(submitted.stderr)?.[1];
      const sweep = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as { runs: { runDir: string }[] };
      for (const run of sweep.runs) {
        const runDir = join(workspace, 'runs', run.runDir);
        await until(300, `${runDir} to complete`, statusOf('completed', runDir));
      }
      const status = await l3m(['sweep', 'status', sweepDir], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /2 completed/);
      assert.match(status.stdout, new RegExp(`${jobId}_0`));
      assert.match(status.stdout, new RegExp(`${jobId}_1`));
    },
  );

  test(
    'sweep/run with the l3m.slurm setting: it fills what the sweep file leaves out, and sweep.json keeps it',
    { timeout: 300_000 },
    async (t) => {
      const sweepPath = join(workspace, 'settings.l3m-sweep.json');
      writeFileSync(
        sweepPath,
        JSON.stringify({ base: 'tiny.l3m.json', executor: 'slurm', slurm: { time: '00:05:00' } }),
      );
      const runsDir = join(workspace, 'runs');
      // The server's Slurm commands run in this process's environment.
      const saved = process.env.SLURM_CONF;
      process.env.SLURM_CONF = cluster.env.SLURM_CONF;
      const { client, close } = inMemoryServer({ sidecarCommand: [process.execPath, bundle] });
      t.after(() => {
        close();
        if (saved === undefined) delete process.env.SLURM_CONF;
        else process.env.SLURM_CONF = saved;
      });
      client.listen();
      const setting = { partition: 'test', time: '00:09:00', extra: ['--comment=from-the-setting'] };
      const result = await client.sendRequest(protocol.runSweep, { sweepPath, runsDir, slurm: setting });
      const script = readFileSync(join(result.sweepDir, 'slurm', 'submit-1.sh'), 'utf8');
      assert.match(script, /^#SBATCH --partition=test$/m);
      assert.match(script, /^#SBATCH --time=00:05:00$/m, 'the sweep file wins');
      assert.match(script, /^#SBATCH --comment=from-the-setting$/m);
      const recorded = JSON.parse(readFileSync(join(result.sweepDir, 'sweep.json'), 'utf8')) as { slurm: object };
      assert.deepEqual(recorded.slurm, {
        array: true,
        extra: ['--comment=from-the-setting'],
        shared_dir: null,
        partition: 'test',
        time: '00:05:00',
      });
      await until(300, 'the run to complete', statusOf('completed', result.runs[0].runDir));

      await assert.rejects(
        client.sendRequest(protocol.runSweep, { sweepPath, runsDir, slurm: { extra: ['--qos=a\n#SBATCH --qos=b'] } }),
        /The l3m\.slurm setting: slurm\.extra\[0\] holds a line break/,
      );
    },
  );

  test(
    "a node that dies under a running job fails that run with Slurm's reason; the other run is untouched",
    { timeout: 600_000 },
    async () => {
      const { sweepDir, runDirs } = await newSweep('nodefail', {
        grid: { 'training.steps': [20, 100000] },
        slurm: { partition: 'test', array: false },
      });
      const [short, long] = runDirs;
      await executor().start(sweepDir, [0, 1], recorder());
      const done = await until(300, 'the short run to complete', statusOf('completed', short));
      await executor().refresh(sweepDir);
      const pid = await holdAfterFirstStep(long);
      cluster.crashNode([pid]);

      const failed = await until(180, 'Slurm to declare the node dead and the run failed', async () => {
        await executor().refresh(sweepDir);
        return statusOf('failed', long)();
      });
      assert.match(
        failed.error?.message ?? '',
        /Slurm job \d+ ended NODE_FAIL, reason NodeDown while the run was running/,
      );
      assert.equal(slurmField(failed).lastState, 'NODE_FAIL');
      const other = await readRun(short);
      assert.equal(other.status, 'completed');
      assert.equal(other.endedAt, done.endedAt);
      assert.equal(slurmField(other).lastState, 'COMPLETED');
    },
  );
});
