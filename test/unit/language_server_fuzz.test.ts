// The language server against 1000 seeded malformed configs (test/fixtures/malformed_configs.ts):
// each document opened must get diagnostics within 10 s, and hover and completion at a seeded
// position must answer, with no error logged by the server (it logs what it caught) and no
// request failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { malformedConfigs } from '../fixtures/malformed_configs';
import { nextDiagnostics, startPair, within } from './language_server_pair';

const documents = 1000;
const hangAfterMs = 10_000;

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

test(`${documents} malformed configs: diagnostics for each, no crash, no hang`, { timeout: 10 * 60_000 }, async () => {
  const client = startPair();
  const logged: string[] = [];
  client.onNotification('window/logMessage', (params: { type: number; message: string }) => {
    if (params.type === 1) logged.push(params.message);
  });
  await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
  const hangs: string[] = [];
  const silent: string[] = [];
  const failures: string[] = [];
  for (const [index, doc] of malformedConfigs(documents, 1).entries()) {
    const uri = `file:///w/${doc.name}.l3m.json`;
    const published = within(nextDiagnostics(client, uri, 1), hangAfterMs);
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'json', version: 1, text: doc.text },
    });
    const result = await published;
    if (!result) hangs.push(`${doc.name} (${doc.recipe}): no diagnostics within ${hangAfterMs / 1000} s`);
    else if (result.diagnostics.length === 0) silent.push(`${doc.name} (${doc.recipe})`);
    const position = positionAt(doc.text, (index * 7919) % (doc.text.length + 1));
    for (const method of ['textDocument/hover', 'textDocument/completion']) {
      try {
        const answer = await within(
          client.sendRequest(method, { textDocument: { uri }, position }).then(() => 'answered'),
          hangAfterMs,
        );
        if (!answer) hangs.push(`${doc.name} (${doc.recipe}): ${method} took over ${hangAfterMs / 1000} s`);
      } catch (error) {
        failures.push(`${doc.name} (${doc.recipe}): ${method} failed: ${(error as Error).message}`);
      }
    }
    await client.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }
  assert.deepEqual({ hangs, silent, failures, logged }, { hangs: [], silent: [], failures: [], logged: [] });
});
