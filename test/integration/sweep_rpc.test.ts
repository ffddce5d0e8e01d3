// The sweep requests of the RPC server, over in-memory streams, with the runs as real `train-run`
// processes of the built sidecar: sweep/run creates the sweep and returns its runs at once, sweep/state
// follows every run to the end (ended: true), sweep/resume finds nothing left to do; a sweep over
// max_runs is refused with sweepTooLarge until the request says yes, and a sweep file with errors is
// configInvalid with its diagnostics, starting nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc';
import * as protocol from '../../sidecar/protocol/messages';
import { ErrorCodes } from '../../sidecar/protocol/messages';
import { readRun } from '../../sidecar/runs/run_store';
import { inMemoryServer } from './in_memory_server';
import { writeTinyWorkspace } from './train_fixture';

const bundle = join(resolve(__dirname, '../..'), 'dist', 'sidecar.js');

test('sweep/run starts the runs as processes and sweep/state follows them to the end', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-sweep-rpc-'));
  writeTinyWorkspace(workspace);
  const sweepPath = join(workspace, 'pair.l3m-sweep.json');
  writeFileSync(sweepPath, JSON.stringify({ base: 'tiny.l3m.json', repeats: 2, max_runs: 1 }));
  const runsDir = join(workspace, 'runs');
  const { client, close } = inMemoryServer({ sidecarCommand: [process.execPath, bundle] });
  const states: protocol.SweepStateParams[] = [];
  let ended: () => void;
  const endedSeen = new Promise<void>((resolvePromise) => (ended = resolvePromise));
  client.onNotification(protocol.sweepState, (params) => {
    states.push(params);
    if (params.ended) ended();
  });
  client.listen();

  const refused = await client.sendRequest(protocol.runSweep, { sweepPath, runsDir }).then(
    () => assert.fail('a sweep over max_runs started without yes'),
    (error: unknown) => error,
  );
  assert.ok(refused instanceof ResponseError);
  assert.equal(refused.code, ErrorCodes.sweepTooLarge);
  assert.deepEqual(refused.data, { kind: 'sweep-too-large', file: sweepPath, runs: 2, maxRuns: 1 });
  assert.ok(!existsSync(runsDir), 'nothing was created');

  const result = await client.sendRequest(protocol.runSweep, { sweepPath, runsDir, yes: true, parallel: 2 });
  assert.match(result.sweepId, /^pair-\d{8}-\d{6}-[0-9a-f]{4}$/);
  assert.equal(result.sweepDir, join(runsDir, '.sweeps', result.sweepId));
  assert.deepEqual(
    result.runs.map((r) => r.index),
    [0, 1],
  );
  await endedSeen;
  const last = states[states.length - 1];
  assert.equal(last.sweepDir, result.sweepDir);
  assert.deepEqual(last.summary.byStatus, { queued: 0, running: 0, completed: 2, failed: 0, cancelled: 0 });
  assert.equal(last.summary.ended, true);
  assert.ok(states.length >= 3, `a state per run change and the end: ${states.length}`);
  for (const run of result.runs) assert.equal((await readRun(run.runDir)).status, 'completed');

  const resumed = await client.sendRequest(protocol.resumeSweep, { sweepDir: result.sweepDir });
  assert.deepEqual(resumed.runs, [], 'nothing is unfinished');
  const cancelled = await client.sendRequest(protocol.cancelSweep, { sweepDir: result.sweepDir });
  assert.equal(cancelled.summary.byStatus.completed, 2, 'cancelling a finished sweep changes no run');

  writeFileSync(sweepPath, JSON.stringify({ base: 'tiny.l3m.json', grid: { 'training.lr': ['fast'] } }));
  const invalid = await client.sendRequest(protocol.runSweep, { sweepPath, runsDir }).then(
    () => assert.fail('a sweep with errors started'),
    (error: unknown) => error,
  );
  assert.ok(invalid instanceof ResponseError);
  assert.equal(invalid.code, ErrorCodes.configInvalid);
  const data = invalid.data as protocol.ConfigErrorData;
  assert.equal(data.file, sweepPath);
  assert.ok(
    data.diagnostics.some((d) => d.severity === 'error' && /training\.lr/.test(d.message)),
    JSON.stringify(data),
  );
  close();
  rmSync(workspace, { recursive: true, force: true });
});
