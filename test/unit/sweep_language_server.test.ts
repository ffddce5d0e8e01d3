// The language server on sweep files, over LSP on in-memory streams (the same real server as the
// config tests): diagnostics, hover with the run count and estimates, and completion of override
// paths and values. The base config is a real file, read through the real file system.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { nextDiagnostics, startPair } from './language_server_pair';

const dir = mkdtempSync(join(tmpdir(), 'l3m-sweep-lsp-'));
copyFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'quickstart-regression.l3m.json'),
  join(dir, 'q.l3m.json'),
);
const uri = pathToFileURL(join(dir, 'table.l3m-sweep.json')).toString();

const good = [
  '{',
  '  "base": "q.l3m.json",',
  '  "repeats": 2,',
  '  "setups": [',
  '    { "name": "full", "overrides": { "backbone.finetune": "full" } },',
  '    { "name": "lora", "overrides": { "backbone.finetune": "lora", "backbone.lora.rank": 2 } }',
  '  ],',
  '  "grid": { "training.lr": [0.001] }',
  '}',
].join('\n');

function position(text: string, needle: string, shift = 1): { line: number; character: number } {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} in the text`);
  const before = text.slice(0, offset + shift).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

async function openClient() {
  const client = startPair(nodeFileSystem);
  await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
  await client.sendNotification('initialized', {});
  return client;
}

test('a sweep file gets its diagnostics: a misspelt override path, named with a suggestion, at its key', async () => {
  const client = await openClient();
  const text = good.replace('"training.lr"', '"training.lrr"');
  const published = nextDiagnostics(client, uri);
  await client.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'json', version: 1, text },
  });
  const { diagnostics } = await published;
  assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
  assert.deepEqual(diagnostics[0].range.start, { line: 7, character: 12 });
  assert.match(diagnostics[0].message, /grid\["training\.lrr"\]: .* Did you mean "training\.lr"\?/);

  const fixed = nextDiagnostics(client, uri, 2);
  await client.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: good }],
  });
  assert.deepEqual((await fixed).diagnostics, []);
});

test('hover: the experiment schema documents an override key; the sweep keys show runs and estimates', async () => {
  const client = await openClient();
  const published = nextDiagnostics(client, uri);
  await client.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'json', version: 1, text: good },
  });
  await published;
  const onOverride = await client.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', {
    textDocument: { uri },
    position: position(good, '"backbone.lora.rank"', 3),
  });
  assert.match(onOverride?.contents.value ?? '', /[Rr]ank/);
  const onGrid = await client.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', {
    textDocument: { uri },
    position: position(good, '"training.lr"', 3),
  });
  assert.match(onGrid?.contents.value ?? '', /Base learning rate/);

  const onRepeats = await client.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', {
    textDocument: { uri },
    position: position(good, '"repeats"', 2),
  });
  const summary = onRepeats?.contents.value ?? '';
  assert.match(summary, /Runs per setup and grid point/);
  assert.match(summary, /\*\*Sweep table:\*\* 4 runs in 2 groups \(2 repeats each\)/);
  // Full finetuning and LoRA r2 differ in size: one estimate each, as config hover shows them.
  assert.match(summary, /q: setup=full, training\.lr=0\.001\*[\s\S]*Parameters:\*\* 20\.2k total, 19\.7k trained/);
  assert.match(
    summary,
    /q: setup=lora, training\.lr=0\.001\*[\s\S]*Parameters:\*\* [\d.]+k total, [\d.]+k? trained[\s\S]*LoRA/,
  );
});

test('completion: override paths as keys of the grid and of a setup, enum values for their values', async () => {
  const client = await openClient();
  const text = [
    '{',
    '  "base": "q.l3m.json",',
    '  "setups": [{ "name": "a", "overrides": { "backbone.finetune":  } }],',
    '  "grid": {  }',
    '}',
  ].join('\n');
  await client.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'json', version: 1, text },
  });
  const labels = async (at: { line: number; character: number }) =>
    (
      await client.sendRequest<{ items: Array<{ label: string }> }>('textDocument/completion', {
        textDocument: { uri },
        position: at,
      })
    ).items.map((i) => i.label);
  const gridKeys = await labels({ line: 3, character: 11 });
  for (const path of ['training.lr', 'backbone.lora.rank', 'data.simulator.count'])
    assert.ok(gridKeys.includes(path), `${path} in ${gridKeys.length} labels`);
  assert.ok(!gridKeys.includes('training.seed'), "the seed is the sweep's to set");
  const values = await labels(position(text, '"backbone.finetune":', 21));
  for (const mode of ['"full"', '"lora"', '"frozen"'])
    assert.ok(values.includes(mode), `${mode} in ${values.join(', ')}`);
});
