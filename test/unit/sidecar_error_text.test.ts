// The one line a notification shows for an error from the sidecar (extension/sidecar_error_text.ts):
// a config error from the real validator, as the RPC server maps it, stated once and in the
// workspace's relative paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseError } from 'vscode-jsonrpc';
import { describeSidecarError, isConfigInvalid, relativeToWorkspace } from '../../extension/sidecar_error_text';
import { toResponseError } from '../../sidecar/rpc/server';
import { ConfigInvalidError } from '../../schemas/load_config';
import { validateConfig } from '../../schemas/validate_config';
import { ErrorCodes } from '../../sidecar/protocol/messages';

const emptyFs = { exists: () => false, isDirectory: () => false, list: () => [] };

test('a config error names the file relative to the workspace and its first error once, the count, and the Problems panel', async () => {
  const configPath = '/w/project/experiments/bad.l3m.json';
  const text = JSON.stringify(
    {
      name: 'bad',
      task: 'regression',
      backbone: { source: 'random', architecture: { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 3 } },
      training: { lrr: 1 },
    },
    null,
    2,
  );
  const diagnostics = await validateConfig(text, { configPath, mode: 'run', fileSystem: emptyFs });
  const error = toResponseError(new ConfigInvalidError(configPath, diagnostics));
  assert.equal(isConfigInvalid(error), true);
  const line = describeSidecarError(error, ['/w/project']);
  assert.doesNotMatch(line, /\/w\/project/, `no absolute path: ${line}`);
  assert.match(line, /^experiments\/bad\.l3m\.json has 2 errors: line \d+, column \d+: /);
  assert.match(line, /\(and 1 more; see the Problems panel\)$/);
  // Each diagnostic's text appears at most once (the sidecar's message lists all of them, then the first again).
  for (const d of diagnostics) {
    const message = typeof d.message === 'string' ? d.message : d.message.value;
    assert.ok(line.split(message).length - 1 <= 1, `"${message}" is repeated in: ${line}`);
  }
});

test('other errors keep their message; only paths inside a workspace folder become relative', () => {
  const error = new ResponseError(
    ErrorCodes.memoryExceeded,
    'The run of /w/a/x.l3m.json needs 40 GiB; /data/cones is outside the workspace.',
  );
  assert.equal(isConfigInvalid(error), false);
  assert.equal(
    describeSidecarError(error, ['/w/a']),
    'The run of x.l3m.json needs 40 GiB; /data/cones is outside the workspace.',
  );
  assert.equal(describeSidecarError(new Error('plain /w/a/b/c.json'), ['/w/a', '/w/a/b']), 'plain c.json');
  assert.equal(relativeToWorkspace('/w/ab/c', ['/w/a']), '/w/ab/c', 'a folder is matched whole');
});
