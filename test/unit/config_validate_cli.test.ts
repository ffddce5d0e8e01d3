// `l3m validate`: file:line:column: severity: message lines, exit 1 on errors only, --strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run } from '../../sidecar/cli/validate';

/** Runs the command in-process and captures what it prints. */
async function validate(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...parts: unknown[]) => {
    out.push(parts.join(' '));
  };
  console.error = (...parts: unknown[]) => {
    err.push(parts.join(' '));
  };
  try {
    return { code: await run(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'l3m-validate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const good = join(dir, 'good.l3m.json');
writeFileSync(good, JSON.stringify({ name: 'good', task: 'regression', backbone: { source: 'random' } }, null, 2));
const warned = join(dir, 'warned.l3m.json');
writeFileSync(
  warned,
  JSON.stringify({ name: 'warned', task: 'regression', backbone: { path: 'no/such/checkpoint' } }, null, 2),
);
const broken = join(dir, 'broken.l3m.json');
writeFileSync(
  broken,
  '{\n  "name": "broken",\n  "task": "regression",\n  "backbone": { "source": "random" },\n  "training": { "lr": -1 }\n}\n',
);

test('a valid config prints only the summary and exits 0', async () => {
  const { code, out } = await validate([good]);
  assert.equal(code, 0);
  assert.deepEqual(out, ['1 config checked (edit mode): 0 errors, 0 warnings.']);
});

test('errors print as file:line:col: error: message and exit 1', async () => {
  const { code, out } = await validate([broken]);
  assert.equal(code, 1);
  assert.match(
    out[0],
    new RegExp(
      `^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:23: error: Value is below the exclusive minimum of 0\\.$`,
    ),
  );
});

test('warnings are printed but exit 0; --strict makes a missing checkpoint an error', async () => {
  const edit = await validate([warned]);
  assert.equal(edit.code, 0);
  assert.match(
    edit.out[0],
    /warned\.l3m\.json:5:13: warning: backbone\.path: the checkpoint folder .*no\/such\/checkpoint does not exist here/,
  );
  const strict = await validate(['--strict', warned]);
  assert.equal(strict.code, 1);
  assert.match(strict.out[0], /:5:13: error: backbone\.path/);
  assert.match(strict.out.at(-1) ?? '', /strict mode\): 1 error, 0 warnings/);
});

test('folders are searched for *.l3m.json; a missing file is an error, not a crash', async () => {
  const sub = join(dir, 'nested');
  mkdirSync(sub, { recursive: true });
  writeFileSync(
    join(sub, 'inner.l3m.json'),
    '{ "name": "inner", "task": "regression", "backbone": { "source": "random" } }',
  );
  const folder = await validate([sub]);
  assert.equal(folder.code, 0);
  assert.match(folder.out.at(-1) ?? '', /^1 config checked/);
  const missing = await validate([join(dir, 'absent.l3m.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.out[0], /absent\.l3m\.json:1:1: error: Cannot read the config file .*ENOENT/);
});

test('usage errors exit 2', async () => {
  assert.equal((await validate([])).code, 2);
  assert.equal((await validate(['--frobnicate', good])).code, 2);
});
