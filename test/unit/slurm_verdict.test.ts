// What the Slurm executor writes to a run given Slurm's word on its job, and the parsing of squeue and
// scontrol output it reads that word from (the formats of Slurm 22.05, as its commands print them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeOf, isActiveJobState, slurmVerdict, type VerdictInput } from '../../sidecar/sweeps/slurm_verdict';
import { parseJobDetail, parseSqueue } from '../../sidecar/sweeps/slurm_commands';

const base: VerdictInput = { jobKey: '12_3', status: 'running', job: null };

test('a job Slurm may still run leaves the run to its process, whatever run.json says', () => {
  for (const state of ['PENDING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'CONFIGURING', 'SOME_NEW_STATE']) {
    for (const status of ['queued', 'running', 'cancelled', 'failed', 'completed'] as const) {
      assert.deepEqual(
        slurmVerdict({ ...base, status, job: { state, reason: 'None' } }),
        { action: 'none' },
        `${state} ${status}`,
      );
    }
  }
  assert.equal(isActiveJobState('NODE_FAIL'), false);
  assert.equal(isActiveJobState('PENDING'), true);
});

test("a job that died with its node fails the running run, with Slurm's state, reason and the log", () => {
  const verdict = slurmVerdict({
    ...base,
    job: { state: 'NODE_FAIL', reason: 'NodeDown', exitCode: '0:0' },
    logPath: '/runs/.sweeps/s/slurm/12_3.err',
    logTail: 'epoch 1 step 40',
  });
  assert.deepEqual(verdict, {
    action: 'end',
    status: 'failed',
    state: 'NODE_FAIL',
    message:
      'Slurm job 12_3 ended NODE_FAIL, reason NodeDown while the run was running; resume the sweep to run it again from its last checkpoint. Its log /runs/.sweeps/s/slurm/12_3.err ends:\nepoch 1 step 40',
  });
});

test('a job that failed before the run started carries the exit code and what the job script said', () => {
  const verdict = slurmVerdict({
    ...base,
    status: 'queued',
    job: { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' },
    logPath: '/l/12_3.err',
    logTail: 'L3M Studio: the run folder /x/run is not writable from the compute node n1 as user u.',
  });
  assert.equal(verdict.action, 'end');
  if (verdict.action !== 'end') return;
  assert.equal(verdict.status, 'failed');
  assert.equal(verdict.exitCode, 3);
  assert.match(
    verdict.message,
    /^Slurm job 12_3 ended FAILED, reason NonZeroExitCode, exit code 3:0 before the run started/,
  );
  assert.match(verdict.message, /the run folder \/x\/run is not writable/);
});

test('cancelled or timed out: a queued run is cancelled; a running one that was killed before recording its end too', () => {
  const queued = slurmVerdict({ ...base, status: 'queued', job: { state: 'CANCELLED', reason: 'None' } });
  assert.deepEqual(queued, {
    action: 'end',
    status: 'cancelled',
    state: 'CANCELLED',
    message: 'Slurm job 12_3 ended CANCELLED before the run started; resume the sweep to run it',
  });
  const killed = slurmVerdict({ ...base, job: { state: 'TIMEOUT', reason: 'TimeLimit', exitCode: '0:9' } });
  assert.equal(killed.action, 'end');
  if (killed.action !== 'end') return;
  assert.equal(killed.status, 'cancelled');
  assert.match(
    killed.message,
    /ended TIMEOUT, reason TimeLimit, exit code 0:9, and the run did not record its end before Slurm killed it/,
  );
});

test('a job Slurm forgot fails its run with what was last seen, or says it was never seen', () => {
  const seen = slurmVerdict({
    ...base,
    lastSeen: { state: 'RUNNING', reason: 'None', seen: '2025-01-01T10:00:00.000Z' },
  });
  assert.equal(seen.action, 'end');
  if (seen.action !== 'end') return;
  assert.equal(seen.status, 'failed');
  assert.equal(seen.state, 'UNKNOWN');
  assert.match(
    seen.message,
    /^Slurm no longer knows job 12_3 .*; it was last seen RUNNING at 2025-01-01T10:00:00\.000Z while the run was running/,
  );
  const never = slurmVerdict({ ...base, status: 'queued' });
  assert.equal(never.action, 'end');
  if (never.action !== 'end') return;
  assert.match(never.message, /L3M Studio never saw it in the queue before the run started/);
});

test("a run that ended itself only gets Slurm's final state recorded, once", () => {
  assert.deepEqual(slurmVerdict({ ...base, status: 'completed', job: { state: 'COMPLETED', reason: 'None' } }), {
    action: 'record',
    state: 'COMPLETED',
  });
  assert.deepEqual(
    slurmVerdict({
      ...base,
      status: 'completed',
      recordedState: 'COMPLETED',
      job: { state: 'COMPLETED', reason: 'None' },
    }),
    { action: 'none' },
  );
  // Cancelled by scancel, after the run had taken it up under this job (it ended after the submission).
  assert.deepEqual(
    slurmVerdict({
      ...base,
      status: 'cancelled',
      endedAt: '2025-01-01T10:05:00.000Z',
      submittedAt: '2025-01-01T10:00:00.000Z',
      job: { state: 'CANCELLED', reason: 'None' },
    }),
    { action: 'record', state: 'CANCELLED' },
  );
});

test('a resubmitted run whose new job ended before taking it up says so, and stays resumable', () => {
  const verdict = slurmVerdict({
    ...base,
    status: 'cancelled',
    endedAt: '2025-01-01T09:00:00.000Z',
    submittedAt: '2025-01-01T10:00:00.000Z',
    job: { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' },
  });
  assert.equal(verdict.action, 'record');
  if (verdict.action !== 'record') return;
  assert.equal(verdict.state, 'FAILED');
  assert.match(
    verdict.message ?? '',
    /^Resubmitted, but Slurm job 12_3 ended FAILED.* before the run started; resume the sweep again/,
  );
});

test('exitCodeOf reads scontrol\'s "<code>:<signal>"', () => {
  assert.equal(exitCodeOf('3:0'), 3);
  assert.equal(exitCodeOf('0:15'), 0);
  assert.equal(exitCodeOf(''), undefined);
  assert.equal(exitCodeOf(undefined), undefined);
});

test('parseSqueue and parseJobDetail read the fields of squeue -o "%i|%T|%r" and scontrol -o show job', () => {
  assert.deepEqual(parseSqueue('12_0|COMPLETED|None\n12_1|PENDING|JobHeldUser\n\n13|NODE_FAIL|NodeDown\n'), [
    { key: '12_0', state: 'COMPLETED', reason: 'None' },
    { key: '12_1', state: 'PENDING', reason: 'JobHeldUser' },
    { key: '13', state: 'NODE_FAIL', reason: 'NodeDown' },
  ]);
  const line =
    'JobId=4 ArrayJobId=2 ArrayTaskId=2 JobName=x UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ' +
    'ExitCode=3:0 RunTime=00:00:01 StdErr=/tmp/a b/2_2.err StdIn=/dev/null';
  assert.deepEqual(parseJobDetail(line), { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' });
  assert.equal(parseJobDetail('slurm_load_jobs error: Invalid job id specified'), null);
});
