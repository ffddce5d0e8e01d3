// The server's run queue over the protocol, client and server on in-memory streams (docs/conventions.md#protocol-tests).
// The training job here is a minimal one that honours the contract of TrainingJobs (sidecar/rpc/run_queue.ts)
// (it writes run.json through the real run store and stops on the abort signal), with a gate the test
// opens; it checks the queue's behaviour — one run at a time, queued status, cancel, failure recording —
// and says nothing about training itself, which has its own tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import * as protocol from '../../sidecar/protocol/messages';
import type { TrainingJobs } from '../../sidecar/rpc/run_queue';
import { inMemoryServer } from './in_memory_server';
import { createRun, experimentNameOf, readRun, updateRun } from '../../sidecar/runs/run_store';

function gatedEngine() {
  const gates = new Map<string, () => void>();
  const started: string[] = [];
  const engine: TrainingJobs = {
    async prepareRun(configPath, runsDir) {
      if (configPath.includes('invalid')) {
        throw Object.assign(new Error(`Config ${configPath} has 1 error.`), {
          name: 'ConfigInvalidError',
          file: configPath,
          diagnostics: [
            {
              range: { start: { line: 1, character: 2 }, end: { line: 1, character: 9 } },
              severity: 1,
              message: 'bad',
            },
          ],
        });
      }
      const { runId, runDir } = await createRun({
        runsDir,
        experiment: experimentNameOf(configPath),
        task: 'regression',
        config: { configPath },
      });
      return { runId, runDir };
    },
    async runTraining({ runDir, signal, events }) {
      await updateRun(runDir, { status: 'running' });
      started.push(runDir);
      events.progress({
        runDir,
        step: 1,
        totalSteps: 2,
        epoch: 0,
        loss: 1.5,
        lr: 1e-3,
        stepsPerSecond: 10,
        etaSeconds: 0.1,
      });
      const released = new Promise<void>((res) => gates.set(runDir, res));
      const aborted = new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
      await Promise.race([released, aborted]);
      if (runDir.includes('explode')) throw new Error('NaN loss at step 2 (last finite loss 1.5)');
      if (signal.aborted) {
        await updateRun(runDir, { status: 'cancelled' });
        return 'cancelled';
      }
      events.metrics([{ step: 2, epoch: 0, wall_time: 0.2, split: 'train', loss: 1.2 }]);
      await updateRun(runDir, { status: 'completed', progress: { step: 2, totalSteps: 2, epoch: 0 } });
      return 'completed';
    },
  };
  return { engine, started, release: (runDir: string) => gates.get(runDir)?.() };
}

function connect(engine: TrainingJobs) {
  const { client, server, close } = inMemoryServer({ trainingJobs: engine });
  const states: protocol.RunStateParams[] = [];
  const waiters: { match: (s: protocol.RunStateParams) => boolean; resolve: (s: protocol.RunStateParams) => void }[] =
    [];
  client.onNotification(protocol.runState, (s) => {
    states.push(s);
    for (const w of [...waiters])
      if (w.match(s)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(s);
      }
  });
  const progress: protocol.ProgressParams[] = [];
  const progressWaiters: { runDir: string; count: number; resolve: () => void }[] = [];
  const progressCount = (runDir: string) => progress.filter((p) => p.runDir === runDir).length;
  client.onNotification(protocol.progress, (p) => {
    progress.push(p);
    for (const w of [...progressWaiters])
      if (progressCount(w.runDir) >= w.count) {
        progressWaiters.splice(progressWaiters.indexOf(w), 1);
        w.resolve();
      }
  });
  /** Resolves once the engine reported progress `count` times for the run (it is inside runTraining). */
  const waitForProgress = (runDir: string, count = 1) =>
    progressCount(runDir) >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => progressWaiters.push({ runDir, count, resolve }));
  client.listen();
  const waitForState = (runDir: string, kind: protocol.RunStateParams['kind']) => {
    const found = states.find((s) => s.runDir === runDir && s.kind === kind);
    if (found) return Promise.resolve(found);
    return new Promise<protocol.RunStateParams>((resolve) =>
      waiters.push({ match: (s) => s.runDir === runDir && s.kind === kind, resolve }),
    );
  };
  return { client, server, states, progress, waitForState, waitForProgress, close };
}

