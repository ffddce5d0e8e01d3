// The sweep folder format (sidecar/protocol/sweep_folder.ts): sweep.json and state.json parsed
// tolerantly (what readers need must be there; descriptive fields default), run folders confined to
// the runs folder, the listing of sweeps, and the summary by state with each failure's reason; and
// run.json's sweep fields, a malformed one dropped rather than making the run unreadable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunRecord, type RunRecord } from '../../sidecar/protocol/run_folder';
import {
  listSweeps,
  parseSweepFile,
  parseSweepState,
  sweepSummary,
  type SweepFile,
} from '../../sidecar/protocol/sweep_folder';

const sweepJson = (overrides: Record<string, unknown> = {}) => ({
  id: 'table4-20260101-120000-ab12',
  name: 'table4',
  sweepPath: '/work/table4.l3m-sweep.json',
  createdAt: '2026-01-01T12:00:00.000Z',
  executor: 'local',
  groupBy: ['setup'],
  repeats: 2,
  sweepSeed: 0,
  runs: [
    {
      index: 0,
      runDir: 'gen/20260101-120000-0001',
      group: 'setup=full',
      setup: 'full',
      repeat: 0,
      seed: 11,
      overrides: { 'backbone.finetune': 'full' },
    },
    {
      index: 1,
      runDir: 'gen/20260101-120000-0002',
      group: 'setup=full',
      setup: 'full',
      repeat: 1,
      seed: 12,
      overrides: {},
    },
  ],
  version: '0.1.0',
  ...overrides,
});

function check(name: string, text: string, expected: RegExp | ((sweep: SweepFile) => void)): void {
  test(`sweep.json: ${name}`, () => {
    const parsed = parseSweepFile(text);
    if (expected instanceof RegExp) {
      assert.ok('error' in parsed, `expected an error, got ${JSON.stringify(parsed)}`);
      assert.match(parsed.error, expected);
    } else {
      assert.ok('sweep' in parsed, JSON.stringify(parsed));
      expected(parsed.sweep);
    }
  });
}

check('a complete file reads back as written', JSON.stringify(sweepJson()), (sweep) =>
  assert.deepEqual(sweep, sweepJson()),
);
check('not JSON', '{"id": ', /sweep\.json is not valid JSON/);
check('an array', '[]', /does not hold an object/);
check('an id that is no sweep id', JSON.stringify(sweepJson({ id: '../etc' })), /no valid "id".*"\.\.\/etc"/);
check(
  'an unknown executor',
  JSON.stringify(sweepJson({ executor: 'pbs' })),
  /executor "pbs"; expected "local" or "slurm"/,
);
check('no runs', JSON.stringify(sweepJson({ runs: undefined })), /lacks the "runs" array/);
check(
  'a run folder that leaves the runs folder',
  JSON.stringify(sweepJson({ runs: [{ ...sweepJson().runs[0], runDir: '../../home/x' }] })),
  /runs\[0\]\.runDir must be "<experiment>\/<run-id>" inside the runs folder, got "\.\.\/\.\.\/home\/x"/,
);
check(
  'an absolute run folder',
  JSON.stringify(sweepJson({ runs: [{ ...sweepJson().runs[0], runDir: '/tmp/gen/x' }] })),
  /runs\[0\]\.runDir must be/,
);
check(
  'a run index given twice',
  JSON.stringify(sweepJson({ runs: [sweepJson().runs[0], { ...sweepJson().runs[1], index: 0 }] })),
  /lists a run index twice/,
);
check(
  'a seed that is not a count',
  JSON.stringify(sweepJson({ runs: [{ ...sweepJson().runs[0], seed: -1 }] })),
  /runs\[0\]\.seed/,
);
check(
  'descriptive fields missing take neutral values',
  JSON.stringify({ id: 'a-20260101-120000-ab12', executor: 'slurm', runs: [] }),
  (sweep) => {
    assert.equal(sweep.name, 'a-20260101-120000-ab12');
    assert.deepEqual(sweep.groupBy, []);
    assert.equal(sweep.repeats, 1);
    assert.equal(sweep.executor, 'slurm');
    assert.equal(sweep.local, undefined);
  },
);

test('state.json: fields of the wrong shape are dropped, the rest kept', () => {
  const parsed = parseSweepState(
    JSON.stringify({
      cancelled: 'yes',
      submissions: [
        { at: 't', jobIds: ['12'], runIndexes: [0, 1] },
        { at: 't', jobIds: [12], runIndexes: [] },
      ],
      runner: { pid: 10, host: 'h', startedAt: 't', processIdentity: { pid: 10, startTime: 'x', commandLine: [] } },
    }),
  );
  assert.ok('state' in parsed);
  assert.deepEqual(parsed.state, {
    submissions: [{ at: 't', jobIds: ['12'], runIndexes: [0, 1] }],
    runner: { pid: 10, host: 'h', startedAt: 't' },
  });
  assert.match((parseSweepState('nope') as { error: string }).error, /state\.json is not valid JSON/);
});

