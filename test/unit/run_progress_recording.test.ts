// What the sidecar records about a live run besides its training metrics: run.json's progress with the
// run's stage (at once when the stage changes, so the Runs view and `l3m runs` show dataset simulation),
// and the system lines of metrics.jsonl (CPU, memory), which readers of training metrics skip and a
// malformed one of which is counted, never fatal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progressReporter } from '../../sidecar/jobs/progress_reporter';
import {
  RunWallClock,
  SystemMetricsMeter,
  parseGpuUtilisation,
  processSampler,
  startSystemMetrics,
  systemMetricsInterval,
} from '../../sidecar/jobs/system_metrics';
import { readRun } from '../../sidecar/runs/run_store';
import { parseMetricsJsonl, type MetricRecord } from '../../sidecar/protocol/run_folder';
import type { ProgressParams } from '../../sidecar/protocol/messages';
import { readMetrics } from '../../extension/panels/run_data';
import { writeRun } from '../browser/run_fixtures';

const phase = (text: string) => ({
  step: 0,
  totalSteps: 0,
  epoch: 0,
  loss: null,
  lr: 0,
  stepsPerSecond: 0,
  etaSeconds: null,
  phase: text,
});

test('run.json records the stage at once when it changes, with its ETA, and keeps training counts beside later stages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-progress-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'regression', {}, 'running');
    let now = 0;
    const forwarded: ProgressParams[] = [];
    const reporter = progressReporter(
      runDir,
      (p) => forwarded.push(p),
      () => now,
    );
    reporter.report(phase('simulating lightcones 0/40'), 'data');
    await reporter.settled();
    let record = await readRun(runDir);
    assert.equal(record.progress?.stage?.name, 'data');
    assert.equal(record.progress?.stage?.text, 'simulating lightcones 0/40');
    now = 500;
    reporter.report(phase('simulating lightcones 10/40'), 'data');
    await reporter.settled();
    // Within 2 s of the last write and the same stage: run.json is left alone; the notification is not.
    assert.equal((await readRun(runDir)).progress?.stage?.text, 'simulating lightcones 0/40');
    assert.equal(forwarded[1].stage?.text, 'simulating lightcones 10/40');
    assert.ok(Math.abs((forwarded[1].stage?.etaSeconds ?? NaN) - 1.5) < 1e-9, 'ETA from the measured rate');
    now = 3000;
    reporter.report(phase('simulating lightcones 40/40'), 'data');
    now = 3100;
    reporter.report({ step: 5, totalSteps: 100, epoch: 0.25, loss: 1, lr: 1e-3, stepsPerSecond: 2, etaSeconds: 47.5 });
    await reporter.settled();
    record = await readRun(runDir);
    assert.equal(record.progress?.stage?.name, 'training', 'a new stage is written at once');
    assert.equal(record.progress?.step, 5);
    assert.equal(record.progress?.stepsPerSecond, 2);
    assert.equal(record.progress?.etaSeconds, 47.5);
    now = 3200;
    reporter.report(phase('evaluating the test split'), 'evaluating');
    await reporter.settled();
    record = await readRun(runDir);
    assert.equal(record.progress?.stage?.name, 'evaluating');
    assert.equal(record.progress?.step, 5, 'the last training step stays beside the evaluation');
    assert.equal(forwarded[forwarded.length - 1].totalSteps, 100, 'no 0/0 in the notification either');
    assert.deepEqual(reporter.last(), { step: 5, totalSteps: 100, epoch: 0.25 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CPU % is the CPU time between two samples over the wall time between them', () => {
  let cpu = 0;
  let time = 0;
  const meter = new SystemMetricsMeter({
    cpuMicros: () => cpu,
    rssBytes: () => 300 * (1 << 20),
    gpuBytes: () => undefined,
    now: () => time,
  });
  cpu = 15_000_000; // 15 s of CPU
  time = 10_000; // in 10 s: one and a half cores
  assert.deepEqual(meter.sample(12.5, 40), {
    kind: 'system',
    wall_time: 12.5,
    step: 40,
    cpu_percent: 150,
    rss_mb: 300,
  });
  const gpu = new SystemMetricsMeter({ cpuMicros: () => 0, rssBytes: () => 0, gpuBytes: () => 2 ** 30, now: () => 0 });
  assert.equal(gpu.sample(0, 0).gpu_mb, 1024);
  assert.equal(gpu.sample(0, 0).cpu_percent, null, 'no time between samples: no CPU figure');
});

test('the sidecar appends system lines that readers of training metrics skip; a malformed one is counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-system-'));
  try {
    const runDir = writeRun(dir, 'e', 'r1', 'regression', {}, 'running');
    const file = join(runDir, 'metrics.jsonl');
    const train: MetricRecord = { step: 1, epoch: 0, wall_time: 0.5, split: 'train', loss: 1 };
    appendFileSync(file, JSON.stringify(train) + '\n');
    const clock = new RunWallClock();
    clock.saw([train]);
    const recorder = startSystemMetrics({
      runDir,
      intervalMs: 20,
      sampler: processSampler('wasm'),
      wallTime: () => clock.wallTime(),
      step: () => 1,
      warn: (message) => assert.fail(message),
    });
    // Wait on the file, not on a time: three samples written.
    while ((parseMetricsJsonl(readFileSync(file, 'utf8')).system?.length ?? 0) < 3)
      await new Promise((resolve) => setImmediate(resolve));
    await recorder.stop();
    appendFileSync(file, '{"kind":"system","wall_time":"soon","step":1}\n');
    const parsed = parseMetricsJsonl(readFileSync(file, 'utf8'));
    assert.deepEqual(parsed.records, [train], 'system lines are no training records');
    assert.deepEqual(parsed.problems, [], 'nor read errors');
    assert.equal(parsed.systemSkipped, 1);
    const system = parsed.system ?? [];
    assert.ok(system.length >= 3);
    for (const s of system) {
      assert.equal(s.kind, 'system');
      assert.ok(s.wall_time >= 0.5, `wall time continues the run's clock (${s.wall_time})`);
      assert.ok(typeof s.rss_mb === 'number' && s.rss_mb > 1, `resident memory ${s.rss_mb} MB`);
      assert.ok(s.cpu_percent === null || s.cpu_percent >= 0);
      assert.equal(s.gpu_mb, undefined, 'no GPU figure on a CPU backend');
    }
    // The panels' reader hands them over apart from the records.
    const read = await readMetrics(runDir);
    assert.equal(read.records.length, 1);
    assert.equal(read.system.length, system.length);
    assert.equal(read.systemSkipped, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the GPU's utilisation is the busiest GPU's figure of nvidia-smi, and none where it gives none", () => {
  assert.equal(parseGpuUtilisation('37\n'), 37);
  assert.equal(parseGpuUtilisation('12\n85\n'), 85);
  assert.equal(parseGpuUtilisation('[N/A]\n'), null);
  assert.equal(parseGpuUtilisation(''), null);
});

test('the sampling interval comes from L3M_SYSTEM_METRICS_INTERVAL_S, and a bad one is refused with the fix', () => {
  assert.equal(systemMetricsInterval(undefined), 10_000);
  assert.equal(systemMetricsInterval('2.5'), 2500);
  assert.equal(systemMetricsInterval('0'), 0);
  assert.throws(() => systemMetricsInterval('often'), /L3M_SYSTEM_METRICS_INTERVAL_S is "often".*use e\.g\. 10/);
});