test('one run at a time: the second is queued, then runs when the first completes', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-queue-'));
  const { engine, started, release } = gatedEngine();
  const c = connect(engine);
  t.after(() => {
    c.close();
    rmSync(runsDir, { recursive: true, force: true });
  });

  const first = await c.client.sendRequest(protocol.startRun, { configPath: '/w/alpha.l3m.json', runsDir });
  const second = await c.client.sendRequest(protocol.startRun, { configPath: '/w/beta.l3m.json', runsDir });
  assert.equal(second.status, 'queued');
  await c.waitForState(first.runDir, 'running');
  await c.waitForProgress(first.runDir);
  assert.deepEqual(await c.client.sendRequest(protocol.status), {
    active: { runDir: first.runDir, status: 'running' },
    queued: [second.runDir],
  });
  assert.equal((await readRun(second.runDir)).status, 'queued', 'a waiting run is queued in run.json');
  assert.deepEqual(started, [first.runDir]);

  release(first.runDir);
  const done = await c.waitForState(first.runDir, 'completed');
  assert.equal(done.record.status, 'completed');
  await c.waitForProgress(second.runDir);
  assert.deepEqual(started, [first.runDir, second.runDir]);
  release(second.runDir);
  await c.waitForState(second.runDir, 'completed');
  assert.ok(c.progress.some((p) => p.runDir === first.runDir && p.step === 1));
  assert.deepEqual(await c.client.sendRequest(protocol.status), { active: null, queued: [] });
});

test('cancel: a queued run is cancelled at once, the running one stops via its signal and can be resumed', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-queue-'));
  const { engine, release } = gatedEngine();
  const c = connect(engine);
  t.after(() => {
    c.close();
    rmSync(runsDir, { recursive: true, force: true });
  });

  const running = await c.client.sendRequest(protocol.startRun, { configPath: '/w/alpha.l3m.json', runsDir });
  const waiting = await c.client.sendRequest(protocol.startRun, { configPath: '/w/beta.l3m.json', runsDir });
  await c.waitForProgress(running.runDir);
  assert.deepEqual(await c.client.sendRequest(protocol.cancelRun, { runDir: waiting.runDir }), { status: 'cancelled' });
  assert.equal((await readRun(waiting.runDir)).status, 'cancelled');
  assert.deepEqual(await c.client.sendRequest(protocol.cancelRun, { runDir: running.runDir }), { status: 'cancelled' });
  await c.waitForState(running.runDir, 'cancelled');

  // A completed run cannot be resumed; a cancelled one can.
  const resumed = await c.client.sendRequest(protocol.resumeRun, { runDir: running.runDir });
  assert.equal(resumed.runId, running.runId);
  await c.waitForProgress(running.runDir, 2);
  release(running.runDir);
  await c.waitForState(running.runDir, 'completed');
  await assert.rejects(c.client.sendRequest(protocol.resumeRun, { runDir: running.runDir }), (e: unknown) => {
    assert.ok(e instanceof ResponseError);
    assert.equal(e.code, protocol.ErrorCodes.runStateConflict);
    assert.match(e.message, /is "completed"; only a cancelled or failed run can be resumed/);
    return true;
  });
});

test('an engine failure is recorded in run.json and announced; an invalid config carries its diagnostics', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-queue-'));
  const { engine, release } = gatedEngine();
  const c = connect(engine);
  t.after(() => {
    c.close();
    rmSync(runsDir, { recursive: true, force: true });
  });

  const run = await c.client.sendRequest(protocol.startRun, { configPath: '/w/explode.l3m.json', runsDir });
  await c.waitForProgress(run.runDir);
  release(run.runDir);
  const failed = await c.waitForState(run.runDir, 'failed');
  assert.equal(failed.kind === 'failed' ? failed.message : '', 'NaN loss at step 2 (last finite loss 1.5)');
  const record = await readRun(run.runDir);
  assert.equal(record.status, 'failed');
  assert.equal(record.error?.message, 'NaN loss at step 2 (last finite loss 1.5)');

  await assert.rejects(
    c.client.sendRequest(protocol.startRun, { configPath: '/w/invalid.l3m.json', runsDir }),
    (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, protocol.ErrorCodes.configInvalid);
      const data = e.data as protocol.ConfigErrorData;
      assert.equal(data.kind, 'config-invalid');
      // The validator's LSP diagnostics (0-based) arrive 1-based, as a terminal prints them.
      assert.deepEqual(data.diagnostics[0], { line: 2, column: 3, severity: 'error', message: 'bad', path: '' });
      return true;
    },
  );
});

