// validateConfig: schema + semantic diagnostics with ranges for any text, never an exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSeverity } from 'vscode-json-languageservice';
import { validateConfig, hasErrors, formatDiagnostic, messageText } from '../../schemas/validate_config';
import type { ConfigFileSystem } from '../../schemas/config_context';

const emptyFs: ConfigFileSystem = { exists: () => false, isDirectory: () => false, list: () => [] };
const context = { configPath: '/w/a.l3m.json', mode: 'edit' as const, fileSystem: emptyFs };
const random = '"backbone": { "source": "random" }';

test('a minimal valid config has no diagnostics', async () => {
  assert.deepEqual(await validateConfig(`{ "name": "a", "task": "regression", ${random} }`, context), []);
});

test('schema violations are errors with the range of the offending value', async () => {
  const text = `{ "name": "a", "task": "regression", ${random}, "training": { "batch_size": 0, "optimizer": "sgd" }, "extra": true }`;
  const diagnostics = await validateConfig(text, context);
  const found = diagnostics.map((d) => [
    messageText(d),
    text.slice(d.range.start.character, d.range.end.character),
    d.severity,
  ]);
  assert.deepEqual(found, [
    ['Value is below the minimum of 1.', '0', DiagnosticSeverity.Error],
    ['Value is not accepted. Valid values: "adamw", "adam".', '"sgd"', DiagnosticSeverity.Error],
    ['Property extra is not allowed.', '"extra"', DiagnosticSeverity.Error],
  ]);
});

test('a "$schema" naming another schema does not switch validation off', async () => {
  for (const schema of ['../schemas/l3m-experiment.schema.json', 'https://example.com/other.json']) {
    const diagnostics = await validateConfig(
      `{ "$schema": "${schema}", "name": "a", "task": "regression", ${random}, "extra": 1 }`,
      context,
    );
    assert.deepEqual(diagnostics.map(messageText), ['Property extra is not allowed.'], schema);
  }
});

test('malformed text gives diagnostics, never an exception', async () => {
  for (const text of [
    '',
    '   ',
    '{',
    '{ "name": ',
    'null',
    '42',
    '"text"',
    '[{}]',
    '{ "name": "a", }',
    '{ // comment\n "name": "a" }',
    '{"task": "generation", "data": {"patch_size": "big", "sublightcone": []}, "backbone": {"architecture": null}}',
    '\u0000\u0001',
    '{"a":'.repeat(200),
  ]) {
    const diagnostics = await validateConfig(text, context);
    assert.ok(hasErrors(diagnostics), `expected an error for ${JSON.stringify(text.slice(0, 40))}`);
  }
});

test('comments and trailing commas are errors (configs are strict JSON for every reader)', async () => {
  const diagnostics = await validateConfig(`{ "name": "a", "task": "regression", ${random}, /* note */ }`, context);
  assert.ok(diagnostics.some((d) => /Comments are not permitted/.test(messageText(d))));
  assert.ok(diagnostics.some((d) => /Trailing comma/.test(messageText(d))));
});

test('formatDiagnostic prints 1-based line and column', () => {
  const line = formatDiagnostic(
    {
      range: { start: { line: 2, character: 4 }, end: { line: 2, character: 9 } },
      severity: DiagnosticSeverity.Warning,
      message: 'careful',
    },
    'x.l3m.json',
  );
  assert.equal(line, 'x.l3m.json:3:5: warning: careful');
});

test('random damage to a real example (cuts, deletions, swapped types) never throws', async () => {
  const { readFileSync } = await import('node:fs');
  const original = readFileSync('examples/generation-pretrained-lora-r8.l3m.json', 'utf8');
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 150; i++) {
    const at = Math.floor(next() * original.length);
    const variants = [
      original.slice(0, at),
      original.slice(0, at) + original.slice(at + 1 + Math.floor(next() * 20)),
      original.replace(/: (\d+(\.\d+)?)/g, (match, _n, _f, offset: number) => (offset > at ? ': "x"' : match)),
      original.replace(/"(\w+)": \{/g, (match, _k, offset: number) => (offset > at ? `"${_k}": [` : match)),
    ];
    for (const text of variants) {
      await assert.doesNotReject(validateConfig(text, context), `variant at ${at}`);
    }
  }
});
