// Cancel signals only the process that runs the run: run.json records the process's identity (pid,
// start time after boot, command line, boot id) when the run starts, and the identity is read again
// from /proc and compared before a signal is sent. A bare pid (an old run.json, or one written by
// hand), a pid now used by another process, another host, or a system without /proc: no signal,
// and a reason. The processes here are real child processes that report the signals they get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { readProcessIdentity, signalRunProcess } from '../../sidecar/protocol/run_process';
import { isStale } from '../../sidecar/protocol/run_listing';
import { createRun, updateRun } from '../../sidecar/runs/run_store';
import type { RunRecord } from '../../sidecar/protocol/run_folder';

const hasProc = existsSync('/proc/self/stat');

/** A node process that prints "ready", then "got SIGINT" and exits when interrupted. */
async function listener(...args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "process.on('SIGINT', () => { process.stdout.write('got SIGINT\\n'); process.exit(0); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30);",
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let text = '';
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
  });
  while (!text.includes('ready')) await once(child.stdout, 'data');
  return { child, output: () => text };
}

function record(extra: Partial<RunRecord>): RunRecord {
  return {
    id: 'r',
    experiment: 'e',
    task: 'regression',
    status: 'running',
    createdAt: '2026-01-01T00:00:00Z',
    version: '0',
    host: hostname(),
    ...extra,
  };
}

test(
  'a run records the identity of the process that runs it',
  { skip: !hasProc && 'no /proc on this system' },
  async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'l3m-identity-'));
    try {
      const created = await createRun({ runsDir, experiment: 'e', task: 'regression', config: {}, status: 'queued' });
      const own = readProcessIdentity(process.pid)!;
      assert.deepEqual(created.record.processIdentity, own);
      assert.equal(own.pid, process.pid);
      assert.ok(own.startTime > 0);
      assert.ok(
        own.commandLine.some((arg) => arg.endsWith('run_process_signal.test.ts')),
        own.commandLine.join(' '),
      );
      const running = await updateRun(created.runDir, { status: 'running' });
      assert.deepEqual(running.processIdentity, own);
    } finally {
      rmSync(runsDir, { recursive: true, force: true });
    }
  },
);

test(
  'Cancel refuses a bare, reused or unverifiable pid and signals the recorded process',
  { skip: !hasProc && 'no /proc on this system' },
  async () => {
    const { child, output } = await listener();
    try {
      const pid = child.pid!;
      const identity = readProcessIdentity(pid)!;
      assert.ok(identity, 'the child is readable in /proc');

      const bare = signalRunProcess(record({ pid }));
      assert.equal(bare.signalled, false, 'a bare pid from run.json is not signalled');
      assert.match(!bare.signalled ? bare.reason : '', /records process \d+ without its identity/);

      const reused = signalRunProcess(
        record({ pid, processIdentity: { ...identity, startTime: identity.startTime + 1 } }),
      );
      assert.equal(reused.signalled, false, 'another start time: the pid was reused');
      assert.match(!reused.signalled ? reused.reason : '', /not the process that started the run/);

      const otherCommand = signalRunProcess(
        record({ pid, processIdentity: { ...identity, commandLine: ['node', 'l3m', 'train', 'x.l3m.json'] } }),
      );
      assert.equal(otherCommand.signalled, false, 'another command line');

      const elsewhere = signalRunProcess(record({ pid, host: 'another-host', processIdentity: identity }));
      assert.equal(elsewhere.signalled, false);
      assert.match(!elsewhere.signalled ? elsewhere.reason : '', /runs on another-host/);

      const noProc = signalRunProcess(
        record({ pid, processIdentity: identity }),
        'SIGINT',
        join(tmpdir(), 'no-such-proc-folder'),
      );
      assert.equal(noProc.signalled, false, 'without /proc nothing is signalled');
      assert.match(!noProc.signalled ? noProc.reason : '', /cannot check which process has pid \d+/);

      assert.equal(child.exitCode, null);
      assert.doesNotMatch(output(), /SIGINT/);

      const exited = once(child, 'exit');
      assert.deepEqual(signalRunProcess(record({ pid, processIdentity: identity })), { signalled: true, pid });
      await exited;
      assert.match(output(), /got SIGINT/);

      // The process is gone now: a stale run, nothing to signal.
      const gone = signalRunProcess(record({ pid, processIdentity: identity }));
      assert.equal(gone.signalled, false);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

test(
  "Cancel does not signal another window's sidecar (l3m serve), which runs more than this run",
  { skip: !hasProc && 'no /proc on this system' },
  async () => {
    const { child, output } = await listener('serve');
    try {
      const pid = child.pid!;
      const identity = readProcessIdentity(pid)!;
      const outcome = signalRunProcess(record({ pid, processIdentity: identity }));
      assert.equal(outcome.signalled, false, 'a sidecar serving a window is not signalled');
      assert.match(!outcome.signalled ? outcome.reason : '', /another editor window's sidecar \(l3m serve\)/);
      assert.doesNotMatch(output(), /got SIGINT/);
    } finally {
      child.kill('SIGKILL');
    }
  },
);

test(
  'a run whose recorded process number now belongs to another process is stale',
  { skip: !hasProc && 'no /proc on this system' },
  async () => {
    const { child } = await listener();
    try {
      const pid = child.pid!;
      const identity = readProcessIdentity(pid)!;
      assert.equal(isStale(record({ pid, processIdentity: identity })), false, 'its own live process: not stale');
      assert.equal(
        isStale(record({ pid, processIdentity: { ...identity, startTime: identity.startTime + 1 } })),
        true,
        'the number reused by another process: stale',
      );
      assert.equal(
        isStale(record({ pid })),
        false,
        'a bare pid of a live process: not stale (nothing to tell it apart)',
      );
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.equal(isStale(record({ pid: child.pid! })), true, 'a gone process: stale');
  },
);