test('one run is one entry however its folder is spelled: a trailing slash or a symlink does not queue it twice', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-queue-'));
  const { engine, started, release } = gatedEngine();
  const c = connect(engine);
  t.after(() => {
    c.close();
    rmSync(runsDir, { recursive: true, force: true });
  });

  // beta keeps the queue busy, so that the resumed alpha waits in it.
  const alpha = await c.client.sendRequest(protocol.startRun, { configPath: '/w/alpha.l3m.json', runsDir });
  await c.waitForProgress(alpha.runDir);
  await c.client.sendRequest(protocol.cancelRun, { runDir: alpha.runDir });
  const beta = await c.client.sendRequest(protocol.startRun, { configPath: '/w/beta.l3m.json', runsDir });
  await c.waitForProgress(beta.runDir);

  assert.equal((await c.client.sendRequest(protocol.resumeRun, { runDir: alpha.runDir })).status, 'queued');
  const link = join(runsDir, 'alpha-link');
  symlinkSync(alpha.runDir, link);
  for (const spelling of [
    `${alpha.runDir}/`,
    `${alpha.runDir}//`,
    join(alpha.runDir, '..', basename(alpha.runDir)),
    link,
  ]) {
    await assert.rejects(c.client.sendRequest(protocol.resumeRun, { runDir: spelling }), (e: unknown) => {
      assert.ok(e instanceof ResponseError, String(e));
      assert.equal(e.code, protocol.ErrorCodes.runStateConflict, `${spelling}: ${e.message}`);
      assert.match(e.message, /already queued to resume: position 1 of 1 waiting/);
      return true;
    });
  }
  assert.deepEqual((await c.client.sendRequest(protocol.status)).queued, [alpha.runDir]);

  // Cancelling by another spelling cancels the one entry, so nothing restarts the cancelled run.
  assert.deepEqual(await c.client.sendRequest(protocol.cancelRun, { runDir: `${alpha.runDir}/` }), {
    status: 'cancelled',
  });
  assert.deepEqual(await c.client.sendRequest(protocol.status), {
    active: { runDir: beta.runDir, status: 'running' },
    queued: [],
  });
  release(beta.runDir);
  await c.waitForState(beta.runDir, 'completed');
  assert.deepEqual(await c.client.sendRequest(protocol.status), { active: null, queued: [] });
  assert.deepEqual(started, [alpha.runDir, beta.runDir]);
  assert.equal((await readRun(alpha.runDir)).status, 'cancelled');
});

/** Records queue/changed; `order` is the latest as [active, ...waiting] names, `until` waits for one. */
function queueRecorder(c: ReturnType<typeof connect>) {
  const seen: protocol.QueueState[] = [];
  const waiters: { match: (s: protocol.QueueState) => boolean; resolve: () => void }[] = [];
  c.client.onNotification(protocol.queueChanged, (state) => {
    seen.push(state);
    for (const w of [...waiters])
      if (w.match(state)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  });
  return {
    seen,
    until: (match: (s: protocol.QueueState) => boolean) =>
      seen.some(match) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, resolve })),
  };
}

const names = (state: protocol.QueueState) => [
  state.active ? basename(state.active.runDir) : null,
  ...state.waiting.map((e) => `${basename(e.runDir)}:${e.kind}`),
];

test('a resumed run waiting in the queue is announced queued; a second resume names its place', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-queue-'));
  const { engine, release } = gatedEngine();
  const c = connect(engine);
  const queue = queueRecorder(c);
  t.after(() => {
    c.close();
    rmSync(runsDir, { recursive: true, force: true });
  });
  const alpha = await c.client.sendRequest(protocol.startRun, { configPath: '/w/alpha.l3m.json', runsDir });
  await c.waitForProgress(alpha.runDir);
  await c.client.sendRequest(protocol.cancelRun, { runDir: alpha.runDir });
  const beta = await c.client.sendRequest(protocol.startRun, { configPath: '/w/beta.l3m.json', runsDir });
  await c.waitForProgress(beta.runDir);

  const queuedBefore = c.states.filter((s) => s.runDir === alpha.runDir && s.kind === 'queued').length;
  assert.equal((await c.client.sendRequest(protocol.resumeRun, { runDir: alpha.runDir })).status, 'queued');
  // The views learn that it waits, although run.json stays "cancelled" until it starts. The
  // notification is sent before the response, so it has arrived.
  const announced = c.states.filter((s) => s.runDir === alpha.runDir && s.kind === 'queued');
  assert.equal(announced.length, queuedBefore + 1);
  assert.equal(announced.at(-1)?.record.status, 'cancelled');
  assert.equal((await readRun(alpha.runDir)).status, 'cancelled');
  await queue.until((s) => s.waiting.some((e) => e.runDir === alpha.runDir));
  assert.deepEqual(names(await c.client.sendRequest(protocol.queueState)), [
    basename(beta.runDir),
    `${basename(alpha.runDir)}:resume`,
  ]);

  await assert.rejects(c.client.sendRequest(protocol.resumeRun, { runDir: alpha.runDir }), (e: unknown) => {
    assert.ok(e instanceof ResponseError);
    assert.equal(e.code, protocol.ErrorCodes.runStateConflict);
    assert.equal(
      e.message,
      `Run ${alpha.runId} is already queued to resume: position 1 of 1 waiting. The Queue view can move it up.`,
    );
    return true;
  });
  await assert.rejects(c.client.sendRequest(protocol.resumeRun, { runDir: beta.runDir }), /already running/);

  release(beta.runDir);
  await c.waitForProgress(alpha.runDir, 2);
  release(alpha.runDir);
  await c.waitForState(alpha.runDir, 'completed');
  await queue.until((s) => s.active === null && s.waiting.length === 0);
});

