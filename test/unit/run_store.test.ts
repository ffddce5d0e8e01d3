import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import {
  appendMetrics,
  createRun,
  experimentNameOf,
  failRun,
  IllegalTransitionError,
  listRuns,
  packageVersion,
  readMetrics,
  readRun,
  updateRun,
} from '../../sidecar/runs/run_store';
import { allowedTransitions, type RunStatus } from '../../sidecar/protocol/run_folder';

async function withRunsDir(body: (runsDir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-runs-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('createRun writes config.json and a queued run.json, and nothing else', () =>
  withRunsDir(async (runsDir) => {
    const now = new Date('2026-01-02T03:04:05Z');
    const run = await createRun({
      runsDir,
      experiment: 'quick',
      task: 'regression',
      config: { a: 1 },
      configPath: '/x/quick.l3m.json',
      now,
    });
    assert.match(run.runId, /^20260102-030405-[0-9a-f]{4}$/);
    assert.equal(run.runDir, join(runsDir, 'quick', run.runId));
    assert.deepEqual(readdirSync(run.runDir).sort(), ['config.json', 'run.json']);
    assert.deepEqual(JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8')), { a: 1 });
    const record = await readRun(run.runDir);
    assert.equal(record.status, 'queued');
    assert.equal(record.experiment, 'quick');
    assert.equal(record.createdAt, now.toISOString());
    assert.equal(record.pid, process.pid);
    assert.equal(record.version, packageVersion);
  }));

test('the recorded package version matches package.json', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(packageVersion, pkg.version);
});

test('two runs created in the same second get different ids', () =>
  withRunsDir(async (runsDir) => {
    const now = new Date('2026-01-02T03:04:05Z');
    const runs = await Promise.all(
      [1, 2, 3, 4, 5].map(() => createRun({ runsDir, experiment: 'e', task: 'generation', config: {}, now })),
    );
    assert.equal(new Set(runs.map((r) => r.runId)).size, 5);
  }));

test('status transitions: the allowed ones pass and keep times consistent', () =>
  withRunsDir(async (runsDir) => {
    const { runDir } = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {} });
    const running = await updateRun(
      runDir,
      { status: 'running', device: { backend: 'cpu', device: 'cpu' } },
      new Date('2026-01-01T00:00:00Z'),
    );
    assert.equal(running.startedAt, '2026-01-01T00:00:00.000Z');
    const progressed = await updateRun(runDir, { progress: { step: 5, totalSteps: 10, epoch: 0 } });
    assert.equal(progressed.status, 'running');
    assert.deepEqual(progressed.device, { backend: 'cpu', device: 'cpu' });
    const cancelled = await updateRun(runDir, { status: 'cancelled' }, new Date('2026-01-01T00:01:00Z'));
    assert.equal(cancelled.endedAt, '2026-01-01T00:01:00.000Z');
    const resumed = await updateRun(runDir, { status: 'running' }, new Date('2026-01-01T00:02:00Z'));
    assert.equal(resumed.startedAt, '2026-01-01T00:00:00.000Z', 'a resume keeps the first start time');
    assert.equal(resumed.endedAt, undefined);
    const failed = await failRun(runDir, 'sidecar died', { exitCode: 137 });
    assert.deepEqual(failed.error, { message: 'sidecar died', exitCode: 137 });
    assert.deepEqual((await readRun(runDir)).error, { message: 'sidecar died', exitCode: 137 });
    const again = await updateRun(runDir, { status: 'running' });
    assert.equal(again.error, undefined, 'a resumed run loses the old error');
    await updateRun(runDir, { status: 'completed' });
  }));

test('every illegal transition throws naming both states, and run.json stays as it was', () =>
  withRunsDir(async (runsDir) => {
    const statuses = Object.keys(allowedTransitions) as RunStatus[];
    for (const from of statuses) {
      for (const to of statuses) {
        if (from === to || allowedTransitions[from].includes(to)) continue;
        const { runDir } = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {} });
        // Walk to `from` along allowed edges.
        const path: Record<RunStatus, RunStatus[]> = {
          queued: [],
          running: ['running'],
          completed: ['running', 'completed'],
          failed: ['failed'],
          cancelled: ['cancelled'],
        };
        for (const step of path[from]) await updateRun(runDir, { status: step });
        const before = readFileSync(join(runDir, 'run.json'), 'utf8');
        await assert.rejects(updateRun(runDir, { status: to }), (error: unknown) => {
          assert.ok(error instanceof IllegalTransitionError);
          assert.match(error.message, new RegExp(`from "${from}" to "${to}"`));
          return true;
        });
        assert.equal(readFileSync(join(runDir, 'run.json'), 'utf8'), before);
      }
    }
  }));