test('run.json: seed, sweep and executor read back; a malformed one is dropped and the run stays readable', () => {
  const base = { id: 'r', experiment: 'e', task: 'regression', status: 'queued', createdAt: 't', version: '0.1.0' };
  const good = {
    ...base,
    seed: 7,
    sweep: { id: 's-20260101-120000-ab12', index: 3, group: 'setup=a', setup: 'a', repeat: 1 },
    executor: { kind: 'slurm', jobId: '42', arrayTaskId: 3, lastState: 'RUNNING' },
  };
  const parsed = parseRunRecord(JSON.stringify(good));
  assert.ok('record' in parsed);
  assert.deepEqual(parsed.record, good);
  const bad = parseRunRecord(
    JSON.stringify({ ...base, seed: 1.5, sweep: { id: 's', index: -1 }, executor: { kind: 'slurm' } }),
  );
  assert.ok('record' in bad, JSON.stringify(bad));
  assert.deepEqual(bad.record, base);
  const local = parseRunRecord(
    JSON.stringify({ ...base, executor: { kind: 'local' }, sweep: { ...good.sweep, setup: null } }),
  );
  assert.ok('record' in local);
  assert.deepEqual(local.record.executor, { kind: 'local' });
  assert.equal(local.record.sweep?.setup, null);
});

function writeRun(runsDir: string, relative: string, record: Partial<RunRecord> | string): void {
  const dir = join(runsDir, relative);
  mkdirSync(dir, { recursive: true });
  const [experiment, id] = relative.split('/');
  const text =
    typeof record === 'string'
      ? record
      : JSON.stringify({ id, experiment, task: 'regression', createdAt: 't', version: '0.1.0', ...record });
  writeFileSync(join(dir, 'run.json'), text);
}

test('listSweeps and sweepSummary: runs by state, and each failure, lost process and unreadable run with its reason', async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-sweeps-'));
  const run = (index: number) => ({
    index,
    runDir: `gen/20260101-120000-000${index}`,
    group: 'g',
    setup: null,
    repeat: index,
    seed: index,
    overrides: {},
  });
  const sweep = sweepJson({ runs: [0, 1, 2, 3, 4, 5, 6].map(run) });
  const sweepDir = join(runsDir, '.sweeps', sweep.id);
  mkdirSync(sweepDir, { recursive: true });
  writeFileSync(join(sweepDir, 'sweep.json'), JSON.stringify(sweep));
  const older = join(runsDir, '.sweeps', 'old-20251231-000000-0000');
  mkdirSync(older);
  writeFileSync(
    join(older, 'sweep.json'),
    JSON.stringify(sweepJson({ id: 'old-20251231-000000-0000', createdAt: '2025-12-31T00:00:00.000Z', runs: [] })),
  );
  mkdirSync(join(runsDir, '.sweeps', 'broken-20260102-000000-0000'));

  writeRun(runsDir, run(0).runDir, { status: 'completed' });
  writeRun(runsDir, run(1).runDir, { status: 'failed', error: { message: 'Loss became NaN at step 3', exitCode: 3 } });
  writeRun(runsDir, run(2).runDir, { status: 'cancelled' });
  writeRun(runsDir, run(3).runDir, { status: 'queued' });
  // A run whose process is gone: this test's pid with another start time is no longer the same process.
  writeRun(runsDir, run(4).runDir, {
    status: 'running',
    pid: process.pid,
    host: hostname(),
    processIdentity: { pid: process.pid, startTime: 1, commandLine: ['node', 'gone'] },
  });
  writeRun(runsDir, run(5).runDir, '{ torn');
  // run 6 has no folder at all.

  const listings = await listSweeps(runsDir);
  assert.deepEqual(
    listings.map((l) => [l.kind, l.sweepDir.split('/').pop()]),
    [
      ['unreadable', 'broken-20260102-000000-0000'],
      ['sweep', 'old-20251231-000000-0000'],
      ['sweep', sweep.id],
    ],
  );
  assert.match((listings[0] as { reason: string }).reason, /no sweep\.json/);
  const listing = listings[2];
  assert.ok(listing.kind === 'sweep');
  const summary = await sweepSummary(runsDir, listing.sweep);
  assert.equal(summary.total, 7);
  assert.deepEqual(summary.byStatus, { queued: 1, running: 1, completed: 1, failed: 1, cancelled: 1 });
  assert.equal(summary.stale, 1);
  assert.equal(summary.unreadable, 2);
  assert.equal(summary.ended, false, 'run 3 is still queued');
  assert.deepEqual(
    summary.failures.map((f) => f.index),
    [1, 4, 5, 6],
  );
  assert.equal(summary.failures[0].message, 'Loss became NaN at step 3 (exit code 3)');
  assert.match(summary.failures[1].message, /says "running" but its process \d+ is gone; resume the sweep/);
  assert.match(summary.failures[2].message, /run\.json is not valid JSON/);
  assert.match(summary.failures[3].message, /no run\.json/);
  assert.deepEqual(await listSweeps(join(runsDir, 'nowhere')), []);
  rmSync(runsDir, { recursive: true, force: true });
});