test('queue/move reorders the waiting runs, which then start in the new order; running or unknown runs are refused', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-queue-'));
  const { engine, started, release } = gatedEngine();
  const c = connect(engine);
  const queue = queueRecorder(c);
  t.after(() => {
    c.close();
    rmSync(runsDir, { recursive: true, force: true });
  });
  const start = (name: string) =>
    c.client.sendRequest(protocol.startRun, { configPath: `/w/${name}.l3m.json`, runsDir });
  const a = await start('a');
  await c.waitForProgress(a.runDir);
  const b = await start('b');
  const d = await start('d');
  const e = await start('e');
  const order = async () => names(await c.client.sendRequest(protocol.queueState));
  const [na, nb, nd, ne] = [a, b, d, e].map((r) => basename(r.runDir));
  assert.deepEqual(await order(), [na, `${nb}:start`, `${nd}:start`, `${ne}:start`]);

  const moved = await c.client.sendRequest(protocol.moveInQueue, { runDir: e.runDir, offset: -2 });
  assert.deepEqual(names(moved), [na, `${ne}:start`, `${nb}:start`, `${nd}:start`]);
  await queue.until((s) => names(s).join() === names(moved).join());
  // Clamped at the ends.
  assert.deepEqual(names(await c.client.sendRequest(protocol.moveInQueue, { runDir: b.runDir, offset: 5 })), [
    na,
    `${ne}:start`,
    `${nd}:start`,
    `${nb}:start`,
  ]);
  assert.deepEqual(names(await c.client.sendRequest(protocol.moveInQueue, { runDir: d.runDir, offset: -1 })), [
    na,
    `${nd}:start`,
    `${ne}:start`,
    `${nb}:start`,
  ]);

  for (const [params, pattern] of [
    [{ runDir: a.runDir, offset: 1 }, /is running; only a waiting run can be moved/],
    [{ runDir: join(runsDir, 'nowhere'), offset: 1 }, /is not waiting in this sidecar's queue/],
  ] as const) {
    await assert.rejects(c.client.sendRequest(protocol.moveInQueue, params), (error: unknown) => {
      assert.ok(error instanceof ResponseError);
      assert.equal(error.code, protocol.ErrorCodes.runStateConflict);
      assert.match(error.message, pattern);
      return true;
    });
  }
  await assert.rejects(
    c.client.sendRequest(protocol.moveInQueue, { runDir: b.runDir, offset: 0.5 }),
    /needs offset, an integer/,
  );

  // Cancelling a waiting run takes it out of the order; the others start in the order they were moved to.
  await c.client.sendRequest(protocol.cancelRun, { runDir: e.runDir });
  assert.deepEqual(await order(), [na, `${nd}:start`, `${nb}:start`]);
  for (const run of [a, d, b]) {
    await c.waitForProgress(run.runDir);
    release(run.runDir);
    await c.waitForState(run.runDir, 'completed');
  }
  assert.deepEqual(started, [a.runDir, d.runDir, b.runDir]);
  assert.equal((await readRun(e.runDir)).status, 'cancelled');
  await queue.until((s) => s.active === null && s.waiting.length === 0);
});

test('cancelling a resume that waits leaves a failed run failed, and announces that it no longer waits', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-queue-'));
  const { engine, release } = gatedEngine();
  const c = connect(engine);
  const queue = queueRecorder(c);
  t.after(() => {
    c.close();
    rmSync(runsDir, { recursive: true, force: true });
  });
  const broken = await c.client.sendRequest(protocol.startRun, { configPath: '/w/explode.l3m.json', runsDir });
  await c.waitForProgress(broken.runDir);
  release(broken.runDir);
  await c.waitForState(broken.runDir, 'failed');
  const busy = await c.client.sendRequest(protocol.startRun, { configPath: '/w/busy.l3m.json', runsDir });
  await c.waitForProgress(busy.runDir);
  await c.client.sendRequest(protocol.resumeRun, { runDir: broken.runDir });
  await queue.until((s) => s.waiting.some((w) => w.runDir === broken.runDir && w.kind === 'resume'));

  assert.deepEqual(await c.client.sendRequest(protocol.cancelRun, { runDir: broken.runDir }), { status: 'failed' });
  const cancelled = await c.waitForState(broken.runDir, 'cancelled');
  assert.equal(cancelled.record.status, 'failed', 'run.json is as it was');
  assert.equal((await readRun(broken.runDir)).error?.message, 'NaN loss at step 2 (last finite loss 1.5)');
  assert.deepEqual(names(await c.client.sendRequest(protocol.queueState)), [basename(busy.runDir)]);
  release(busy.runDir);
  await c.waitForState(busy.runDir, 'completed');
});
