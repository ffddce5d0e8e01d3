// Configs too large or too deeply nested to validate get one diagnostic that says so, from the
// validator, `l3m validate` and the language server alike, instead of a stack overflow or a
// validation of many seconds; the limits' boundaries are exact and strings do not count as nesting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxConfigBytes, maxConfigDepth } from '../../schemas/config_limits';
import { loadConfigFile } from '../../schemas/load_config';
import { messageText, validateConfig } from '../../schemas/validate_config';
import type { ConfigContext } from '../../schemas/config_context';
import { run as validateCli } from '../../sidecar/cli/validate';
import { emptyFs, nextDiagnostics, startPair, within } from './language_server_pair';

const context: ConfigContext = { configPath: '/w/limits.l3m.json', mode: 'edit', fileSystem: emptyFs };

/** A config whose unknown "extra" field nests `levels` arrays; the root object is one more level. */
function nested(levels: number): string {
  return `{\n  "name": "deep",\n  "task": "regression",\n  "extra": ${'['.repeat(levels)}${']'.repeat(levels)}\n}\n`;
}

/** A config of exactly `bytes` bytes (padding in an unknown string field). */
function sized(bytes: number): string {
  const head = '{"name": "big", "task": "regression", "extra": "';
  const tail = '"}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

const deepMessage = new RegExp(
  `^The config is nested deeper than ${maxConfigDepth} levels \\(here, at level ${maxConfigDepth + 1}\\)`,
);
const sizeMessage = /^The config is \d+\.\d MiB \([\d,]+ bytes\); L3M Studio reads configs of at most 1 MiB/;

test('the limits: 1 MiB and 64 levels', () => {
  assert.equal(maxConfigBytes, 1 << 20);
  assert.equal(maxConfigDepth, 64);
});

test('5000 levels deep: one diagnostic at the first bracket too deep, not a stack overflow', async () => {
  const diagnostics = await validateConfig(nested(5000), context);
  assert.equal(diagnostics.length, 1, diagnostics.map(messageText).join('\n'));
  assert.match(messageText(diagnostics[0]), deepMessage);
  assert.match(messageText(diagnostics[0]), /an experiment config has at most 5\./);
  // Level 1 is the root object, so the 64th "[" opens level 65.
  assert.deepEqual(diagnostics[0].range.start, { line: 3, character: 11 + maxConfigDepth - 1 });
  assert.equal(diagnostics[0].severity, 1);
});

test('the depth limit is exact, and brackets inside strings or after the root do not count', async () => {
  const atLimit = await validateConfig(nested(maxConfigDepth - 1), context);
  assert.ok(
    atLimit.every((d) => !/nested deeper/.test(messageText(d))),
    atLimit.map(messageText).join('\n'),
  );
  assert.ok(
    atLimit.some((d) => /Property extra is not allowed/.test(messageText(d))),
    'the schema still validates it',
  );
  const overLimit = await validateConfig(nested(maxConfigDepth), context);
  assert.match(messageText(overLimit[0]), deepMessage);
  const inString = await validateConfig(`{"name": "${'['.repeat(5000)}\\"{{{", "task": "regression"}`, context);
  assert.ok(
    inString.every((d) => !/nested deeper/.test(messageText(d))),
    inString.map(messageText).join('\n'),
  );
});

test('over 1 MiB: one diagnostic with the size; exactly 1 MiB is validated; bytes are UTF-8 bytes', async () => {
  const over = await validateConfig(sized(maxConfigBytes + 1), context);
  assert.equal(over.length, 1);
  assert.match(messageText(over[0]), sizeMessage);
  assert.match(messageText(over[0]), /\(1,048,577 bytes\)/);
  const atLimit = await validateConfig(sized(maxConfigBytes), context);
  assert.ok(
    atLimit.every((d) => !/MiB/.test(messageText(d))),
    atLimit.map(messageText).join('\n'),
  );
  // 600 000 "é" are 1.2 MB of UTF-8 in 0.6 M characters.
  const accents = await validateConfig(`{"name": "${'é'.repeat(600_000)}", "task": "regression"}`, context);
  assert.match(messageText(accents[0]), /\(1,200,034 bytes\)/);
});

test('l3m validate and loadConfigFile: a deep and a 50 MB config each get their diagnostic, the batch goes on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-limits-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const deep = join(dir, 'deep.l3m.json');
  writeFileSync(deep, nested(5000));
  const big = join(dir, 'big.l3m.json');
  writeFileSync(big, sized(50_000_000));
  const good = join(dir, 'good.l3m.json');
  writeFileSync(good, '{"name": "good", "task": "regression", "backbone": {"source": "random"}}');
  const loaded = await loadConfigFile(big, 'run');
  assert.equal(loaded.config, undefined);
  assert.equal(loaded.text, '', 'a file over the limit is not read');
  assert.match(
    messageText(loaded.diagnostics[0]),
    /^The config is 47\.7 MiB \(50,000,000 bytes\); L3M Studio reads configs of at most 1 MiB/,
  );

  const out: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => {
    out.push(parts.join(' '));
  };
  let code: number;
  try {
    code = await validateCli([deep, big, good]);
  } finally {
    console.log = log;
  }
  assert.equal(code, 1);
  assert.match(
    out[0],
    new RegExp(`deep\\.l3m\\.json:4:${11 + maxConfigDepth}: error: The config is nested deeper than 64 levels`),
  );
  assert.match(out[1], /big\.l3m\.json:1:1: error: The config is 47\.7 MiB/);
  assert.equal(out[2], '3 configs checked (edit mode): 2 errors, 0 warnings.');
});

test('language server: a deep and an oversized document get their diagnostic; hover and completion answer null', async () => {
  const client = startPair();
  await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
  for (const [name, text, message] of [
    ['deep', nested(5000), deepMessage],
    ['big', sized(2 * maxConfigBytes), sizeMessage],
  ] as const) {
    const uri = `file:///w/${name}.l3m.json`;
    const published = within(nextDiagnostics(client, uri), 10_000);
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'json', version: 1, text },
    });
    const diagnostics = (await published)?.diagnostics;
    assert.ok(diagnostics, `no diagnostics published for ${name}.l3m.json within 10 s`);
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, message);
    const position = { line: 0, character: 3 };
    assert.equal(await client.sendRequest('textDocument/hover', { textDocument: { uri }, position }), null);
    assert.equal(await client.sendRequest('textDocument/completion', { textDocument: { uri }, position }), null);
  }
});
