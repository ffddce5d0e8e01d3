// The pieces of the workbench tooling that can be checked without code-server: ending a process tree
// (including a grandchild in its own session, as node-pty makes them), the settings merge, the
// engines.vscode check, and the isolated environment.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv } from '../../scripts/workbench/code_server';
import { checkEngine, type Workbench } from '../../scripts/workbench/install';
import { descendantsOf, killProcessTree } from '../../scripts/workbench/process_tree';
import { writeUserSettings } from '../../scripts/workbench/settings';
import { readJson } from '../read_json';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

test(
  'killProcessTree ends a child and a grandchild that left the process group',
  { skip: process.platform !== 'linux' },
  async () => {
    // The shell starts a grandchild in a new session (setsid) and prints its PID, then waits.
    const root = spawn('sh', ['-c', 'setsid sleep 600 & echo $!; sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const grandchild = await new Promise<number>((resolve) => {
      root.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    });
    const exited = new Promise((resolve) => root.once('exit', resolve));
    const tree = descendantsOf(root.pid!);
    assert.ok(tree.includes(root.pid!), `the tree of ${root.pid} should start with it: ${tree.join(',')}`);
    assert.ok(tree.includes(grandchild), `the setsid grandchild ${grandchild} should be in the tree ${tree.join(',')}`);
    await killProcessTree(root.pid!, 2000);
    await exited;
    assert.equal(alive(grandchild), false, `grandchild ${grandchild} survived`);
  },
);

test("writeUserSettings keeps a user's values for npm start and overrides them for tests", () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-settings-'));
  try {
    mkdirSync(join(dir, 'User'));
    writeFileSync(
      join(dir, 'User', 'settings.json'),
      JSON.stringify({ 'editor.fontSize': 20, 'workbench.startupEditor': 'welcomePage' }),
    );
    writeUserSettings(dir, { 'workbench.startupEditor': 'none', 'update.mode': 'none' }, true);
    const kept = readJson<Record<string, unknown>>(join(dir, 'User', 'settings.json'));
    assert.deepEqual(kept, { 'editor.fontSize': 20, 'workbench.startupEditor': 'welcomePage', 'update.mode': 'none' });
    writeUserSettings(dir, { 'workbench.startupEditor': 'none' }, false);
    const overridden = readJson<Record<string, unknown>>(join(dir, 'User', 'settings.json'));
    assert.equal(overridden['workbench.startupEditor'], 'none');
    assert.equal(overridden['editor.fontSize'], 20);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkEngine accepts the code-server release and rejects an older VS Code', () => {
  const workbench = (codeVersion: string): Workbench => ({
    dir: '/nowhere',
    node: '/nowhere/node',
    nodePackageDir: '/nowhere',
    codeServerEntry: '/nowhere/entry.js',
    codeServerVersion: 'test',
    codeVersion,
  });
  assert.doesNotThrow(() => checkEngine(workbench('1.139.1')));
  assert.throws(() => checkEngine(workbench('1.80.0')), /engines\.vscode .* VS Code 1\.80\.0/);
});

test('isolatedEnv moves HOME, XDG folders and TMPDIR under the session folder and drops an outer VS Code and npm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-env-'));
  const previous = process.env.VSCODE_IPC_HOOK_CLI;
  const previousNpm = process.env.npm_config_local_prefix;
  process.env.VSCODE_IPC_HOOK_CLI = '/tmp/outer.sock';
  process.env.npm_config_local_prefix = '/somewhere/else';
  try {
    const env = isolatedEnv(dir);
    for (const key of [
      'HOME',
      'XDG_CONFIG_HOME',
      'XDG_DATA_HOME',
      'XDG_CACHE_HOME',
      'XDG_STATE_HOME',
      'XDG_RUNTIME_DIR',
      'TMPDIR',
    ]) {
      assert.ok(env[key]?.startsWith(dir), `${key} is ${env[key]}, not under ${dir}`);
    }
    assert.equal(env.VSCODE_IPC_HOOK_CLI, undefined);
    assert.equal(env.npm_config_local_prefix, undefined);
    assert.equal(env.PATH, process.env.PATH);
  } finally {
    if (previous === undefined) delete process.env.VSCODE_IPC_HOOK_CLI;
    else process.env.VSCODE_IPC_HOOK_CLI = previous;
    if (previousNpm === undefined) delete process.env.npm_config_local_prefix;
    else process.env.npm_config_local_prefix = previousNpm;
    rmSync(dir, { recursive: true, force: true });
  }
});
