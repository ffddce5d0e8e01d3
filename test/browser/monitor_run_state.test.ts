// The monitor's account of a run's state in real Chromium: the header follows the step the curves have
// reached (run.json's copy lags), shows the stage with its progress and ETA during dataset simulation and
// the throughput and ETA in training, rounds epochs, and drops the previous process's cancel once a run
// is resumed; a regression run's test record is a table, not one-point charts; the system lines are a
// collapsed section whose malformed lines are counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { RunRecord, SystemRecord } from '../../sidecar/protocol/run_folder';
import { monitorAppend, monitorInit } from '../../extension/panels/run_data';
import { deliver, frames, pageErrors, startPanelHost, type PanelHost } from './panel_host';
import { trainingRecords, writeMetrics, writeRun } from './run_fixtures';
import { regressionRecords } from './regression_metrics';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-monitor-state-'));
  mkdirSync('test-artifacts/browser', { recursive: true });
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

interface PanelView {
  header: { status: string; live: string; fraction: number | null };
  problems: string[];
  charts: string[];
  testResults: string[][];
  system: {
    open: boolean;
    samples: number;
    skipped: number;
    summary: string;
    charts: { title: string; points: number }[];
  };
}

function view(page: Page): Promise<PanelView> {
  return page.evaluate(() => {
    const panel = (
      globalThis as unknown as {
        l3mPanel: {
          header(): PanelView['header'];
          problems(): string[];
          charts(): { metric: string }[];
          testResults(): string[][];
          system(): PanelView['system'];
        };
      }
    ).l3mPanel;
    return {
      header: panel.header(),
      problems: panel.problems(),
      charts: panel.charts().map((c) => c.metric),
      testResults: panel.testResults(),
      system: panel.system(),
    };
  });
}

function editRun(runDir: string, change: Partial<RunRecord>): RunRecord {
  const record = { ...(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunRecord), ...change };
  writeFileSync(join(runDir, 'run.json'), JSON.stringify(record));
  return record;
}

test('the header follows the curves, not run.json, with throughput and ETA, and rounds epochs', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261202-100000-aaaa', 'generation', {}, 'running');
  // run.json was last rewritten at step 10; the file already holds step 60 (15 steps an epoch).
  editRun(runDir, { progress: { step: 10, totalSteps: 300, epoch: 10 / 15 } });
  const records = trainingRecords(60, 25).map((r) => ({ ...r, epoch: r.step / 15, steps_per_s: 4 }));
  writeMetrics(runDir, records);
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  await frames(page);
  let header = (await view(page)).header;
  assert.match(header.status, /^running · generation · /);
  assert.doesNotMatch(header.status, /step/, 'the step is on the live line only');
  // 240 steps left at 4 steps/s: one minute.
  assert.equal(header.live, 'training: step 60/300, epoch 4 · 4.00 steps/s · ETA 1 min 0 s');
  assert.equal(header.fraction, 0.2);
  const more = trainingRecords(61, 25)
    .slice(-1)
    .map((r) => ({ ...r, epoch: 61 / 15, steps_per_s: 4 }));
  await deliver(page, await monitorAppend(runDir, more, []));
  await frames(page);
  header = (await view(page)).header;
  assert.match(header.live, /^training: step 61\/300, epoch 4\.07 · /, header.live);
  assert.doesNotMatch(header.live, /4\.066/);
  assert.deepEqual(pageErrors(page), []);
});

test('during dataset simulation the header shows the stage, its progress and ETA, never 0/0', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261202-100000-bbbb', 'regression', {}, 'running');
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  await deliver(page, {
    type: 'run/progress',
    progress: {
      step: 0,
      totalSteps: 0,
      epoch: 0,
      stage: { name: 'data', text: 'simulating lightcones 12/40', fraction: 0.3, etaSeconds: 140 },
    },
  });
  await frames(page);
  const { header } = await view(page);
  assert.equal(header.live, 'simulating lightcones 12/40 · ETA 2 min 20 s');
  assert.equal(header.fraction, 0.3);
  assert.doesNotMatch(`${header.status} ${header.live}`, /0\/0/);
  // Where the charts will be, the page names the stage rather than waiting without a word.
  const waiting = await page.locator('.empty').innerText();
  assert.equal(waiting, 'No curves yet: simulating lightcones 12/40. They start with the first training step.');
  // A run started in a terminal: the same from run.json alone.
  const terminal = writeRun(runsDir, 'quick', '20261202-100000-cccc', 'regression', {}, 'running');
  editRun(terminal, {
    progress: { step: 0, totalSteps: 0, epoch: 0, stage: { name: 'data', text: 'simulating lightcones 5/40' } },
  });
  const other = await host.open('monitor');
  await deliver(other, (await monitorInit(terminal)).message);
  await frames(other);
  assert.equal((await view(other)).header.live, 'simulating lightcones 5/40');
  await page.screenshot({ path: 'test-artifacts/browser/monitor_simulating.png', fullPage: true });
});

