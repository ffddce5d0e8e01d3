// The Slurm job script: its #SBATCH lines, and what the script does when bash runs it (the same bash
// that a compute node runs it with): which run an array task picks, the exec of the sidecar command,
// and the refusal of a run folder it cannot write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  jobScript,
  logFile,
  mergeSlurmOptions,
  sbatchOptions,
  shellQuote,
  slurmDefaultsOf,
  slurmOptionsOf,
  unwritableRunExitCode,
} from '../../sidecar/sweeps/slurm_script';
import type { SlurmOptions } from '../../schemas/sweep_types';

const noOptions: SlurmOptions = { array: true, extra: [], shared_dir: null };
// Stands in for `node dist/sidecar.js`: a real Node that prints the arguments the script passed on.
const printArgs = [process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))'];

function runScript(script: string, env: Record<string, string>) {
  const folder = mkdtempSync(join(tmpdir(), 'l3m-script-'));
  try {
    const path = join(folder, 'job.sh');
    writeFileSync(path, script);
    return spawnSync('bash', [path], { encoding: 'utf8', env: { ...process.env, ...env } });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

test('sbatchOptions: every slurm option becomes its sbatch option, then the extra lines in order', () => {
  const options: SlurmOptions = {
    partition: 'gpu',
    time: '01:30:00',
    cpus_per_task: 4,
    mem: '8G',
    gres: 'gpu:1',
    account: 'proj',
    array: true,
    extra: ['--qos=normal', '--signal=TERM@120'],
    shared_dir: null,
  };
  assert.deepEqual(sbatchOptions(options), [
    '--partition=gpu',
    '--time=01:30:00',
    '--cpus-per-task=4',
    '--mem=8G',
    '--gres=gpu:1',
    '--account=proj',
    '--qos=normal',
    '--signal=TERM@120',
  ]);
  assert.deepEqual(sbatchOptions(noOptions), []);
});

test('jobScript: #SBATCH header with the job name, no requeue, logs and options; paths with spaces quoted', () => {
  const script = jobScript({
    sweepId: 'grid-20250101-000000-abcd',
    runs: [{ index: 7, runDir: '/shared/runs/exp/r1' }],
    array: false,
    options: { ...noOptions, partition: 'debug', extra: ['--qos=low'] },
    logDir: '/shared/my runs/.sweeps/grid/slurm',
    sidecarCommand: ['/opt/node', '/opt/l3m/dist/sidecar.js'],
  });
  const header = script.split('\n').filter((line) => line.startsWith('#SBATCH'));
  assert.deepEqual(header, [
    '#SBATCH --job-name=l3m-grid-20250101-000000-abcd-7',
    '#SBATCH --no-requeue',
    "#SBATCH --output='/shared/my runs/.sweeps/grid/slurm/%j.out'",
    "#SBATCH --error='/shared/my runs/.sweeps/grid/slurm/%j.err'",
    "#SBATCH --chdir='/shared/my runs/.sweeps/grid/slurm'",
    '#SBATCH --partition=debug',
    '#SBATCH --qos=low',
  ]);
  assert.ok(script.startsWith('#!/bin/bash\n'));
  assert.match(script, /^exec '\/opt\/node' '\/opt\/l3m\/dist\/sidecar\.js' train-run "\$run"$/m);
});

test('an array script starts the run of its task, with L3M_THREADS from the CPUs Slurm gave it', () => {
  const folder = mkdtempSync(join(tmpdir(), 'l3m-runs-'));
  try {
    const runs = [0, 1, 2].map((i) => ({ index: 10 + i, runDir: join(folder, `run ${i}`) }));
    for (const run of runs) mkdirSync(run.runDir);
    const script = jobScript({
      sweepId: 's-20250101-000000-abcd',
      runs,
      array: true,
      options: noOptions,
      logDir: folder,
      sidecarCommand: printArgs,
    });
    const result = runScript(script, { SLURM_ARRAY_TASK_ID: '1', SLURM_JOB_ID: '42', SLURM_CPUS_PER_TASK: '3' });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), ['train-run', runs[1].runDir]);
    const threads = runScript(script.replace(/^exec .*$/m, 'echo "$L3M_THREADS"'), {
      SLURM_ARRAY_TASK_ID: '0',
      SLURM_CPUS_PER_TASK: '3',
    });
    assert.equal(threads.stdout.trim(), '3');

    const outside = runScript(script, { SLURM_ARRAY_TASK_ID: '3', SLURM_JOB_ID: '42' });
    assert.equal(outside.status, 2);
    assert.match(outside.stderr, /array task 3 of job 42 has no run in this script \(tasks 0 to 2\)/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a run folder the job cannot write fails the job with the folder in the message, before the sidecar starts', () => {
  const folder = mkdtempSync(join(tmpdir(), 'l3m-runs-'));
  try {
    const missing = join(folder, 'not on this node', 'run');
    const script = jobScript({
      sweepId: 's-20250101-000000-abcd',
      runs: [{ index: 0, runDir: missing }],
      array: false,
      options: noOptions,
      logDir: folder,
      sidecarCommand: printArgs,
    });
    const result = runScript(script, { SLURM_JOB_ID: '5' });
    assert.equal(result.status, unwritableRunExitCode);
    assert.equal(result.stdout, '', 'the sidecar must not start');
    assert.ok(result.stderr.includes(`the run folder ${missing} is not writable from the compute node`), result.stderr);
    assert.match(result.stderr, /set slurm\.shared_dir/);

    // A folder that exists but is read-only says the same (root writes anywhere, so only when not root).
    if (process.getuid?.() !== 0) {
      const readOnly = join(folder, 'ro');
      mkdirSync(readOnly);
      chmodSync(readOnly, 0o555);
      const denied = runScript(script.replace(shellQuote(missing), shellQuote(readOnly)), { SLURM_JOB_ID: '5' });
      assert.equal(denied.status, unwritableRunExitCode);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('slurmOptionsOf keeps well-typed fields and refuses values that would break their #SBATCH line', () => {
  assert.deepEqual(slurmOptionsOf({ partition: 'p', cpus_per_task: 2, array: false, extra: ['--x=1'], junk: 1 }, 'f'), {
    array: false,
    extra: ['--x=1'],
    shared_dir: null,
    partition: 'p',
    cpus_per_task: 2,
  });
  assert.deepEqual(slurmOptionsOf(undefined, 'f'), noOptions);
  assert.throws(
    () => slurmOptionsOf({ extra: ['--qos=a\n#SBATCH --account=b'] }, '/s/sweep.json'),
    /\/s\/sweep\.json: slurm\.extra\[0\] holds a line break/,
  );
  assert.throws(() => slurmOptionsOf({ partition: 'a\nb' }, 'f'), /slurm\.partition holds a line break/);
  assert.throws(
    () => slurmOptionsOf({ extra: ['qos=normal'] }, 'f'),
    /slurm\.extra\[0\] is "qos=normal", which is not an sbatch option/,
  );
  assert.throws(() => slurmOptionsOf({ cpus_per_task: 0 }, 'f'), /slurm\.cpus_per_task is 0/);
});

test('mergeSlurmOptions: the sweep file over the settings, extra lines from both', () => {
  const merged = mergeSlurmOptions(
    { partition: 'default', account: 'mine', extra: ['--qos=a'], shared_dir: '/mnt/runs' },
    { ...noOptions, partition: 'gpu', extra: ['--exclusive'] },
  );
  assert.deepEqual(merged, {
    array: true,
    extra: ['--qos=a', '--exclusive'],
    shared_dir: '/mnt/runs',
    partition: 'gpu',
    account: 'mine',
  });
});

test('logFile names the log sbatch wrote for a job and for an array task', () => {
  assert.equal(logFile('/l', '12', undefined, 'err'), '/l/12.err');
  assert.equal(logFile('/l', '12', 3, 'out'), '/l/12_3.out');
});

test('slurmDefaultsOf reads the l3m.slurm setting: its well-typed fields, no array choice, and the same line checks', () => {
  assert.deepEqual(
    slurmDefaultsOf({ partition: 'gpu', account: '', array: false, extra: ['--qos=low', 3], cpus_per_task: '2' }, 's'),
    { partition: 'gpu', extra: ['--qos=low'] },
  );
  assert.deepEqual(slurmDefaultsOf('not an object', 's'), {});
  assert.throws(
    () => slurmDefaultsOf({ account: 'a\nb' }, 'The l3m.slurm setting'),
    /^Error: The l3m\.slurm setting: slurm\.account holds a line break/,
  );
});
