// Installing a backend package with the real npm into a backends folder (extension/npm_install.ts), and the
// bundled sidecar's probe finding what such a folder holds (L3M_BACKENDS_DIR), from `l3m probe` and over
// the extension's sidecar client with the folders as the extension passes them. Everything is offline:
// packages are tarballs made here with `npm pack`, and the network failure is a registry nobody listens on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { findNpm, runNpmInstall, type NpmCommand } from '../../extension/npm_install';
import { sidecarCommand } from '../../extension/sidecar_cli';
import { SidecarClient } from '../../extension/sidecar_client';
import * as protocol from '../../sidecar/protocol/messages';
import { readJson } from '../read_json';

const repo = resolve(__dirname, '../..');
const bundle = join(repo, 'dist', 'sidecar.js');

function npmHere(): NpmCommand {
  const npm = findNpm(undefined, { execPath: process.execPath });
  assert.ok(npm, 'npm beside this Node or on PATH');
  return npm;
}

/** A temporary folder, removed after the test. */
function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** npm's environment for a test: its own cache, and no registry that answers. */
function npmEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_update_notifier: 'false',
    // npm retries a failed request for about a minute by default.
    npm_config_fetch_retries: '0',
  };
}

/** `npm pack` of a package made of `files` (package.json included); returns the tarball's path. */
function packTarball(dir: string, files: Record<string, string>): string {
  const source = join(dir, `source-${Object.keys(files).length}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(source, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(source, name), text);
  const npm = npmHere();
  const name = execFileSync(npm.command, [...npm.args, 'pack', source, '--pack-destination', dir], {
    env: npmEnv(dir),
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop()!;
  return join(dir, name);
}

test('a package tarball is installed into the backends folder without a registry', async (t) => {
  const dir = tempDir(t, 'l3m-npm-');
  const tarball = packTarball(dir, {
    'package.json': JSON.stringify({ name: 'l3m-fixture-backend', version: '1.2.3', main: 'index.js' }),
    'index.js': 'exports.ready = true;\n',
  });
  const folder = join(dir, 'backends');
  mkdirSync(folder);
  let streamed = '';
  const outcome = await runNpmInstall(npmHere(), folder, [tarball], {
    env: npmEnv(dir),
    output: (text) => (streamed += text),
  });
  assert.equal(outcome.kind, 'installed', outcome.kind === 'failed' ? outcome.message : '');
  assert.equal(streamed, outcome.output, 'the output was streamed as it came');
  const installed = readJson<{ version: string }>(join(folder, 'node_modules', 'l3m-fixture-backend', 'package.json'));
  assert.equal(installed.version, '1.2.3');
  assert.match(readFileSync(join(folder, 'package.json'), 'utf8'), /l3m-fixture-backend/, 'kept for the next install');
});

test("a package whose install script fails is reported with the script's own words", async (t) => {
  const dir = tempDir(t, 'l3m-npm-');
  const tarball = packTarball(dir, {
    'package.json': JSON.stringify({
      name: 'l3m-fixture-script',
      version: '1.0.0',
      scripts: { install: 'node install.js' },
    }),
    'install.js':
      "console.log('downloading libtensorflow'); console.error('libtensorflow.tar.gz: checksum mismatch'); process.exit(3);\n",
  });
  const outcome = await runNpmInstall(npmHere(), join(dir, 'backends'), [tarball], {
    env: npmEnv(dir),
    output: () => {},
  });
  assert.equal(outcome.kind, 'failed');
  assert.match(
    outcome.kind === 'failed' ? outcome.message : '',
    /^The install script of l3m-fixture-script failed \(command sh -c node install\.js, exited with code 3\): .*libtensorflow\.tar\.gz: checksum mismatch/,
  );
});

test('a registry that cannot be reached is reported as a network failure, with the way round it', async (t) => {
  const dir = tempDir(t, 'l3m-npm-');
  const outcome = await runNpmInstall(npmHere(), join(dir, 'backends'), ['webgpu@0.6.2'], {
    env: npmEnv(dir),
    output: () => {},
  });
  assert.equal(outcome.kind, 'failed');
  const message = outcome.kind === 'failed' ? outcome.message : '';
  assert.match(
    message,
    /^npm could not reach the package registry to install webgpu@0\.6\.2 \(request to http:\/\/127\.0\.0\.1:9\/webgpu failed, reason: connect ECONNREFUSED/,
  );
  assert.match(message, /package tarballs .* l3m\.backendsPath/);
});

test('cancelling stops npm and the install script it started', async (t) => {
  const dir = tempDir(t, 'l3m-npm-');
  const pidFile = join(dir, 'script.pid');
  const tarball = packTarball(dir, {
    'package.json': JSON.stringify({
      name: 'l3m-fixture-slow',
      version: '1.0.0',
      scripts: { install: 'node install.js' },
    }),
    // Runs until it is stopped, as a large download would.
    'install.js': `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); console.log('downloading'); setInterval(() => {}, 1000);\n`,
  });
  const abort = new AbortController();
  const outcome = await runNpmInstall(npmHere(), join(dir, 'backends'), [tarball], {
    env: npmEnv(dir),
    signal: abort.signal,
    output: (text) => {
      if (text.includes('downloading')) abort.abort();
    },
  });
  assert.equal(outcome.kind, 'cancelled');
  const scriptPid = Number(readFileSync(pidFile, 'utf8'));
  // The signal reaches the script with npm; wait for it to be gone (bounded, not a fixed sleep).
  const deadline = Date.now() + 30_000;
  while (existsSync(`/proc/${scriptPid}`) && !readFileSync(`/proc/${scriptPid}/stat`, 'utf8').includes(') Z ')) {
    assert.ok(Date.now() < deadline, `the install script (pid ${scriptPid}) still runs`);
    await new Promise((r) => setImmediate(r));
  }
});

function probe(env: Record<string, string>): Promise<protocol.BackendProbe[]> {
  return new Promise((resolveProbe, reject) => {
    execFile(
      process.execPath,
      [bundle, 'probe', '--json'],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`l3m probe failed: ${stderr}`));
        else resolveProbe((JSON.parse(stdout) as { backends: protocol.BackendProbe[] }).backends);
      },
    );
  });
}

test(
  'the bundled sidecar finds webgpu in the backends folders first, and names a broken copy with its error',
  { skip: !existsSync(join(repo, 'node_modules', 'webgpu')) && 'webgpu is not installed here' },
  async (t) => {
    const dir = tempDir(t, 'l3m-probe-');
    const broken = join(dir, 'broken');
    mkdirSync(join(broken, 'node_modules', 'webgpu'), { recursive: true });
    writeFileSync(
      join(broken, 'node_modules', 'webgpu', 'package.json'),
      JSON.stringify({ name: 'webgpu', version: '0.0.0-broken', type: 'module', main: 'index.js' }),
    );
    writeFileSync(
      join(broken, 'node_modules', 'webgpu', 'index.js'),
      "throw new Error('dawn.node: wrong ELF class');\n",
    );
    const working = join(dir, 'working');
    mkdirSync(join(working, 'node_modules'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', 'webgpu'), join(working, 'node_modules', 'webgpu'), 'dir');

    const backends = await probe({ L3M_BACKENDS_DIR: [broken, working].join(delimiter) });
    const webgpu = backends.find((b) => b.name === 'webgpu');
    const webgpuSearch = [
      ['backends-dir', 'failed', join(broken, 'node_modules', 'webgpu')],
      ['backends-dir', 'loaded', join(working, 'node_modules', 'webgpu')],
      ['sidecar', 'found', join(repo, 'node_modules', 'webgpu')],
    ];
    assert.deepEqual(
      webgpu?.module?.searched.map((s) => [s.place, s.outcome, s.path]),
      webgpuSearch,
    );
    assert.match(
      webgpu?.module?.searched[0].detail ?? '',
      /0\.0\.0-broken failed to load: Error: dawn\.node: wrong ELF class/,
    );
    // Each native package is reported too, with the folders looked in, even where it is not installed.
    const cuda = backends.find((b) => b.name === 'cuda');
    assert.equal(cuda?.module?.package, '@tensorflow/tfjs-node-gpu');
    assert.deepEqual(
      cuda?.module?.searched.slice(0, 2).map((s) => s.path),
      [
        join(broken, 'node_modules', '@tensorflow', 'tfjs-node-gpu'),
        join(working, 'node_modules', '@tensorflow', 'tfjs-node-gpu'),
      ],
    );

    // The editor's way: the folders as the extension passes them, and the probe request of `l3m serve`.
    const client = new SidecarClient({
      ...sidecarCommand({ nodePath: process.execPath, backendsDirs: [broken, working] }, bundle),
      runsDir: dir,
      clientName: 'backend install test',
      output: () => {},
    });
    t.after(() => client.stop());
    const overRpc = await client.request(protocol.probeDevices);
    assert.deepEqual(
      overRpc.backends.find((b) => b.name === 'webgpu')?.module?.searched.map((s) => [s.place, s.outcome, s.path]),
      webgpuSearch,
    );
  },
);
