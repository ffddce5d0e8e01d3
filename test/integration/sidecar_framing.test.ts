// A sidecar whose stdin stops being Content-Length framed JSON-RPC (no Content-Length header, a
// negative or non-numeric one, binary garbage) can never find the next message again. It must say
// so with `sidecar/fatal`, leave its run cancelled and resumable, and exit non-zero, so that the
// extension notices the death (extension/sidecar_client.ts) instead of talking to a deaf process.
// Drives the real bundle (`node esbuild.mjs --no-typecheck` first) by writing raw bytes to its stdin.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import * as protocol from '../../sidecar/protocol/messages';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { writeTinyWorkspace } from './train_fixture';

const bundle = join(resolve(__dirname, '../..'), 'dist', 'sidecar.js');
/** Far above the time the sidecar needs; reaching it means the process stayed alive and deaf. */
const exitDeadlineMs = 60_000;

function startSidecar() {
  assert.ok(existsSync(bundle), `${bundle} is missing; run "node esbuild.mjs --no-typecheck" first`);
  const child = spawn(process.execPath, [bundle, 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => undefined); // The sidecar may exit before it read everything.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  // Only the reading half goes through vscode-jsonrpc; the test writes stdin itself.
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const fatal: string[] = [];
  const states: protocol.RunStateParams[] = [];
  let progressSeen = () => undefined as void;
  const firstProgress = new Promise<void>((res) => {
    progressSeen = res;
  });
  connection.onNotification(protocol.fatal, (p) => fatal.push(p.message));
  connection.onNotification(protocol.runState, (p) => states.push(p));
  connection.onNotification(protocol.progress, (p) => {
    if (p.step > 0) progressSeen();
  });
  connection.listen();
  const exitWithin = async () => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'alive'>((res) => {
      timer = setTimeout(() => res('alive'), exitDeadlineMs);
    });
    const result = await Promise.race([exited, deadline]);
    clearTimeout(timer);
    if (result === 'alive') child.kill('SIGKILL');
    return result;
  };
  return { child, connection, fatal, states, firstProgress, exitWithin, stderr: () => stderr };
}

const cases: { name: string; bytes: Buffer; problem: RegExp }[] = [
  {
    name: 'no Content-Length header',
    bytes: Buffer.from(
      'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"sidecar/status"}',
    ),
    problem: /no Content-Length header/,
  },
  {
    name: 'a negative Content-Length',
    bytes: Buffer.from('Content-Length: -5\r\n\r\n{}'),
    problem: /Content-Length "-5"/,
  },
  {
    name: 'a non-numeric Content-Length',
    bytes: Buffer.from('Content-Length: twelve\r\n\r\n{"jsonrpc":"2.0"}'),
    problem: /Content-Length "twelve"/,
  },
  // Bytes that hold no header end (\r\n\r\n), so a reader waiting for one would wait for ever.
  {
    name: 'binary garbage',
    bytes: Buffer.from([0x00, 0xff, 0x13, 0x37, 0x8b, 0x1f, 0xde, 0xad, 0xbe, 0xef, 0x0a, 0x00, 0x7f]),
    problem: /byte 0x00 at offset 0/,
  },
];

for (const { name, bytes, problem } of cases) {
  test(`${name} on stdin: sidecar/fatal naming it, then a non-zero exit`, async (t) => {
    const sidecar = startSidecar();
    t.after(() => {
      if (sidecar.child.exitCode === null) sidecar.child.kill('SIGKILL');
    });
    // A working exchange first: the sidecar is listening when the bad bytes come.
    await sidecar.connection.sendRequest(protocol.initialize, {
      clientName: 'framing test',
      protocolVersion: protocol.protocolVersion,
      runsDir: '',
    });
    sidecar.child.stdin.write(bytes);
    const exit = await sidecar.exitWithin();
    if (exit === 'alive')
      assert.fail(`the sidecar still runs ${exitDeadlineMs} ms after ${name}; stderr:\n${sidecar.stderr()}`);
    assert.equal(exit.code, 70, `exit ${JSON.stringify(exit)}; stderr:\n${sidecar.stderr()}`);
    assert.equal(sidecar.fatal.length, 1, `sidecar/fatal notifications: ${JSON.stringify(sidecar.fatal)}`);
    assert.match(sidecar.fatal[0], problem);
    assert.match(sidecar.fatal[0], /stdin/);
    assert.match(sidecar.stderr(), problem);
  });
}

/** A sidecar training a run long enough to be interrupted (5000 steps), once its first progress arrived. */
async function sidecarTraining(t: TestContext) {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-framing-'));
  const runsDir = join(workspace, 'runs');
  const sidecar = startSidecar();
  t.after(() => {
    if (sidecar.child.exitCode === null) sidecar.child.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  });
  await sidecar.connection.sendRequest(protocol.initialize, {
    clientName: 'framing test',
    protocolVersion: protocol.protocolVersion,
    runsDir,
  });
  const configPath = writeTinyWorkspace(workspace, {
    training: { steps: 5000, checkpoint_every: 1000 },
    evaluation: { every: 2500 },
  });
  const started = await sidecar.connection.sendRequest(protocol.startRun, { configPath, runsDir });
  await sidecar.firstProgress;
  return { sidecar, started };
}

test('binary garbage while a run trains: the run is cancelled (resumable) before the sidecar exits', async (t) => {
  const { sidecar, started } = await sidecarTraining(t);

  sidecar.child.stdin.write(cases[3].bytes);
  const exit = await sidecar.exitWithin();
  if (exit === 'alive') assert.fail(`the sidecar still runs; stderr:\n${sidecar.stderr()}`);
  assert.equal(exit.code, 70, sidecar.stderr());
  assert.match(sidecar.fatal[0] ?? '', /byte 0x00 at offset 0/);
  const record = readJson<RunRecord>(join(started.runDir, 'run.json'));
  assert.equal(record.status, 'cancelled', JSON.stringify(record));
  assert.ok(
    sidecar.states.some((s) => s.runDir === started.runDir && s.kind === 'cancelled'),
    'run/state cancelled reaches the client, which then does not mark the run failed',
  );
});

test('stdin closed while a run trains: the run is cancelled (resumable) and the sidecar exits 0', async (t) => {
  const { sidecar, started } = await sidecarTraining(t);

  // With its client gone the sidecar can notify no one; it must still stop the run cleanly.
  sidecar.child.stdin.end();
  const exit = await sidecar.exitWithin();
  if (exit === 'alive') assert.fail(`the sidecar still runs; stderr:\n${sidecar.stderr()}`);
  assert.equal(exit.code, 0, sidecar.stderr());
  assert.doesNotMatch(sidecar.stderr(), /\[fatal\]|Connection is closed/);
  assert.equal(readJson<RunRecord>(join(started.runDir, 'run.json')).status, 'cancelled');
});
