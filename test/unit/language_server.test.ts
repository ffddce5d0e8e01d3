// The language server over LSP on in-memory streams (docs/conventions.md#protocol-tests): a real server
// (startConfigServer) and a plain JSON-RPC client, no process and no VS Code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextDiagnostics, startPair } from './language_server_pair';

const uri = 'file:///w/broken.l3m.json';
const text = [
  '{',
  '  "name": "demo",',
  '  "task": "regression",',
  '  "backbone": { "source": "random", "architecture": { "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3 } },',
  '  "mystery": 1,',
  '  "training": { "optimizer": "sgd" }',
  '}',
].join('\n');

test('initialize, open a broken config, read diagnostics; hover and completion answer', async () => {
  const client = startPair();
  const init = await client.sendRequest<{ capabilities: Record<string, unknown> }>('initialize', {
    processId: null,
    rootUri: null,
    capabilities: {},
  });
  assert.equal(init.capabilities.hoverProvider, true);
  assert.ok(init.capabilities.completionProvider);
  await client.sendNotification('initialized', {});

  const published = nextDiagnostics(client, uri);
  await client.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'json', version: 1, text },
  });
  const { diagnostics } = await published;
  const messages = diagnostics.map((d) => `${d.range.start.line}:${d.message}`);
  assert.ok(
    messages.some((m) => m.startsWith('3:') && /num_key_value_heads \(3\) does not divide/.test(m)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => m.startsWith('4:') && /Property mystery is not allowed/.test(m)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => m.startsWith('5:') && /Value is not accepted/.test(m)),
    messages.join('\n'),
  );

  // An edit that fixes everything publishes an empty list for the new version.
  const fixed = nextDiagnostics(client, uri, 2);
  const good =
    '{ "name": "demo", "task": "regression", "backbone": { "source": "random", "architecture": { "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2 } } }';
  await client.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: good }],
  });
  assert.deepEqual((await fixed).diagnostics, []);

  const hover = await client.sendRequest<{ contents: { value: string } }>('textDocument/hover', {
    textDocument: { uri },
    position: { line: 0, character: good.indexOf('hidden_size') + 2 },
  });
  assert.match(hover.contents.value, /Width of the residual stream/);
  assert.match(hover.contents.value, /Parameters:\*\* .* total/);

  const completion = await client.sendRequest<{ items: Array<{ label: string }> }>('textDocument/completion', {
    textDocument: { uri },
    position: { line: 0, character: good.indexOf('"source"') },
  });
  const labels = completion.items.map((i) => i.label);
  assert.ok(labels.includes('finetune') && labels.includes('lora'), labels.join(', '));
});

test('non-JSON text gets diagnostics and the server keeps answering', async () => {
  const client = startPair();
  await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
  const other = 'file:///w/garbage.l3m.json';
  const published = nextDiagnostics(client, other);
  await client.sendNotification('textDocument/didOpen', {
    textDocument: { uri: other, languageId: 'json', version: 1, text: 'not json at all {' },
  });
  assert.ok((await published).diagnostics.length > 0);
  const hover = await client.sendRequest('textDocument/hover', {
    textDocument: { uri: other },
    position: { line: 0, character: 3 },
  });
  assert.equal(hover, null);
});
