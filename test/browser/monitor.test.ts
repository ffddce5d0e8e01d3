// The training monitor page in real Chromium with a recorded run folder: the curves have one point
// per record, smoothing changes them, live appends grow them, the log axis works, NaN values are
// reported without blanking the panel, and a last line the running run is still writing is no error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import { monitorAppend, monitorInit } from '../../extension/panels/run_data';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { trainingRecords, writeMetrics, writeRun } from './run_fixtures';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-monitor-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

interface ChartInfo {
  metric: string;
  points: number;
  series: (number | null)[][];
}

function charts(page: Page): Promise<ChartInfo[]> {
  return page.evaluate(() => {
    const panel = (
      globalThis as unknown as {
        l3mPanel: { charts(): { metric: string; uplot: { data: (number | null)[][] } | null }[] };
      }
    ).l3mPanel;
    return panel.charts().map((c) => ({
      metric: c.metric,
      points: c.uplot ? c.uplot.data[0].length : 0,
      series: c.uplot ? c.uplot.data.slice(1) : [],
    }));
  });
}

test('monitor draws one point per record, smooths, grows live, and reports a truncated line and NaN', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261123-100000-aaaa', 'generation', { seed: 1 }, 'running');
  const records = trainingRecords(300, 25);
  records[40] = { ...records[40], loss: null };
  writeMetrics(runDir, records, '{"step": 301, "epoch": 6, "wall_ti');
  const { message } = await monitorInit(runDir);
  assert.equal(message.columns.length, records.length);
  const page = await host.open('monitor');
  await deliver(page, message);
  await frames(page);

  const before = await charts(page);
  assert.deepEqual(
    before.map((c) => c.metric),
    ['loss', 'lr', 'steps_per_s'],
  );
  const loss = before[0];
  // Train has 300 steps and validation shares 12 of them: the aligned x axis has 300 points.
  assert.equal(loss.points, 300);
  // Series: train raw, train smoothed, val raw, val smoothed.
  assert.equal(loss.series.length, 4);
  assert.equal(loss.series[0].filter((v) => v !== null).length, 299, 'the NaN loss is a gap');
  assert.equal(loss.series[2].filter((v) => v !== null).length, 12);
  assert.notDeepEqual(loss.series[1], loss.series[0], 'smoothing 0.6 changes the curve');

  const problems = await page.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { problems(): string[] } }).l3mPanel.problems(),
  );
  // The run is running: its last line is still being written, which is no read error.
  assert.ok(!problems.some((p) => /incomplete|truncated/.test(p)), problems.join('\n'));
  assert.ok(
    problems.some((p) => /Loss \(train\): 1 value is NaN or infinite \(first at step 40\)/.test(p)),
    problems.join('\n'),
  );

  // Smoothing off: the smoothed curve is the raw one; stronger smoothing: flatter than before.
  await page.locator('input[type=range]').fill('0');
  await frames(page);
  const raw = (await charts(page))[0];
  assert.deepEqual(raw.series[1], raw.series[0]);
  await page.locator('input[type=range]').fill('0.95');
  await frames(page);
  const smooth = (await charts(page))[0];
  const roughness = (ys: (number | null)[]) => {
    let r = 0;
    for (let i = 1; i < ys.length; i++)
      if (ys[i] !== null && ys[i - 1] !== null) r += Math.abs((ys[i] as number) - (ys[i - 1] as number));
    return r;
  };
  assert.ok(roughness(smooth.series[1]) < roughness(loss.series[1]) * 0.8, 'smoothing 0.95 is flatter than 0.6');

  // Live: appended records grow the curves in place.
  await deliver(page, { type: 'monitor/append', records: trainingRecords(320, 25).slice(-25), problems: [] });
  await frames(page);
  const grown = (await charts(page))[0];
  assert.ok(grown.points > 300, `grew to ${grown.points}`);

  // Log axis: the chart is rebuilt with a log scale and keeps its data.
  await page.evaluate(`(() => {
    const select = document.querySelector('vscode-single-select[aria-label="Y scale"]');
    select.value = 'log';
    select.dispatchEvent(new Event('change'));
  })()`);
  await frames(page);
  const distr = await page.evaluate(
    () =>
      (
        globalThis as unknown as { l3mPanel: { charts(): { uplot: { scales: { y: { distr: number } } } }[] } }
      ).l3mPanel.charts()[0].uplot.scales.y.distr,
  );
  assert.equal(distr, 3);
  assert.equal((await charts(page))[0].points, grown.points);

  await page.screenshot({ path: 'test-artifacts/browser/monitor.png', fullPage: true });

  // CSV export of the loss chart posts the data to the host.
  await page.locator('.chart-card').first().locator('vscode-button', { hasText: 'CSV' }).click();
  const exported = (await posted(page)).find((m) => m.type === 'export');
  assert.ok(exported, 'an export message was posted');
  assert.equal(exported.mime, 'text/csv');
  const csv = String(exported.data).trim().split('\n');
  assert.equal(csv[0], 'step,train (raw),train,val (raw),val');
  assert.equal(csv.length, grown.points + 1);
  assert.deepEqual(pageErrors(page), []);
});