test('a resumed run shows running without the cancel of its previous process', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261202-100000-dddd', 'regression', {}, 'cancelled');
  const cancelled = editRun(runDir, {
    progress: { step: 40, totalSteps: 100, epoch: 2 },
    error: { message: 'Cancelled; resume to continue from the last checkpoint.', step: 40 },
  });
  writeMetrics(runDir, trainingRecords(40, 20));
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  await frames(page);
  assert.match((await view(page)).header.status, /^cancelled · .*error: Cancelled/);
  // Resume: a sidecar older than this one announced the record with the old error still in it.
  await deliver(page, { type: 'run/state', record: { ...cancelled, status: 'running' } });
  await frames(page);
  const { header } = await view(page);
  assert.doesNotMatch(`${header.status} ${header.live}`, /error|Cancelled/);
  assert.match(header.live, /^training: step 40\/100, epoch 2/);
});

test('a regression run ends with a test-results table, not one-point charts; NaN R² of one lightcone says why', async () => {
  const runDir = writeRun(runsDir, 'regress', '20261202-100000-eeee', 'regression', {}, 'running');
  const records = regressionRecords(60, 10, 3);
  const test = records[records.length - 1];
  test.r2_zeta = null;
  writeMetrics(runDir, records.slice(0, -1));
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  await frames(page);
  assert.deepEqual((await view(page)).testResults, [], 'no table before the test record');
  mkdirSync(join(runDir, 'eval'), { recursive: true });
  writeFileSync(
    join(runDir, 'eval', 'regression.json'),
    JSON.stringify({
      kind: 'regression',
      formatVersion: 1,
      testLightcones: 1,
      samplesPerLightcone: 20,
      nll: 1.3,
      parameters: [],
      points: [],
    }),
  );
  writeMetrics(runDir, records);
  await deliver(page, await monitorAppend(runDir, [test], []));
  await frames(page);
  const live = await view(page);
  const reopened = await host.open('monitor');
  editRun(runDir, { status: 'completed' });
  await deliver(reopened, (await monitorInit(runDir)).message);
  await frames(reopened);
  for (const v of [live, await view(reopened)]) {
    assert.ok(
      !v.charts.some((m) => /^(r2|coverage68|coverage95)_/.test(m)),
      `no test-only charts: ${v.charts.join(', ')}`,
    );
    assert.ok(v.charts.includes('loss') && v.charts.includes('nll'));
    assert.deepEqual(v.testResults[0], ['parameter', 'R²', 'coverage 68%', 'coverage 95%']);
    assert.equal(v.testResults.length, 1 + 6 + 2, 'six parameters, then the NLL in a table of its own');
    const zeta = v.testResults.find((row) => row[0] === 'zeta');
    assert.deepEqual(zeta?.slice(1, 2), ['undefined with one test lightcone']);
    const omega = v.testResults.find((row) => row[0] === 'omegaM');
    assert.ok(Math.abs(Number(omega?.[1]) - (test.r2_omegaM as number)) < 1e-3, `R² omegaM ${omega?.[1]}`);
    assert.deepEqual(v.testResults.slice(-2), [
      ['metric', 'value'],
      ['nll', '1.3'],
    ]);
    assert.deepEqual(v.problems, []);
  }
  await reopened.screenshot({ path: 'test-artifacts/browser/monitor_test_results.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});

test('system metrics are a collapsed section; a malformed system line is skipped and counted, never an error', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261202-100000-ffff', 'generation', {}, 'running');
  const system: SystemRecord[] = [1, 2, 3].map((i) => ({
    kind: 'system',
    wall_time: 10 * i,
    step: 5 * i,
    cpu_percent: 90 + i,
    rss_mb: 400 + i,
  }));
  const lines = [
    ...trainingRecords(20, 10).map((r) => JSON.stringify(r)),
    ...system.map((s) => JSON.stringify(s)),
    '{"kind":"system","wall_time":"later"}',
  ];
  writeFileSync(join(runDir, 'metrics.jsonl'), lines.join('\n') + '\n');
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  await frames(page);
  let v = await view(page);
  assert.deepEqual(v.problems, []);
  assert.equal(v.system.open, false, 'collapsed by default');
  assert.equal(v.system.samples, 3);
  assert.equal(v.system.skipped, 1);
  assert.equal(v.system.summary, 'System: CPU 93%, 403 MB resident (3 samples; 1 malformed line skipped)');
  assert.ok(!v.charts.some((m) => /cpu|rss/.test(m)), 'no system chart among the training charts');
  await page.locator('.system-section summary').click();
  await frames(page);
  const next: SystemRecord = {
    kind: 'system',
    wall_time: 40,
    step: 20,
    cpu_percent: 50,
    rss_mb: 410,
    gpu_mb: 128,
    gpu_util: 71,
  };
  await deliver(page, await monitorAppend(runDir, [], [], { records: [next], skipped: 0 }));
  await frames(page);
  v = await view(page);
  assert.equal(v.system.open, true);
  assert.deepEqual(
    v.system.charts.map((c) => [c.title, c.points]),
    [
      ['CPU (%, one core = 100)', 4],
      ['Resident memory (MB)', 4],
      ['GPU memory held by tensors (MB)', 4],
      ['GPU utilisation (%)', 4],
    ],
  );
  assert.match(
    v.system.summary,
    /^System: CPU 50%, 410 MB resident, 128 MB on the GPU, GPU 71% busy \(4 samples; 1 malformed line skipped\)$/,
  );
  await page.screenshot({ path: 'test-artifacts/browser/monitor_system.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});
