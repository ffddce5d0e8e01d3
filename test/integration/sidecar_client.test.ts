// The extension's sidecar client (extension/sidecar_client.ts, which does not import vscode) against
// the real sidecar process: start on first use, the dead-sidecar policy after kill -9, restart on
// the next use, and a clean stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SidecarClient, exitCodeOf, type SidecarExit } from '../../extension/sidecar_client';
import * as protocol from '../../sidecar/protocol/messages';
import { createRun, readRun, updateRun } from '../../sidecar/runs/run_store';

const root = resolve(__dirname, '../..');
const sidecarScript = join(root, 'dist', 'sidecar.js');

test('exit codes of signals follow the shell convention', () => {
  assert.equal(exitCodeOf(3, null), 3);
  assert.equal(exitCodeOf(null, 'SIGKILL'), 137);
  assert.equal(exitCodeOf(null, 'SIGTERM'), 143);
});

test('a sidecar killed with SIGKILL is detected, its run marked failed, and the next use starts a new one', async (t) => {
  assert.ok(existsSync(sidecarScript), `${sidecarScript} is missing; run "node esbuild.mjs --no-typecheck" first`);
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-client-'));
  let output = '';
  const client = new SidecarClient({
    nodePath: process.execPath,
    sidecarScript,
    runsDir,
    clientName: 'client test',
    output: (text) => {
      output += text;
    },
  });
  t.after(async () => {
    await client.stop();
    rmSync(runsDir, { recursive: true, force: true });
  });

  assert.equal(client.isRunning, false, 'nothing starts before the first use');
  const status = await client.request(protocol.status);
  assert.deepEqual(status, { active: null, queued: [] });
  const firstPid = client.pid;
  assert.ok(firstPid);

  // A run as the training engine would leave it while it runs inside this sidecar.
  const { runDir } = await createRun({ runsDir, experiment: 'quick', task: 'regression', config: {} });
  await updateRun(runDir, { status: 'running', pid: firstPid });
  client.trackRun(runDir);

  const exit = new Promise<SidecarExit>((res) => client.onExit.on(res));
  process.kill(firstPid, 'SIGKILL');
  const { signal, failedRuns, expected } = await exit;
  assert.equal(signal, 'SIGKILL');
  assert.equal(expected, false);
  assert.deepEqual(failedRuns, [runDir]);
  const record = await readRun(runDir);
  assert.equal(record.status, 'failed');
  assert.match(record.error?.message ?? '', /sidecar was killed by SIGKILL/);
  assert.equal(record.error?.exitCode, 137);
  assert.equal(client.isRunning, false);
  assert.deepEqual(client.activeRuns, []);
  assert.match(output, /was killed by SIGKILL/);

  // The next request starts a fresh sidecar.
  const probe = await client.request(protocol.probeDevices);
  assert.ok(probe.backends.length === 5);
  assert.notEqual(client.pid, firstPid);

  // A requested stop is an expected exit with code 0 and marks nothing.
  const stopped = new Promise<SidecarExit>((res) => client.onExit.on(res));
  await client.stop();
  const stop = await stopped;
  assert.equal(stop.code, 0);
  assert.equal(stop.expected, true);
  assert.deepEqual(stop.failedRuns, []);
});

test('a Node path that does not exist gives a clear error naming the setting', async () => {
  const client = new SidecarClient({
    nodePath: '/nonexistent/node',
    sidecarScript,
    runsDir: tmpdir(),
    clientName: 't',
    output: () => undefined,
  });
  await assert.rejects(
    client.request(protocol.status),
    /Could not start the L3M sidecar with "\/nonexistent\/node".*l3m\.nodePath/,
  );
  assert.equal(client.isRunning, false);
});

test('a sidecar that reports sidecar/fatal for broken stdin framing exits; its run is marked failed with the reason, and the next use starts a new one', async (t) => {
  assert.ok(existsSync(sidecarScript), `${sidecarScript} is missing; run "node esbuild.mjs --no-typecheck" first`);
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-client-'));
  let output = '';
  const client = new SidecarClient({
    nodePath: process.execPath,
    sidecarScript,
    runsDir,
    clientName: 'client test',
    output: (text) => {
      output += text;
    },
  });
  t.after(async () => {
    await client.stop();
    rmSync(runsDir, { recursive: true, force: true });
  });
  await client.request(protocol.status);
  const firstPid = client.pid!;
  // A run the sidecar's queue does not hold, as one left by an engine that did not stop: only the
  // client's policy can record its end.
  const { runDir } = await createRun({ runsDir, experiment: 'quick', task: 'regression', config: {} });
  await updateRun(runDir, { status: 'running', pid: firstPid });
  client.trackRun(runDir);

  const exit = new Promise<SidecarExit>((res) => client.onExit.on(res));
  // The bytes a bug in a writer (or anything else on the pipe) could put there.
  const child = (client as unknown as { current: { child: import('node:child_process').ChildProcess } }).current.child;
  child.stdin!.write('Content-Length: -1\r\n\r\n');
  const { code, fatalMessage, failedRuns, expected } = await exit;
  assert.equal(code, 70);
  assert.equal(expected, false);
  assert.match(fatalMessage ?? '', /stdin is no longer the protocol: Content-Length "-1" is not a byte count/);
  assert.deepEqual(failedRuns, [runDir]);
  const record = await readRun(runDir);
  assert.equal(record.status, 'failed');
  assert.match(
    record.error?.message ?? '',
    /sidecar exited with code 70: The sidecar's stdin is no longer the protocol/,
  );
  assert.equal(record.error?.exitCode, 70);
  assert.match(output, /\[fatal\] The sidecar's stdin is no longer the protocol/);

  assert.equal((await client.request(protocol.probeDevices)).backends.length, 5);
  assert.notEqual(client.pid, firstPid);
});

test('each log line of the sidecar reaches the output once, though it comes both on stderr and as a notification', async (t) => {
  assert.ok(existsSync(sidecarScript), `${sidecarScript} is missing; run "node esbuild.mjs --no-typecheck" first`);
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-client-'));
  let output = '';
  const line = 'initialized by client log test';
  let stderrCopy!: () => void;
  const stderrSeen = new Promise<void>((res) => (stderrCopy = res));
  const client = new SidecarClient({
    nodePath: process.execPath,
    sidecarScript,
    runsDir,
    clientName: 'client log test',
    output: (text) => {
      output += text;
      if (output.includes(line)) stderrCopy();
    },
  });
  const notified: string[] = [];
  client.onLog.on((p) => notified.push(p.message));
  t.after(async () => {
    await client.stop();
    rmSync(runsDir, { recursive: true, force: true });
  });
  // The notification is sent before the initialize response, so it has arrived once the request
  // resolves; the stderr copy comes on its own pipe, so the test waits for it.
  await client.ensureStarted();
  await stderrSeen;
  assert.ok(
    notified.some((m) => m.includes(line)),
    `the log notification arrived: ${notified.join(' | ')}`,
  );
  const count = output.split(line).length - 1;
  assert.equal(count, 1, `"${line}" is in the output ${count} times:\n${output}`);
});
