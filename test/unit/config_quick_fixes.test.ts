// The editor's help with a broken config: a type error in one field does not hide the relations of the
// others, "Use one of …" comes with a quick fix per value, and an unknown key names the nearest key
// its object allows, with the rename as a quick fix. Checked on validateConfig (which the CLI shares)
// and over LSP on the real language server (textDocument/codeAction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { messageText, validateConfig } from '../../schemas/validate_config';
import { nearestKey, quickFixesOf } from '../../schemas/config_quick_fixes';
import { emptyFs, nextDiagnostics, startPair } from './language_server_pair';

const context = { configPath: '/w/a.l3m.json', mode: 'edit' as const, fileSystem: emptyFs };

function config(architecture: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      name: 'a',
      task: 'regression',
      backbone: {
        source: 'random',
        architecture: { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 1, ...architecture },
      },
      ...extra,
    },
    null,
    2,
  );
}

/** Applies a fix to the text, as the editor does with the code action's edit. */
function applied(text: string, range: { start: unknown; end: unknown }, newText: string): string {
  const document = TextDocument.create('file:///w/a.l3m.json', 'json', 0, text);
  const r = range as { start: { line: number; character: number }; end: { line: number; character: number } };
  return text.slice(0, document.offsetAt(r.start)) + newText + text.slice(document.offsetAt(r.end));
}

test('a type error in hidden_size does not hide the KV-heads error: both are reported', async () => {
  const text = config({ hidden_size: '64', num_key_value_heads: 3 });
  const messages = (await validateConfig(text, context)).map(messageText);
  assert.ok(
    messages.some((m) => /Incorrect type\. Expected "integer"/.test(m)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => /num_key_value_heads \(3\) does not divide num_attention_heads \(4\)/.test(m)),
    `the KV-heads error is missing: ${messages.join(' | ')}`,
  );
});

test('"Use one of 1, 2, 4" carries a fix per value, each of which makes the config valid', async () => {
  const text = config({ num_key_value_heads: 3 });
  const diagnostic = (await validateConfig(text, context)).find((d) => d.code === 'gqa-heads');
  assert.ok(diagnostic);
  const fixes = quickFixesOf(diagnostic);
  assert.deepEqual(
    fixes.map((f) => [f.title, f.newText]),
    [
      ['Change num_key_value_heads to 1', '1'],
      ['Change num_key_value_heads to 2', '2'],
      ['Change num_key_value_heads to 4', '4'],
    ],
  );
  for (const fix of fixes) {
    const fixed = applied(text, diagnostic.range, fix.newText);
    assert.deepEqual((await validateConfig(fixed, context)).map(messageText), [], fixed);
  }
});

test('an unknown key names the nearest allowed key of its object and carries the rename', async () => {
  const text = config({}, { trainig: { lr: 0.01 }, evaluation: { evrey: 2 } });
  const diagnostics = await validateConfig(text, context);
  const messages = diagnostics.map(messageText);
  assert.ok(messages.includes('Property trainig is not allowed. Did you mean "training"?'), messages.join('\n'));
  assert.ok(messages.includes('Property evrey is not allowed. Did you mean "every"?'), messages.join('\n'));
  let fixed = text;
  // Applied last first, so that the earlier ranges stay where they are.
  for (const d of [...diagnostics].reverse()) {
    const [fix] = quickFixesOf(d);
    assert.ok(fix, `a fix for ${messageText(d)}`);
    fixed = applied(fixed, d.range, fix.newText);
  }
  assert.deepEqual((await validateConfig(fixed, context)).map(messageText), [], fixed);
});

test('a value the schema does not accept offers each accepted value', async () => {
  const text = config({}, { training: { optimizer: 'sgd' } });
  const diagnostic = (await validateConfig(text, context)).find((d) => /Value is not accepted/.test(messageText(d)));
  assert.ok(diagnostic);
  assert.deepEqual(
    quickFixesOf(diagnostic).map((f) => [f.title, f.newText]),
    [
      ['Change to "adamw"', '"adamw"'],
      ['Change to "adam"', '"adam"'],
    ],
  );
  const fixed = applied(text, diagnostic.range, quickFixesOf(diagnostic)[0].newText);
  assert.deepEqual((await validateConfig(fixed, context)).map(messageText), [], fixed);
});

test('nearest keys: only close ones, in the object the key is in', () => {
  assert.equal(nearestKey([], 'trainig'), 'training');
  assert.equal(nearestKey(['training'], 'batchsize'), 'batch_size');
  assert.equal(nearestKey(['training'], 'LR'), 'lr');
  assert.equal(nearestKey([], 'extra'), undefined, 'no key is close to "extra"');
  assert.equal(nearestKey(['backbone', 'architecture'], 'hiden_size'), 'hidden_size');
  assert.equal(nearestKey([], 'hiden_size'), undefined, 'hidden_size is not a top-level key');
});

test('over LSP: the server offers the fixes as quick-fix code actions at the diagnostic', async () => {
  const client = startPair();
  const init = await client.sendRequest<{ capabilities: Record<string, unknown> }>('initialize', {
    processId: null,
    rootUri: null,
    capabilities: {},
  });
  assert.deepEqual(init.capabilities.codeActionProvider, { codeActionKinds: ['quickfix'] });
  await client.sendNotification('initialized', {});
  const uri = 'file:///w/fix.l3m.json';
  const text = config({ num_key_value_heads: 3 }, { trainig: {} });
  const published = nextDiagnostics(client, uri);
  await client.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'json', version: 1, text },
  });
  const { diagnostics } = await published;
  const kv = diagnostics.find((d) => /num_key_value_heads \(3\)/.test(d.message));
  assert.ok(kv, diagnostics.map((d) => d.message).join('\n'));
  const at = kv.range.start;
  const actions = await client.sendRequest<
    { title: string; kind: string; edit: { changes: Record<string, { newText: string }[]> } }[]
  >('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: at, end: at },
    context: { diagnostics: [] },
  });
  assert.deepEqual(
    actions.map((a) => [a.title, a.kind, a.edit.changes[uri][0].newText]),
    [
      ['Change num_key_value_heads to 1', 'quickfix', '1'],
      ['Change num_key_value_heads to 2', 'quickfix', '2'],
      ['Change num_key_value_heads to 4', 'quickfix', '4'],
    ],
  );
  const key = diagnostics.find((d) => /Property trainig/.test(d.message));
  assert.ok(key);
  const rename = await client.sendRequest<{ title: string }[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: key.range.start, end: key.range.start },
    context: { diagnostics: [] },
  });
  assert.deepEqual(
    rename.map((a) => a.title),
    ['Rename to "training"'],
  );
});
