// `l3m validate` from the bundle against 1000 seeded malformed configs
// (test/fixtures/malformed_configs.ts), all in one process: it must exit 1 (errors found, not
// 70, an internal error), print at least one diagnostic for every file, count all of them in its
// summary, and never spend over 10 s on one file (the time between one file's first line and the
// next's, as the lines arrive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { malformedConfigs } from '../fixtures/malformed_configs';

const bundle = join(resolve(__dirname, '../..'), 'dist', 'sidecar.js');
const documents = 1000;
const hangAfterMs = 10_000;

test(
  `l3m validate on ${documents} malformed configs: diagnostics for each, no crash, no hang`,
  { timeout: 10 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'l3m-fuzz-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const configs = malformedConfigs(documents, 1).map((doc) => {
      const file = join(dir, `${doc.name}.l3m.json`);
      writeFileSync(file, doc.text);
      return { ...doc, file };
    });

    const started = performance.now();
    const firstLineAt = new Map<string, number>();
    let stdout = '';
    let stderr = '';
    let pending = '';
    const child = spawn(process.execPath, [bundle, 'validate', ...configs.map((c) => c.file)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const now = performance.now();
      stdout += chunk;
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const file = line.slice(0, line.indexOf('.l3m.json:') + '.l3m.json'.length);
        if (file.endsWith('.l3m.json') && !firstLineAt.has(file)) firstLineAt.set(file, now);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));

    assert.equal(code, 1, `exit code ${code}; stderr:\n${stderr.slice(0, 2000)}`);
    assert.equal(stderr, '');
    const silent = configs.filter((c) => !firstLineAt.has(c.file)).map((c) => `${c.name} (${c.recipe})`);
    assert.deepEqual(silent, [], 'files without a diagnostic');
    const slow: string[] = [];
    let previous = started;
    for (const config of configs) {
      const at = firstLineAt.get(config.file)!;
      if (at - previous > hangAfterMs)
        slow.push(`${config.name} (${config.recipe}): ${((at - previous) / 1000).toFixed(1)} s`);
      previous = at;
    }
    assert.deepEqual(slow, [], `files that took over ${hangAfterMs / 1000} s`);
    assert.match(
      stdout,
      new RegExp(`\\n${documents} configs checked \\(edit mode\\): \\d+ errors, \\d+ warnings\\.\\n$`),
    );
  },
);
