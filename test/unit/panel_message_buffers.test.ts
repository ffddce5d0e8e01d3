// A panel message's binary parts, on both sides of VS Code's webview transport: the host packs every
// typed array of a message into one buffer (VS Code carries at most 253 buffers per message and drops
// the rest without a word), with the same values, types and lengths; the compare page refuses columns
// that arrived shorter than they were sent and says so in the run's row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRun } from '../../extension/panels/run_data';
import { maxMessageBuffers, messageBufferCount, packTypedArrays } from '../../extension/panels/typed_array_packing';
import { checkReceivedRuns, columnsProblem, rowNote } from '../../webview/compare/received_runs';
import { recordsToColumns } from '../../webview/shared/metric_table';
import type { CompareRuns, InspectorSample } from '../../webview/shared/panel_protocol';
import { writeMetrics, writeRun } from '../browser/run_fixtures';
import { regressionMetricNames, regressionRecords } from '../browser/regression_metrics';

/** Every typed array of a JSON-like value, with its path, in a stable order. */
function typedArrays(value: unknown, path = ''): [string, ArrayBufferView][] {
  if (ArrayBuffer.isView(value)) return [[path, value]];
  if (value instanceof ArrayBuffer || typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => typedArrays(item, `${path}.${key}`));
}

test('15 regression runs of 31 metrics: 990 buffers unpacked, one packed, every column unchanged', async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-pack-'));
  try {
    const runDirs = Array.from({ length: 15 }, (_, i) => {
      const runDir = writeRun(runsDir, 'many', `20260301-1000${String(i).padStart(2, '0')}-aa00`, 'regression', {});
      writeMetrics(runDir, regressionRecords(40, 8, i + 1));
      return runDir;
    });
    const message: CompareRuns = { type: 'compare/runs', runs: await Promise.all(runDirs.map(compareRun)) };
    assert.deepEqual(
      message.runs.map((r) => [r.columns.length, r.columns.metrics.length]),
      runDirs.map(() => [46, regressionMetricNames.length]),
    );
    // 4 columns and 2 per metric, each its own buffer: far past what one webview message carries.
    assert.equal(messageBufferCount(message), 15 * (4 + 2 * 31));
    assert.ok(messageBufferCount(message) > maxMessageBuffers);

    const packed = packTypedArrays(message);
    assert.equal(messageBufferCount(packed), 1);
    const before = typedArrays(message);
    const after = typedArrays(packed);
    assert.deepEqual(
      after.map(([path]) => path),
      before.map(([path]) => path),
    );
    after.forEach(([path, view], i) => {
      const original = before[i][1];
      assert.equal(view.constructor, original.constructor, path);
      assert.equal(view.byteOffset % 8, 0, `${path} is aligned for a Float64Array`);
      // deepEqual compares typed arrays element-wise, NaN equal to NaN.
      assert.deepEqual(view, original, path);
      assert.notEqual(view.buffer, original.buffer, `${path} is a copy; the message posted is not changed`);
    });
    // What is not binary is the same.
    assert.deepEqual(
      packed.runs.map((r) => [r.run, r.config, r.problems, r.columns.length]),
      message.runs.map((r) => [r.run, r.config, r.problems, r.columns.length]),
    );
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
});

test('packing: one typed array is left as it is, a shared one stays shared, bare ArrayBuffers stay buffers', () => {
  const single = { type: 'x', values: new Float64Array([1, 2, 3]) };
  assert.equal(packTypedArrays(single), single);

  const shared = new Uint8Array([1, 0, 1]);
  const odd = new Uint8Array([7]);
  const packed = packTypedArrays({ a: shared, b: [shared, odd, new Float64Array([0.5, NaN])], c: 'text', d: null });
  assert.equal(packed.a, packed.b[0]);
  assert.deepEqual(packed.b[2], new Float64Array([0.5, NaN]));
  assert.equal((packed.b[2] as Float64Array).byteOffset % 8, 0);
  assert.deepEqual([packed.c, packed.d], ['text', null]);

  const truth = new ArrayBuffer(16);
  const sample: InspectorSample = { type: 'inspector/sample', index: 0, truth, generated: null, problems: [] };
  assert.equal(packTypedArrays(sample).truth, truth);
});

test('received columns shorter than sent: the run keeps its row, without values, and says why', () => {
  const records = regressionRecords(10, 5, 1);
  const whole = recordsToColumns(records);
  assert.equal(columnsProblem(whole), null);
  // What the page got when VS Code dropped a run's buffers: typed arrays rebuilt over nothing, empty.
  const lost = {
    ...whole,
    metrics: whole.metrics.map((m, i) =>
      i < 2 ? m : { ...m, values: new Float64Array(0), present: new Uint8Array(0) },
    ),
  };
  const problem = columnsProblem(lost);
  assert.match(problem ?? '', /^its metrics arrived incomplete: 13 records were sent, but steps_per_s \(0\), /);
  assert.match(
    problem ?? '',
    /and 25 more arrived with fewer values; nothing of them is shown\. Close and reopen Compare/,
  );

  const run = (columns: typeof whole, problems: string[] = []) => ({
    run: { runDir: '/runs/r/1', name: 'r/1', record: null },
    config: {},
    columns,
    problems,
  });
  const [kept, refused] = checkReceivedRuns([run(whole), run(lost, ['config.json: missing'])]);
  assert.equal(kept.columns, whole);
  assert.equal(rowNote(kept), null);
  assert.equal(refused.columns.length, 0);
  assert.equal(refused.columns.metrics.length, 0);
  assert.equal(rowNote(refused), `config.json: missing ${problem}`);
  assert.equal(rowNote(run(recordsToColumns([]))), 'no metrics logged yet (metrics.jsonl is empty or absent)');
});
