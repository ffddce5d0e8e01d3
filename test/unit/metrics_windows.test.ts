// metrics.jsonl on the extension host is parsed at most metricsWindowBytes at a time: the follower
// hands over one window's records per batch, and the initial read and the follower both skip a
// line longer than a window as it streams past, keeping every record around it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics } from '../../extension/panels/run_data';
import { MetricsFollower } from '../../extension/panels/metrics_follower';
import { MetricsLineReader, metricsWindowBytes } from '../../extension/panels/metrics_windows';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import { trainingRecords, writeRun } from '../browser/run_fixtures';

const line = (r: MetricRecord) => JSON.stringify(r) + '\n';

/** Records of about `bytes` bytes of metrics.jsonl, with steps from 1. */
function recordsOf(bytes: number): MetricRecord[] {
  const records = trainingRecords(Math.ceil(bytes / 150), 1000);
  let total = 0;
  return records.filter((r) => (total += line(r).length) <= bytes);
}

/** 2.5 windows of records, a garbage line of 1.5 windows, then a window of records. */
function fileWithLongGarbage(): { text: string; records: MetricRecord[]; garbageLine: number } {
  const before = recordsOf(2.5 * metricsWindowBytes);
  const after = recordsOf(metricsWindowBytes).map((r) => ({ ...r, step: r.step + 1_000_000 }));
  const text = before.map(line).join('') + 'x'.repeat(1.5 * metricsWindowBytes) + '\n' + after.map(line).join('');
  return { text, records: [...before, ...after], garbageLine: before.length + 1 };
}

test('MetricsLineReader: lines split across windows, numbers running on, a long line skipped once', () => {
  const records = trainingRecords(40, 1000);
  const text =
    records.slice(0, 10).map(line).join('') + 'y'.repeat(300) + '\n' + 'bad\n' + records.slice(10).map(line).join('');
  const bytes = Buffer.from(text);
  const reader = new MetricsLineReader(1, 256);
  const got: MetricRecord[] = [];
  const problems: string[] = [];
  let offset = 0;
  let windows = 0;
  while (offset < bytes.length) {
    const taken = reader.take(bytes.subarray(offset, offset + 256));
    assert.ok(taken.consumed > 0, `stuck at byte ${offset}`);
    offset += taken.consumed;
    got.push(...taken.records);
    problems.push(...taken.problems);
    windows++;
  }
  assert.deepEqual(
    got.map((r) => r.step),
    records.map((r) => r.step),
  );
  assert.deepEqual(problems, [
    'metrics.jsonl line 11: longer than 256 bytes without a line break, skipped (a metric record is one line of a few hundred bytes; is this file a metrics log?)',
    'metrics.jsonl line 12: not valid JSON',
  ]);
  assert.ok(windows <= Math.ceil(bytes.length / 256) * 2 + 2, `${windows} windows for ${bytes.length} bytes`);
  // An unfinished short line waits for its end.
  assert.equal(new MetricsLineReader().take(Buffer.from('{"step": 1')).consumed, 0);
});

test('the follower reads a large append one bounded window per batch and skips a line longer than a window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-windows-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', {});
    const file = join(runDir, 'metrics.jsonl');
    writeFileSync(file, '');
    const batches: MetricRecord[][] = [];
    const problems: string[] = [];
    const follower = new MetricsFollower(runDir, 0, {
      onRecords: (r, p) => {
        batches.push(r);
        problems.push(...p);
      },
      onReset: () => assert.fail('no reset'),
    });
    const { text, records, garbageLine } = fileWithLongGarbage();
    appendFileSync(file, text);
    await follower.readAppended();
    assert.deepEqual(
      batches.flat().map((r) => r.step),
      records.map((r) => r.step),
      'every record once, in order',
    );
    for (const batch of batches) {
      const bytes = batch.reduce((sum, r) => sum + line(r).length, 0);
      assert.ok(bytes <= metricsWindowBytes, `one batch parsed ${bytes} bytes; expected at most ${metricsWindowBytes}`);
    }
    assert.deepEqual(problems, [
      `metrics.jsonl line ${garbageLine}: longer than 1 MiB without a line break, skipped (a metric record is one line of a few hundred bytes; is this file a metrics log?)`,
    ]);
    // Following continues after the long line with the right numbers.
    appendFileSync(file, 'oops\n');
    await follower.readAppended();
    assert.equal(problems[1], `metrics.jsonl line ${records.length + 2}: not valid JSON`);
    await follower.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readMetrics skips a line longer than a window and keeps every record around it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-windows-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', {});
    const { text, records, garbageLine } = fileWithLongGarbage();
    writeFileSync(join(runDir, 'metrics.jsonl'), text + '{"step": 9, "ep');
    const read = await readMetrics(runDir);
    assert.deepEqual(
      read.records.map((r) => r.step),
      records.map((r) => r.step),
    );
    assert.equal(read.bytes, Buffer.byteLength(text));
    assert.deepEqual(read.problems, [
      `metrics.jsonl line ${garbageLine}: longer than 1 MiB without a line break, skipped (a metric record is one line of a few hundred bytes; is this file a metrics log?)`,
    ]);
    // A piece of a line at the end: the caller, who knows whether the run still writes, decides (run_data.ts cutOffLastLine).
    assert.equal(read.incompleteTail, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