test('state survives a reload: smoothing and axis come back', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261123-100000-bbbb', 'generation', { seed: 1 });
  writeMetrics(runDir, trainingRecords(50, 10));
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  await page.locator('input[type=range]').fill('0.3');
  await page.reload();
  await page.waitForFunction(() =>
    (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'),
  );
  const settings = await page.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { settings(): { smoothing: number } } }).l3mPanel.settings(),
  );
  assert.equal(settings.smoothing, 0.3);
  assert.equal(await page.locator('input[type=range]').inputValue(), '0.3');
});

test('an R² that is undefined with one test lightcone is said so, not listed as unreadable', async () => {
  const runDir = writeRun(runsDir, 'regress', '20261123-100000-cccc', 'regression', { seed: 1 });
  const training = trainingRecords(40, 20);
  writeMetrics(runDir, training);
  // The training's end, as the training job (sidecar/jobs/train_job.ts) writes it: eval/regression.json, then the test record
  // (its R² of one lightcone is NaN, written as null).
  const evaluation = {
    kind: 'regression',
    formatVersion: 1,
    testLightcones: 1,
    samplesPerLightcone: 20,
    nll: 1.5,
    parameters: [],
    points: [],
  };
  const testRecord = {
    step: 40,
    epoch: 1,
    wall_time: 9,
    split: 'test',
    nll: 1.5,
    r2_omegaM: null,
    r2_zeta: null,
    coverage68_omegaM: 1,
  } as MetricRecord;
  const live = await host.open('monitor');
  await deliver(live, (await monitorInit(runDir)).message);
  mkdirSync(join(runDir, 'eval'));
  writeFileSync(join(runDir, 'eval', 'regression.json'), JSON.stringify(evaluation));
  writeMetrics(runDir, [...training, testRecord]);
  await deliver(live, await monitorAppend(runDir, [testRecord], []));
  await frames(live);
  const reopened = await host.open('monitor');
  await deliver(reopened, (await monitorInit(runDir)).message);
  await frames(reopened);

  for (const page of [live, reopened]) {
    const problems = await page.evaluate(() =>
      (globalThis as unknown as { l3mPanel: { problems(): string[] } }).l3mPanel.problems(),
    );
    assert.deepEqual(problems, []);
    assert.equal(await page.locator('.problems').textContent(), '');
    const notes = await page.locator('.notes').textContent();
    assert.match(notes ?? '', /R² omegaM \(test\): undefined with one test lightcone/);
    assert.match(notes ?? '', /R² zeta \(test\): undefined with one test lightcone/);
    assert.deepEqual(pageErrors(page), []);
  }
  // With more test lightcones a NaN R² is not explained by their number: it stays a reported problem.
  writeFileSync(join(runDir, 'eval', 'regression.json'), JSON.stringify({ ...evaluation, testLightcones: 8 }));
  const many = await host.open('monitor');
  await deliver(many, (await monitorInit(runDir)).message);
  await frames(many);
  const problems = await many.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { problems(): string[] } }).l3mPanel.problems(),
  );
  assert.ok(
    problems.some((p) => /R² omegaM \(test\): the value is NaN or infinite/.test(p)),
    problems.join('\n'),
  );
});
