// A resumed run rewinds metrics.jsonl to its checkpoint's step by writing a new file in its place
// (run_store.ts rewindMetrics). When the run appends past the old length before the follower reads,
// the size alone does not show the rewrite: the follower must tell by the file's identity, or it reads
// from a stale offset into the middle of a line and drops or repeats steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics } from '../../extension/panels/run_data';
import { MetricsFollower } from '../../extension/panels/metrics_follower';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import { trainingRecords, writeMetrics, writeRun } from '../browser/run_fixtures';

const line = (r: MetricRecord) => JSON.stringify(r) + '\n';

test('a metrics.jsonl replaced by a rewound one that grew past the old length is read again from the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-rewind-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'generation', {});
    const file = join(runDir, 'metrics.jsonl');
    const records = trainingRecords(40, 1000);
    writeMetrics(runDir, records.slice(0, 20));
    const { bytes } = await readMetrics(runDir);
    const got: MetricRecord[] = [];
    const problems: string[] = [];
    let resets = 0;
    const follower = new MetricsFollower(runDir, bytes, {
      onRecords: (r, p) => {
        got.push(...r);
        problems.push(...p);
      },
      onReset: () => {
        resets += 1;
        got.length = 0;
      },
    });
    await follower.readAppended();
    // The resume: steps up to 10 kept, written to a new file renamed over the old one, then training
    // appends steps 11…40, more bytes than the follower has read.
    writeFileSync(`${file}.new`, records.slice(0, 10).map(line).join(''));
    renameSync(`${file}.new`, file);
    appendFileSync(file, records.slice(10).map(line).join(''));
    await follower.readAppended();
    if (resets === 1) await follower.readAppended();
    await follower.close();
    assert.deepEqual(problems, []);
    assert.equal(resets, 1, 'the replaced file was noticed');
    assert.deepEqual(
      got.map((r) => r.step),
      records.map((r) => r.step),
      'every step once, in order',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
