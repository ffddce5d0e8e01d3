// Drives the real sidecar process (`node dist/sidecar.js serve`) over stdio with vscode-jsonrpc,
// exactly as the extension does. Needs the bundle: `node esbuild.mjs --no-typecheck` (test/run.mjs
// builds it before this suite).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  RequestType0,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import * as protocol from '../../sidecar/protocol/messages';
import { parseJson } from '../read_json';

const root = resolve(__dirname, '../..');
const bundle = join(root, 'dist', 'sidecar.js');

interface Sidecar {
  child: ChildProcess;
  connection: MessageConnection;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startSidecar(): Sidecar {
  assert.ok(existsSync(bundle), `${bundle} is missing; run "node esbuild.mjs --no-typecheck" first`);
  const child = spawn(process.execPath, [bundle, 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  connection.listen();
  return { child, connection, stderr: () => stderr, exited };
}

test('initialize, status, probe, errors and shutdown against the real sidecar', async (t) => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-sidecar-'));
  const sidecar = startSidecar();
  t.after(() => {
    if (sidecar.child.exitCode === null) sidecar.child.kill('SIGKILL');
    rmSync(runsDir, { recursive: true, force: true });
  });
  const logs: string[] = [];
  sidecar.connection.onNotification(protocol.log, (p) => logs.push(p.message));

  const init = await sidecar.connection.sendRequest(protocol.initialize, {
    clientName: 'integration test',
    protocolVersion: protocol.protocolVersion,
    runsDir,
  });
  assert.equal(init.protocolVersion, protocol.protocolVersion);
  assert.equal(init.pid, sidecar.child.pid);

  assert.deepEqual(await sidecar.connection.sendRequest(protocol.status), { active: null, queued: [] });

  const probe = await sidecar.connection.sendRequest(protocol.probeDevices);
  assert.deepEqual(
    probe.backends.map((b) => b.name),
    ['cuda', 'cpu-native', 'webgpu', 'wasm', 'cpu'],
  );
  assert.ok(['cuda', 'cpu-native', 'webgpu', 'wasm'].includes(probe.chosen), `chosen ${probe.chosen}`);

  // An unknown method and malformed parameters get JSON-RPC errors, and the sidecar keeps serving.
  await assert.rejects(sidecar.connection.sendRequest(new RequestType0<void, void>('no/such/method')), (e: unknown) => {
    assert.ok(e instanceof ResponseError);
    assert.equal(e.code, -32601);
    return true;
  });
  await assert.rejects(
    sidecar.connection.sendRequest(protocol.startRun, { configPath: 42 as unknown as string, runsDir }),
    (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, -32602);
      assert.match(e.message, /configPath must be a non-empty path string, got 42/);
      return true;
    },
  );
  await assert.rejects(
    sidecar.connection.sendRequest(protocol.cancelRun, { runDir: join(runsDir, 'nope', 'x') }),
    (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, protocol.ErrorCodes.runStateConflict);
      return true;
    },
  );

  // Train: a config that is not JSON is refused with the config-invalid code.
  const config = join(runsDir, 'broken.l3m.json');
  writeFileSync(config, '{ not json');
  await assert.rejects(
    sidecar.connection.sendRequest(protocol.startRun, { configPath: config, runsDir }),
    (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.code, protocol.ErrorCodes.configInvalid);
      return true;
    },
  );
  assert.deepEqual(await sidecar.connection.sendRequest(protocol.status), { active: null, queued: [] });

  await sidecar.connection.sendRequest(protocol.shutdown);
  const { code } = await sidecar.exited;
  assert.equal(code, 0);
  assert.ok(
    logs.some((m) => m.includes('initialized by integration test')),
    'log notifications arrive',
  );
  assert.match(sidecar.stderr(), /serving on stdio/);
});

test('stdout carries only the protocol: a raw non-protocol line on stdin gets no garbage back', async (t) => {
  const sidecar = startSidecar();
  t.after(() => {
    if (sidecar.child.exitCode === null) sidecar.child.kill('SIGKILL');
  });
  let raw = '';
  sidecar.child.stdout!.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  await sidecar.connection.sendRequest(protocol.initialize, {
    clientName: 't',
    protocolVersion: protocol.protocolVersion,
    runsDir: '',
  });
  await sidecar.connection.sendRequest(protocol.probeDevices);
  // Every byte on stdout must be Content-Length framed JSON-RPC.
  let rest = raw;
  while (rest.length > 0) {
    const m = /^Content-Length: (\d+)\r\n\r\n/.exec(rest);
    assert.ok(m, `unframed output on stdout: ${JSON.stringify(rest.slice(0, 80))}`);
    const body = Buffer.from(rest.slice(m[0].length)).subarray(0, Number(m[1])).toString();
    assert.equal(parseJson<{ jsonrpc?: unknown }>(body).jsonrpc, '2.0');
    rest = Buffer.from(rest.slice(m[0].length)).subarray(Number(m[1])).toString();
  }
  const protocolVersionMismatch = sidecar.connection.sendRequest(protocol.initialize, {
    clientName: 't',
    protocolVersion: '9.0',
    runsDir: '',
  });
  await assert.rejects(protocolVersionMismatch, /speaks protocol 9\.0.*rebuild the extension and the sidecar together/);
  await sidecar.connection.sendRequest(protocol.shutdown);
  assert.equal((await sidecar.exited).code, 0);
});

test('closing stdin (the extension went away) makes the sidecar exit', async () => {
  const sidecar = startSidecar();
  await sidecar.connection.sendRequest(protocol.status);
  sidecar.child.stdin!.end();
  const { code } = await sidecar.exited;
  assert.equal(code, 0);
});
