// How the extension starts the sidecar CLI (extension/sidecar_cli.ts): the command for each setting and
// host (l3m.nodePath, Electron or real Node), and one-shot commands run as real child processes — their
// output, a failure's exit code and stderr, a Node that does not exist, the timeout and cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  SidecarCliError,
  describeCommand,
  runSidecarCli,
  sidecarCommand,
  type SidecarCommand,
} from '../../extension/sidecar_cli';

const script = '/ext/dist/sidecar.js';
const electron: { execPath: string; electron: string } = { execPath: '/opt/VSCode/code', electron: '34.2.0' };
const node = { execPath: '/usr/bin/node' };

test("the command: l3m.nodePath when set, else the host's executable, as Node when the host is Electron", () => {
  assert.deepEqual(sidecarCommand({}, script, electron), {
    nodePath: '/opt/VSCode/code',
    sidecarScript: script,
    env: { ELECTRON_RUN_AS_NODE: '1' },
  });
  assert.deepEqual(sidecarCommand({}, script, node), { nodePath: '/usr/bin/node', sidecarScript: script, env: {} });
  // A configured Node is real Node, whatever hosts the extension.
  assert.deepEqual(sidecarCommand({ nodePath: ' /usr/local/bin/node20 ' }, script, electron), {
    nodePath: '/usr/local/bin/node20',
    sidecarScript: script,
    env: {},
  });
  assert.deepEqual(
    sidecarCommand({ nodePath: '  ' }, script, node).nodePath,
    '/usr/bin/node',
    'a blank setting is unset',
  );
  assert.deepEqual(sidecarCommand({ backend: 'wasm' }, script, electron).env, {
    L3M_BACKEND: 'wasm',
    ELECTRON_RUN_AS_NODE: '1',
  });
  assert.deepEqual(
    sidecarCommand({ nodePath: '/n', backend: 'config' }, script, node).env,
    {},
    '"config" leaves the choice to the config',
  );
  assert.equal(
    describeCommand(sidecarCommand({ backend: 'cpu' }, script, electron), ['data', 'a.l3m.json']),
    'L3M_BACKEND=cpu ELECTRON_RUN_AS_NODE=1 /opt/VSCode/code /ext/dist/sidecar.js data a.l3m.json',
  );
});

test('the backends folders reach the sidecar as L3M_BACKENDS_DIR, in search order, blanks left out', () => {
  assert.deepEqual(sidecarCommand({ backendsDirs: ['/data/backends', ' ', '/g/backends'] }, script, node).env, {
    L3M_BACKENDS_DIR: ['/data/backends', '/g/backends'].join(delimiter),
  });
  assert.deepEqual(sidecarCommand({ backendsDirs: [] }, script, node).env, {});
});

/** Real scripts standing where dist/sidecar.js does, run by this test's own Node. */
function withScripts(body: (command: (name: string) => SidecarCommand) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l3m-cli-'));
    writeFileSync(
      join(dir, 'echo.js'),
      'process.stdout.write(JSON.stringify({ args: process.argv.slice(2), backend: process.env.L3M_BACKEND, cwd: process.cwd() }));',
    );
    writeFileSync(
      join(dir, 'fails.js'),
      "process.stderr.write('reading the dataset\\n\\nl3m data: lc0.npz: not a zip archive; expected an .npz file\\n'); process.exitCode = 2;",
    );
    writeFileSync(join(dir, 'hangs.js'), 'setInterval(() => undefined, 1000);');
    try {
      await body((name) => ({
        nodePath: process.execPath,
        sidecarScript: join(dir, `${name}.js`),
        env: { L3M_BACKEND: 'cpu' },
      }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const failsWith = (reason: SidecarCliError['reason'], message: RegExp) => (error: unknown) =>
  error instanceof SidecarCliError && error.reason === reason && message.test(error.message);

test(
  'a one-shot command runs with the arguments, environment and folder given, and its failure says how it ended',
  withScripts(async (command) => {
    const { stdout } = await runSidecarCli(command('echo'), ['runs', '--mark-failed', '/r', '--reason', 'a b'], {
      timeoutMs: 60_000,
      cwd: tmpdir(),
    });
    assert.deepEqual(JSON.parse(stdout), {
      args: ['runs', '--mark-failed', '/r', '--reason', 'a b'],
      backend: 'cpu',
      cwd: tmpdir(),
    });

    await assert.rejects(
      runSidecarCli(command('fails'), ['data', 'x.l3m.json'], { timeoutMs: 60_000 }),
      (error: unknown) => {
        assert.ok(error instanceof SidecarCliError);
        assert.equal(
          error.message,
          'l3m data exited with code 2: reading the dataset l3m data: lc0.npz: not a zip archive; expected an .npz file',
        );
        assert.equal(error.exitCode, 2);
        assert.match(error.stderr, /^reading the dataset\n/);
        return true;
      },
    );
    await assert.rejects(
      runSidecarCli({ ...command('echo'), nodePath: '/nonexistent/node' }, ['runs'], { timeoutMs: 60_000 }),
      failsWith(
        'start',
        /^Could not start the L3M sidecar with "\/nonexistent\/node": .*ENOENT.*Set the l3m\.nodePath setting to a Node 20/,
      ),
    );
  }),
);

test(
  'a one-shot command is stopped at its timeout or when cancelled, and says which',
  withScripts(async (command) => {
    await assert.rejects(
      runSidecarCli(command('hangs'), ['data'], { timeoutMs: 300 }),
      failsWith('timeout', /^l3m data did not finish within 300 ms and was stopped$/),
    );
    const controller = new AbortController();
    const running = runSidecarCli(command('hangs'), ['data'], { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await assert.rejects(running, failsWith('cancelled', /^l3m data was cancelled before it finished$/));
  }),
);
