// Which npm "L3M: Install GPU Backend" runs, the version it pins, its command line, how each way an
// install fails is told to the user, and what the probe found in the backends folder afterwards.
// The npm runs themselves are in test/integration/backend_install.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  describeNpmFailure,
  findNpm,
  npmInstallArgs,
  npmMissingMessage,
  pinnedVersion,
} from '../../extension/npm_install';
import { backendsIn, describeInstalled, parseProbeOutput } from '../../extension/backend_probe_report';
import type { BackendProbe } from '../../sidecar/protocol/messages';

const files =
  (...paths: string[]) =>
  (path: string) =>
    paths.includes(path);
const unix = process.platform !== 'win32';

test('npm is taken beside l3m.nodePath, then beside the editor’s Node, then from PATH', { skip: !unix }, () => {
  const cli = (prefix: string) => join(prefix, 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  const exists = files(cli('/opt/node20'), cli('/srv/code-server/node'), '/usr/bin/npm');
  assert.deepEqual(
    findNpm('/opt/node20/bin/node', { execPath: '/srv/code-server/node/bin/node' }, '/usr/bin', exists),
    {
      command: '/opt/node20/bin/node',
      args: [cli('/opt/node20')],
      foundBy: 'beside l3m.nodePath (/opt/node20/bin/node)',
    },
  );
  assert.equal(
    findNpm('', { execPath: '/srv/code-server/node/bin/node' }, '/usr/bin', exists)?.command,
    '/srv/code-server/node/bin/node',
  );
  // Desktop VS Code runs Electron, which has no npm beside it: PATH's npm is used.
  assert.deepEqual(
    findNpm(undefined, { execPath: '/usr/share/code/code', electron: '30.0.0' }, '/usr/local/bin:/usr/bin', exists),
    {
      command: '/usr/bin/npm',
      args: [],
      foundBy: 'on PATH (/usr/bin/npm)',
    },
  );
  // A l3m.nodePath without npm beside it falls through to PATH too.
  assert.equal(
    findNpm('/opt/bare/node', { execPath: '/e', electron: '30' }, '/usr/bin', exists)?.command,
    '/usr/bin/npm',
  );
  assert.equal(findNpm(undefined, { execPath: '/e', electron: '30' }, '/nowhere', exists), undefined);
});

test('the message for a missing npm says how to get one and the alternative of an existing folder', () => {
  const text = npmMissingMessage('/opt/node', '/g/backends');
  assert.match(text, /could not find npm beside l3m\.nodePath \(\/opt\/node\) nor on PATH/);
  assert.match(text, /Install Node\.js 20 or newer with npm/);
  assert.match(text, /set l3m\.backendsPath to that folder/);
  assert.match(text, /\/g\/backends/);
});

test('the pinned version is the one the extension was built against', () => {
  assert.equal(pinnedVersion('^0.6.2'), '0.6.2');
  assert.equal(pinnedVersion('~4.22.0'), '4.22.0');
  assert.equal(pinnedVersion('4.22.0'), '4.22.0');
  assert.equal(pinnedVersion('>=4 <5'), '>=4 <5', 'a range that names no single version is passed on');
  assert.equal(pinnedVersion(undefined), undefined);
});

test('the install goes into the prefix folder, with the install scripts’ output in the foreground', () => {
  assert.deepEqual(npmInstallArgs('/g/backends', ['webgpu@0.6.2']), [
    'install',
    '--prefix',
    '/g/backends',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--foreground-scripts',
    'webgpu@0.6.2',
  ]);
});

test('each way npm fails gets its own message', () => {
  const check = (output: string, code: number | null, expected: RegExp) =>
    assert.match(describeNpmFailure(['webgpu@0.6.2'], code, null, output), expected);
  check(
    'npm error code ECONNREFUSED\nnpm error syscall connect\nnpm error FetchError: request to http://127.0.0.1:9/webgpu failed, reason: connect ECONNREFUSED 127.0.0.1:9\nnpm error     at ClientRequest.<anonymous> (x.js:1:1)\n',
    1,
    /^npm could not reach the package registry to install webgpu@0\.6\.2 \(request to http:\/\/127\.0\.0\.1:9\/webgpu failed, reason: connect ECONNREFUSED 127\.0\.0\.1:9\)\. Check the network connection .*package tarballs/,
  );
  check(
    'npm error code ETARGET\nnpm error notarget No matching version found for webgpu@0.6.2.\n',
    1,
    /^npm found no such package or version for webgpu@0\.6\.2 \(code ETARGET; notarget No matching version found for webgpu@0\.6\.2\.\)/,
  );
  check(
    '> @tensorflow/tfjs-node-gpu@4.22.0 install\n> node scripts/install.js gpu download\nDownloading libtensorflow\nError: 403 Forbidden\nnpm error code 1\nnpm error path /g/backends/node_modules/@tensorflow/tfjs-node-gpu\nnpm error command failed\nnpm error command sh -c node scripts/install.js gpu download\n',
    1,
    /^The install script of @tensorflow\/tfjs-node-gpu failed \(command sh -c node scripts\/install\.js gpu download, exited with code 1\): .*Error: 403 Forbidden\. tfjs-node downloads libtensorflow/,
  );
  check('npm error code EACCES\nnpm error syscall mkdir\n', 243, /not allowed to write the backends folder/);
  check('something odd\n', 7, /^npm install webgpu@0\.6\.2 exited with code 7: something odd/);
});

const errorText = (value: unknown): string => (value instanceof Error ? value.message : 'not an Error');

const probe = (folder: string): BackendProbe[] => [
  {
    name: 'cuda',
    available: false,
    detail: 'no NVIDIA GPU is visible',
    module: {
      package: '@tensorflow/tfjs-node-gpu',
      searched: [
        {
          place: 'backends-dir',
          path: `${folder}/node_modules/@tensorflow/tfjs-node-gpu`,
          outcome: 'absent',
          detail: 'absent',
        },
      ],
    },
  },
  {
    name: 'webgpu',
    available: false,
    detail: 'Dawn found no hardware GPU adapter',
    module: {
      package: 'webgpu',
      searched: [
        { place: 'backends-dir', path: `${folder}/node_modules/webgpu`, outcome: 'loaded', detail: '0.6.2' },
        { place: 'sidecar', path: '/repo/node_modules/webgpu', outcome: 'found', detail: '0.6.2' },
      ],
    },
  },
  { name: 'wasm', available: true, detail: 'tfjs-backend-wasm', device: 'CPU' },
];

test('the probe after an install names the packages found in the folder and what each backend can do', () => {
  const folder = '/g/backends';
  const parsed = parseProbeOutput(JSON.stringify({ backends: probe(folder), chosen: 'wasm' }));
  assert.ok(!(parsed instanceof Error));
  const installed = backendsIn(parsed, folder);
  assert.deepEqual(
    installed.map((b) => [b.backend, b.package, b.outcome]),
    [['webgpu', 'webgpu', 'loaded']],
  );
  assert.equal(
    describeInstalled(installed, folder),
    'webgpu 0.6.2 found in /g/backends; backend webgpu is unavailable: Dawn found no hardware GPU adapter',
  );
  assert.deepEqual(backendsIn(parsed, '/elsewhere'), []);
  assert.match(describeInstalled([], '/elsewhere'), /found no GPU backend package .* in \/elsewhere/);
  assert.match(errorText(parseProbeOutput('Usage: l3m')), /printed no JSON: Usage: l3m/);
  assert.match(errorText(parseProbeOutput('{}')), /without a "backends" list/);
});