test('appendMetrics appends lines, writes non-finite values as null, and reads back', () =>
  withRunsDir(async (runsDir) => {
    const { runDir } = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {} });
    await appendMetrics(runDir, [{ step: 1, epoch: 0, wall_time: 0.5, split: 'train', loss: 2.5 }]);
    await appendMetrics(runDir, [
      { step: 2, epoch: 0, wall_time: 1, split: 'train', loss: Number.NaN },
      { step: 2, epoch: 0, wall_time: 1, split: 'val', loss: Number.POSITIVE_INFINITY, nll: 1 },
    ]);
    await appendMetrics(runDir, []);
    const text = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
    assert.equal(text.trim().split('\n').length, 3);
    const { records, problems } = await readMetrics(runDir);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      records.map((r) => r.loss),
      [2.5, null, null],
    );
    assert.equal(records[2].nll, 1);
  }));

test('a corrupt run.json is listed as unreadable with its reason and the other runs are unaffected', () =>
  withRunsDir(async (runsDir) => {
    const good = await createRun({ runsDir, experiment: 'alpha', task: 'regression', config: {} });
    const bad = await createRun({ runsDir, experiment: 'alpha', task: 'regression', config: {} });
    const other = await createRun({ runsDir, experiment: 'beta', task: 'generation', config: {} });
    writeFileSync(join(bad.runDir, 'run.json'), '{"id": "x", "status": ');
    mkdirSync(join(runsDir, 'beta', '20260101-000000-0000'));
    writeFileSync(join(runsDir, 'beta', 'notes.txt'), 'not a run');
    mkdirSync(join(runsDir, 'beta', '.tmp-partial'));
    const wrongStatus = await createRun({ runsDir, experiment: 'beta', task: 'generation', config: {} });
    writeFileSync(
      join(wrongStatus.runDir, 'run.json'),
      JSON.stringify({ ...(await readRun(other.runDir)), status: 'exploded' }),
    );

    const listing = await listRuns(runsDir);
    assert.equal(listing.length, 5);
    const byId = new Map(listing.map((l) => [l.runId, l]));
    const badListing = byId.get(bad.runId);
    assert.equal(badListing?.kind, 'unreadable');
    assert.match(badListing?.kind === 'unreadable' ? badListing.reason : '', /not valid JSON/);
    const wrong = byId.get(wrongStatus.runId);
    assert.match(wrong?.kind === 'unreadable' ? wrong.reason : '', /unknown status "exploded"/);
    const empty = byId.get('20260101-000000-0000');
    assert.match(empty?.kind === 'unreadable' ? empty.reason : '', /no run\.json/);
    for (const ok of [good, other]) {
      const l = byId.get(ok.runId);
      assert.equal(l?.kind, 'run');
      assert.equal(l?.kind === 'run' ? l.displayStatus : '', 'queued');
    }
    assert.deepEqual(
      listing.map((l) => l.experiment),
      ['alpha', 'alpha', 'beta', 'beta', 'beta'],
    );
    // Writers on the good run still work.
    await updateRun(good.runDir, { status: 'running' });
  }));

test('a running run whose process is dead is listed as stale', () =>
  withRunsDir(async (runsDir) => {
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    const dead = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {} });
    await updateRun(dead.runDir, { status: 'running', pid: deadPid });
    const live = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {} });
    await updateRun(live.runDir, { status: 'running' });
    const elsewhere = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {} });
    await updateRun(elsewhere.runDir, { status: 'running', pid: deadPid, host: 'cluster-node-17' });
    const finished = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {} });
    await updateRun(finished.runDir, { status: 'running', pid: deadPid });
    await updateRun(finished.runDir, { status: 'completed' });

    const status = new Map(
      (await listRuns(runsDir)).map((l) => [l.runDir, l.kind === 'run' ? l.displayStatus : 'unreadable']),
    );
    assert.equal(status.get(dead.runDir), 'stale');
    assert.equal(status.get(live.runDir), 'running');
    assert.equal(status.get(elsewhere.runDir), 'running', 'a run on another host cannot be checked');
    assert.equal(status.get(finished.runDir), 'completed');
  }));

test('experiment names: taken from the config file name, unsafe ones refused', () =>
  withRunsDir(async (runsDir) => {
    assert.equal(experimentNameOf('/w/examples/quickstart-regression.l3m.json'), 'quickstart-regression');
    for (const name of ['', '..', 'a/b', '.hidden']) {
      await assert.rejects(
        createRun({ runsDir, experiment: name, task: 'regression', config: {} }),
        /cannot be a folder name/,
      );
    }
    assert.deepEqual(await listRuns(join(runsDir, 'missing')), []);
  }));
