// The sidecar client's backstop for an untrusted workspace: when the extension says a sidecar may
// not start, a request is refused with the reason and no process is spawned, whatever command asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as protocol from '../../sidecar/protocol/messages';
import { SidecarClient } from '../../extension/sidecar_client';

test('no sidecar starts while mayStart says no', async () => {
  const notes: string[] = [];
  const client = new SidecarClient({
    nodePath: process.execPath,
    sidecarScript: 'dist/sidecar.js',
    runsDir: '',
    clientName: 'test',
    output: (text) => notes.push(text),
    mayStart: () => false,
  });
  await assert.rejects(client.request(protocol.status), /not started in an untrusted workspace/);
  await assert.rejects(client.startRun({ configPath: '/x.l3m.json', runsDir: '/runs' }), /Trust this workspace/);
  assert.equal(client.isRunning, false);
  assert.deepEqual(notes, [], 'nothing was spawned, so nothing was said about starting');
});
