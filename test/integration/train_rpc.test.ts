// The training engine behind the real sidecar process (`node dist/sidecar.js serve`) over JSON-RPC, as
// the extension drives it: run/start on a tiny config → run/state queued, running, completed, with
// progress and metrics notifications and the run folder written; run/cancel stops a run that
// run/resume then finishes; a config with errors is refused with ErrorCodes.configInvalid and its
// diagnostics. Needs the bundle (test/run.mjs builds it before this suite).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import * as protocol from '../../sidecar/protocol/messages';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { writeTinyWorkspace } from './train_fixture';

const bundle = join(resolve(__dirname, '../..'), 'dist', 'sidecar.js');

function startSidecar() {
  assert.ok(existsSync(bundle), `${bundle} is missing; run "node esbuild.mjs --no-typecheck" first`);
  const child = spawn(process.execPath, [bundle, 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.resume();
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const states: protocol.RunStateParams[] = [];
  const progress: protocol.ProgressParams[] = [];
  let metricLines = 0;
  const waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters])
      if (w.predicate()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  connection.onNotification(protocol.runState, (p) => {
    states.push(p);
    check();
  });
  connection.onNotification(protocol.progress, (p) => {
    progress.push(p);
    check();
  });
  connection.onNotification(protocol.metrics, (p) => {
    metricLines += p.records.length;
    check();
  });
  connection.listen();
  const until = (predicate: () => boolean) =>
    new Promise<void>((resolvePromise) => {
      waiters.push({ predicate, resolve: resolvePromise });
      check();
    });
  return { child, connection, states, progress, metricCount: () => metricLines, until };
}

test('run/start trains a tiny config to completion; run/cancel and run/resume; invalid configs are refused', async (t) => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-rpc-'));
  const runsDir = join(workspace, 'runs');
  const sidecar = startSidecar();
  t.after(() => {
    if (sidecar.child.exitCode === null) sidecar.child.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  });
  await sidecar.connection.sendRequest(protocol.initialize, {
    clientName: 'train rpc test',
    protocolVersion: protocol.protocolVersion,
    runsDir,
  });

  const configPath = writeTinyWorkspace(workspace, { runtime: { backend: 'cpu' } });
  const started = await sidecar.connection.sendRequest(protocol.startRun, { configPath, runsDir });
  await sidecar.until(() =>
    sidecar.states.some((s) => s.runDir === started.runDir && (s.kind === 'completed' || s.kind === 'failed')),
  );
  const kinds = sidecar.states.filter((s) => s.runDir === started.runDir).map((s) => s.kind);
  assert.deepEqual(kinds, ['queued', 'running', 'completed'], JSON.stringify(sidecar.states));
  assert.ok(sidecar.progress.some((p) => p.runDir === started.runDir && p.step === 40 && p.totalSteps === 40));
  assert.ok(sidecar.metricCount() >= 40);
  assert.equal(readJson<RunRecord>(join(started.runDir, 'run.json')).status, 'completed');
  assert.ok(existsSync(join(started.runDir, 'eval', 'regression.json')));

  // A long run, cancelled once it is stepping, then resumed to completion.
  const longConfig = writeTinyWorkspace(join(workspace, 'long'), {
    training: { steps: 2000, checkpoint_every: 500 },
    evaluation: { every: 1000 },
  });
  const long = await sidecar.connection.sendRequest(protocol.startRun, { configPath: longConfig, runsDir });
  await sidecar.until(() => sidecar.progress.some((p) => p.runDir === long.runDir && p.step >= 5));
  const cancelled = await sidecar.connection.sendRequest(protocol.cancelRun, { runDir: long.runDir });
  assert.equal(cancelled.status, 'cancelled');
  const record = readJson<RunRecord>(join(long.runDir, 'run.json'));
  assert.equal(record.status, 'cancelled');
  assert.ok(record.progress, JSON.stringify(record));
  assert.ok(record.progress.step >= 5 && record.progress.step < 2000);
  await sidecar.connection.sendRequest(protocol.resumeRun, { runDir: long.runDir });
  await sidecar.until(() =>
    sidecar.states.filter((s) => s.runDir === long.runDir).some((s) => s.kind === 'completed' || s.kind === 'failed'),
  );
  assert.equal(sidecar.states.filter((s) => s.runDir === long.runDir).pop()!.kind, 'completed');

  const badConfig = writeTinyWorkspace(join(workspace, 'bad'), { training: { lr: -1 } });
  await assert.rejects(
    sidecar.connection.sendRequest(protocol.startRun, { configPath: badConfig, runsDir }),
    (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, protocol.ErrorCodes.configInvalid);
      const data = e.data as protocol.ConfigErrorData;
      assert.equal(data.kind, 'config-invalid');
      assert.ok(
        data.diagnostics.some((d) => d.severity === 'error' && d.line > 0),
        JSON.stringify(data.diagnostics),
      );
      return true;
    },
  );
  await sidecar.connection.sendRequest(protocol.shutdown);
});
