// The panels' host side on real run folders: metrics.jsonl read up to its last complete line, the
// follower reading only appended bytes (and a line written in two parts once), sample files and
// their problems (the .npy decoding itself is npy_format.test.ts's), and the page shell's CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareRun,
  cutOffLastLine,
  inspectorInit,
  inspectorSample,
  monitorInit,
  readMetrics,
} from '../../extension/panels/run_data';
import { MetricsFollower } from '../../extension/panels/metrics_follower';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../extension/panels/panel_html';
import { parseNpy } from '../../sidecar/protocol/npy_format';
import type { MetricRecord, RunRecord } from '../../sidecar/protocol/run_folder';
import { RunRecordFollower } from '../../extension/panels/run_record_follower';
import { trainingRecords, writeMetrics, writeRun, writeSamples } from '../browser/run_fixtures';

const line = (r: MetricRecord) => JSON.stringify(r) + '\n';

test('readMetrics stops at the last complete line and says when the file ends in part of one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-rd-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', {});
    assert.deepEqual(await readMetrics(runDir), {
      records: [],
      problems: [],
      system: [],
      systemSkipped: 0,
      bytes: 0,
      incompleteTail: false,
    });
    const records = trainingRecords(5, 100);
    writeMetrics(runDir, records, '{"step": 6, "ep');
    const read = await readMetrics(runDir);
    assert.equal(read.records.length, 5);
    assert.equal(read.incompleteTail, true);
    assert.deepEqual(read.problems, []);
    assert.equal(read.bytes, records.map(line).join('').length);
    // The run (completed) ended there: the line was cut off, and the monitor and compare say so.
    assert.ok((await monitorInit(runDir)).message.problems.includes(cutOffLastLine));
    assert.ok((await compareRun(runDir)).problems.includes(cutOffLastLine));
    // A complete last line without its newline is still a record (a new step: a repeated one is shown once).
    writeFileSync(
      join(runDir, 'metrics.jsonl'),
      records.map(line).join('') + JSON.stringify({ ...records[4], step: records[4].step + 1 }),
    );
    assert.equal((await readMetrics(runDir)).records.length, 6);
    const init = await monitorInit(join(dir, 'e', 'missing'));
    assert.equal(init.message.run.record, null);
    assert.match(init.message.problems[0], /run\.json: missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a line still being written by a live run is no problem, and the follower reads it once complete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-live-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'regression', {}, 'running');
    const records = trainingRecords(4, 100);
    const text = line(records[3]);
    writeMetrics(runDir, records.slice(0, 3), text.slice(0, 12));
    const { message, bytes } = await monitorInit(runDir);
    assert.deepEqual(message.problems, [], 'a healthy run shows no read error');
    assert.equal((await compareRun(runDir)).problems.length, 0);
    const got: MetricRecord[] = [];
    const problems: string[] = [];
    const follower = new MetricsFollower(runDir, bytes, {
      onRecords: (r, p) => {
        got.push(...r);
        problems.push(...p);
      },
      onReset: () => assert.fail('the file was only appended to'),
    });
    appendFileSync(join(runDir, 'metrics.jsonl'), text.slice(12));
    await follower.readAppended();
    assert.deepEqual(
      got.map((r) => r.step),
      [4],
    );
    assert.deepEqual(problems, []);
    await follower.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the follower reads appended bytes only, and a line written in two parts once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-follow-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', {});
    const records = trainingRecords(6, 100);
    writeMetrics(runDir, records.slice(0, 2));
    const { bytes } = await readMetrics(runDir);
    const got: MetricRecord[] = [];
    const problems: string[] = [];
    let resets = 0;
    const follower = new MetricsFollower(runDir, bytes, {
      onRecords: (r, p) => {
        got.push(...r);
        problems.push(...p);
      },
      onReset: () => resets++,
    });
    const text = line(records[2]);
    appendFileSync(join(runDir, 'metrics.jsonl'), text.slice(0, 10));
    await follower.readAppended();
    assert.equal(got.length, 0, 'half a line is not read');
    appendFileSync(join(runDir, 'metrics.jsonl'), text.slice(10) + line(records[3]));
    await follower.readAppended();
    assert.deepEqual(
      got.map((r) => r.step),
      [3, 4],
    );
    appendFileSync(join(runDir, 'metrics.jsonl'), 'garbage\n' + line(records[4]));
    await follower.readAppended();
    assert.deepEqual(
      got.map((r) => r.step),
      [3, 4, 5],
    );
    assert.match(problems[0], /not valid JSON/);
    writeFileSync(join(runDir, 'metrics.jsonl'), line(records[0]));
    await follower.readAppended();
    assert.equal(resets, 1, 'a shorter file means it was rewritten');
    await follower.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inspector data: samples as .npy bytes, missing and corrupt files named, paths kept inside samples/', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-insp-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', {});
    const none = await inspectorInit(runDir);
    assert.equal(none.samples, null);
    assert.match(none.problems[0], /samples\/index\.json is missing/);
    const { truth } = writeSamples(runDir, 6, 8);
    const init = await inspectorInit(runDir);
    assert.equal(init.samples?.entries.length, 2);
    const good = await inspectorSample(runDir, init.samples, 0);
    assert.deepEqual(good.problems, []);
    const parsed = parseNpy(good.truth as ArrayBuffer, 'samples/lc0_truth.npy');
    assert.ok('array' in parsed);
    assert.deepEqual(parsed.array.shape, [6, 8, 8]);
    assert.deepEqual([...parsed.array.data.slice(0, 5)], [...truth.slice(0, 5)]);
    const bad = await inspectorSample(runDir, init.samples, 1);
    assert.equal(bad.truth, null);
    assert.match(bad.problems[0], /lc1_truth\.npy: the file is missing/);
    const corrupt = parseNpy(bad.generated as ArrayBuffer, 'samples/lc1_generated.npy');
    assert.ok('error' in corrupt && /^samples\/lc1_generated\.npy: not a NumPy \.npy file/.test(corrupt.error));
    const escape = await inspectorSample(
      runDir,
      { entries: [{ ...init.samples.entries[0], truth: '../run.json' }] },
      0,
    );
    assert.match(escape.problems[0], /outside samples\//);
    assert.match((await inspectorSample(runDir, init.samples, 7)).problems[0], /no sample 7/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare data: config and metrics of a run; an unreadable config is a problem, not a failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-cmp-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', { lr: 1 });
    writeMetrics(runDir, trainingRecords(3, 100));
    const run = await compareRun(runDir);
    assert.deepEqual(run.config, { lr: 1 });
    assert.equal(run.columns.length, 3);
    assert.ok(run.columns.step instanceof Float64Array, 'metrics travel as typed columns');
    assert.deepEqual(
      run.columns.metrics.map((m) => m.name),
      ['loss', 'lr', 'steps_per_s'],
    );
    writeFileSync(join(runDir, 'config.json'), '{');
    const broken = await compareRun(runDir);
    assert.equal(broken.config, null);
    assert.match(broken.problems[0], /config\.json is not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('page shell: nonce-only scripts, no eval, no remote content', () => {
  const nonce = makeNonce((n) => new Uint8Array(n).map((_, i) => i * 7));
  assert.match(nonce, /^[A-Za-z0-9_-]{24}$/);
  const csp = contentSecurityPolicy('https://x.vscode-resource', nonce);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'(;|$)`));
  assert.doesNotMatch(csp, /unsafe-eval|https?:\/\/(?!x\.vscode-resource)|\*/);
  const html = panelHtml({
    page: 'monitor',
    title: 'A <b>',
    scriptUri: 's.js',
    styleUri: 's.css',
    cspSource: 'https://x.vscode-resource',
    nonce,
  });
  assert.match(html, new RegExp(`<script nonce="${nonce}" src="s.js"></script>`));
  assert.match(html, /<title>A &#60;b&#62;<\/title>/);
});

test("the monitor's host follows run.json, so a run started elsewhere shows its stage as it goes", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-record-'));
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'regression', {}, 'running');
    const seen: RunRecord[] = [];
    let told: () => void = () => undefined;
    const follower = new RunRecordFollower(runDir, (record) => {
      seen.push(record);
      told();
    });
    follower.start();
    // The follower's watcher does not keep a process alive (the extension host stays up anyway); this
    // test's process must, or it can end before the kernel reports the rename.
    keepAlive = setInterval(() => undefined, 1000);
    const next = () => new Promise<void>((resolve) => (told = resolve));
    // Rewritten as the sidecar does it: a temporary file renamed over run.json.
    const rewrite = (change: Partial<RunRecord>) => {
      const record = { ...(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunRecord), ...change };
      writeFileSync(join(runDir, 'run.json.tmp'), JSON.stringify(record));
      renameSync(join(runDir, 'run.json.tmp'), join(runDir, 'run.json'));
    };
    let arrived = next();
    rewrite({
      progress: { step: 0, totalSteps: 0, epoch: 0, stage: { name: 'data', text: 'simulating lightcones 3/40' } },
    });
    await arrived;
    assert.equal(seen[seen.length - 1].progress?.stage?.text, 'simulating lightcones 3/40');
    arrived = next();
    rewrite({ status: 'completed', progress: { step: 8, totalSteps: 8, epoch: 1 } });
    await arrived;
    assert.equal(seen[seen.length - 1].status, 'completed');
    follower.close();
  } finally {
    clearInterval(keepAlive);
    rmSync(dir, { recursive: true, force: true });
  }
});
