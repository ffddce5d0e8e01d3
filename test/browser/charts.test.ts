// The charts every panel shares, in real Chromium on recorded run folders: the loss card keeps its
// plot when the first validation point arrives, titles are words with units, log x ticks stand at
// the decades, each axis zooms and pans on its own and resets, a log y axis says what it leaves out
// and symlog shows it, the best so far matches the data, and PNG (2×) and SVG exports carry a legend.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import { compareRun, monitorInit } from '../../extension/panels/run_data';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { trainingRecords, writeMetrics, writeRun } from './run_fixtures';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-charts-'));
  mkdirSync('test-artifacts/browser', { recursive: true });
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

interface ChartState {
  metric?: string;
  key?: string;
  title: string;
  columns: number;
  series: number;
  points: number;
  canvasHeight: number;
  x: { min: number; max: number; distr: number };
  y: { min: number; max: number; distr: number };
  xTicks: { split: number; label: string }[];
  best: { label: string; x: number; y: number }[];
  notes: { best: string; hidden: string };
  nonNull: number[];
}

// Page code as strings: the tests' tsconfig has no DOM types.
const chartStates = `window.l3mPanel.charts().map((c, i) => {
  const u = c.uplot;
  const a = u.axes[0];
  const canvas = document.querySelectorAll('.chart-card')[i].querySelector('canvas');
  return {
    metric: c.metric, key: c.key, title: c.title,
    columns: u.data.length, series: u.series.length, points: u.data[0].length,
    canvasHeight: canvas ? canvas.getBoundingClientRect().height : 0,
    x: { min: u.scales.x.min, max: u.scales.x.max, distr: u.scales.x.distr },
    y: { min: u.scales.y.min, max: u.scales.y.max, distr: u.scales.y.distr },
    xTicks: (a._splits || []).map((s, k) => ({ split: s, label: (a._values || [])[k] || '' })),
    best: c.best, notes: c.notes,
    nonNull: u.data.slice(1).map((col) => col.filter((v) => v !== null).length),
  };
})`;

function charts(page: Page): Promise<ChartState[]> {
  return page.evaluate<ChartState[]>(chartStates);
}

async function chart(page: Page, name: string): Promise<ChartState> {
  const found = (await charts(page)).find((c) => c.metric === name || c.key === name);
  assert.ok(found, `a chart of ${name}`);
  return found;
}

/** Chooses a value in the select labelled `label`, as a click on an option does. */
function choose(page: Page, label: string, value: string): Promise<void> {
  return page.evaluate(`(() => {
    const select = document.querySelector('vscode-single-select[aria-label=${JSON.stringify(label)}]');
    select.value = ${JSON.stringify(value)};
    select.dispatchEvent(new Event('change'));
  })()`);
}

async function openMonitor(runDir: string): Promise<Page> {
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  await frames(page);
  return page;
}

test('the loss card keeps its plot when the first validation point arrives', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261201-100000-0001', 'generation', {}, 'running');
  const records = trainingRecords(100, 25);
  writeMetrics(
    runDir,
    records.filter((r) => r.split === 'train' && r.step < 25),
  );
  const page = await openMonitor(runDir);
  assert.equal((await chart(page, 'loss')).canvasHeight, 220);
  // The first validation record: the chart gains the val series in the same message handler.
  await deliver(page, { type: 'monitor/append', records: records.filter((r) => r.step === 25), problems: [] });
  // Before the next frame as well as after it, the plot stands at its full height with matching columns.
  for (const when of ['at once', 'after a frame']) {
    const loss = await chart(page, 'loss');
    assert.equal(loss.canvasHeight, 220, `${when}: the plot keeps its height, not a legend alone`);
    assert.equal(loss.columns, loss.series, `${when}: one data column per series`);
    assert.deepEqual(pageErrors(page), [], when);
    await frames(page);
  }
  const loss = await chart(page, 'loss');
  assert.deepEqual(loss.nonNull, [25, 25, 1, 1], 'train raw, train smoothed, val raw, val smoothed');
});

test('titles in words with units, log x ticks at decades, and zoom and pan per axis', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261201-100000-0002', 'generation', {});
  writeMetrics(runDir, trainingRecords(1000, 100));
  const page = await openMonitor(runDir);
  assert.deepEqual(
    (await charts(page)).map((c) => c.title),
    ['Loss', 'Learning rate', 'Throughput (steps/s)'],
  );

  await choose(page, 'X scale', 'log');
  await frames(page);
  const log = await chart(page, 'loss');
  assert.equal(log.x.distr, 3);
  const labelled = log.xTicks.filter((t) => t.label !== '');
  assert.deepEqual(
    labelled.map((t) => t.split),
    [1, 10, 100, 1000],
    'labelled ticks at the decades',
  );
  assert.deepEqual(
    labelled.map((t) => t.label),
    ['1', '10', '100', '1000'],
  );
  assert.ok(log.xTicks.length > labelled.length, 'the ticks between the decades stay as grid lines');
  await page.screenshot({ path: 'test-artifacts/browser/chart_log_x.png' });

  // The wheel over the plot zooms x about the cursor, in log space on a log axis; y keeps its fit.
  const plot = page.locator('.chart-card').first().locator('.u-over');
  const box = await plot.boundingBox();
  assert.ok(box);
  const at = { x: Math.round(box.x + box.width * 0.5), y: Math.round(box.y + box.height * 0.5) };
  const valueAt = (px: number) =>
    page.evaluate<number>(`window.l3mPanel.charts()[0].uplot.posToVal(${px - box.x}, 'x')`);
  const under = await valueAt(at.x);
  await page.mouse.move(at.x, at.y);
  await page.mouse.wheel(0, -100);
  await frames(page);
  const zoomedX = await chart(page, 'loss');
  assert.ok(zoomedX.x.max / zoomedX.x.min < log.x.max / log.x.min, 'x zoomed in');
  const stays = await valueAt(at.x);
  assert.ok(Math.abs(stays / under - 1) < 1e-3, `the step under the cursor stays under it: ${under} → ${stays}`);
  assert.ok(Math.log(zoomedX.x.min / log.x.min) > 0 && Math.log(log.x.max / zoomedX.x.max) > 0);
  const ratio = Math.log(zoomedX.x.min / log.x.min) / Math.log(log.x.max / zoomedX.x.max);
  assert.ok(Math.abs(ratio - 1) < 0.05, `zoomed evenly in log space about the middle (ratio ${ratio})`);
  const yFitted = zoomedX.y;

  // Shift+wheel zooms y alone.
  await page.keyboard.down('Shift');
  await page.mouse.wheel(0, -100);
  await page.keyboard.up('Shift');
  await frames(page);
  const zoomedY = await chart(page, 'loss');
  assert.deepEqual(zoomedY.x, zoomedX.x, 'x unchanged');
  assert.ok(zoomedY.y.max - zoomedY.y.min < yFitted.max - yFitted.min, 'y zoomed in');

  // A vertical drag zooms y to the dragged span; x stays.
  await page.mouse.move(at.x, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(at.x + 2, box.y + 60, { steps: 4 });
  await page.mouse.move(at.x + 2, box.y + 100, { steps: 4 });
  await page.mouse.up();
  await frames(page);
  const dragged = await chart(page, 'loss');
  assert.deepEqual(dragged.x, zoomedX.x, 'a vertical drag leaves x');
  assert.ok(dragged.y.max - dragged.y.min < zoomedY.y.max - zoomedY.y.min, 'and zooms y');

  // Alt-drag pans x to the right: the range moves left in value, by the same factor at both ends (log).
  await page.keyboard.down('Alt');
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await page.mouse.move(at.x + 40, at.y, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.up('Alt');
  await frames(page);
  const panned = await chart(page, 'loss');
  assert.ok(panned.x.min < dragged.x.min && panned.x.max < dragged.x.max, 'panned');
  assert.ok(Math.abs(panned.x.max / panned.x.min / (dragged.x.max / dragged.x.min) - 1) < 1e-6, 'span kept');
  assert.deepEqual(panned.y, dragged.y, 'a sideways pan leaves y');

  // Reset: both axes back to all the data.
  await page.locator('.chart-card').first().locator('vscode-button', { hasText: 'Reset' }).click();
  await frames(page);
  const reset = await chart(page, 'loss');
  assert.deepEqual(reset.x, log.x);
  assert.deepEqual(reset.y, log.y);
  assert.equal(
    await page.locator('.chart-card').first().locator('vscode-button', { hasText: 'Reset' }).isHidden(),
    true,
  );

  // Against epochs, a log x axis leaves out epoch 0 (steps 1 to 50 here) and says so.
  await choose(page, 'X axis', 'epoch');
  await frames(page);
  const epochs = await chart(page, 'loss');
  assert.equal(epochs.notes.hidden, 'Log x: 50 of 1010 values at x ≤ 0 not drawn.');
  assert.equal(epochs.x.min, 1, 'the axis starts at the first epoch it can show');
  assert.deepEqual(pageErrors(page), []);
});

test('log y says what it leaves out; symlog shows negative values', async () => {
  const runDir = writeRun(runsDir, 'regress', '20261201-100000-0003', 'regression', {});
  // A regression NLL goes negative as the model gets sure of itself.
  const records: MetricRecord[] = [];
  for (let step = 1; step <= 60; step++)
    records.push({ step, epoch: 0, wall_time: step, split: 'train', loss: 3 - step / 10, lr: 1e-3 });
  writeMetrics(runDir, records);
  const page = await openMonitor(runDir);
  await choose(page, 'Y scale', 'log');
  await frames(page);
  const log = await chart(page, 'loss');
  const hidden = records.filter((r) => (r.loss as number) <= 0).length;
  assert.equal(hidden, 31);
  assert.equal(log.notes.hidden, `Log y: ${hidden} of 60 values ≤ 0 not drawn; choose Symlog to see them.`);
  assert.equal(log.nonNull[0], 60 - hidden);
  assert.equal(await page.locator('.chart-note').first().textContent(), log.notes.hidden);

  await choose(page, 'Y scale', 'symlog');
  await frames(page);
  const symlog = await chart(page, 'loss');
  assert.equal(symlog.y.distr, 4);
  assert.equal(symlog.notes.hidden, '');
  assert.equal(symlog.nonNull[0], 60, 'every value drawn');
  assert.ok(symlog.y.min <= -3 && symlog.y.max >= 2.9, `y spans the data: [${symlog.y.min}, ${symlog.y.max}]`);
  // A flat learning rate keeps a plot too (uPlot would leave its log range at zero width).
  const lr = await chart(page, 'lr');
  assert.ok(lr.y.min < 1e-3 && lr.y.max > 1e-3, `a range around the flat value: [${lr.y.min}, ${lr.y.max}]`);
  assert.equal(lr.nonNull[0], 60);
  await page.screenshot({ path: 'test-artifacts/browser/chart_symlog.png' });
  assert.deepEqual(pageErrors(page), []);

  // The choice is kept with the page's state: a reload (VS Code's, of a hidden panel) draws symlog again.
  await page.reload();
  await page.waitForFunction(() =>
    (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'),
  );
  await deliver(page, (await monitorInit(runDir)).message);
  await frames(page);
  assert.equal((await chart(page, 'loss')).y.distr, 4);
  assert.equal(
    await page.evaluate<string>(`document.querySelector('vscode-single-select[aria-label="Y scale"]').value`),
    'symlog',
  );
});

/** The best raw value in the direction, and the first step where it is reached. */
function expectedBest(records: MetricRecord[], split: string, metric: string, direction: 'min' | 'max') {
  let best: { x: number; y: number } | null = null;
  for (const r of records) {
    const v = r[metric];
    if (r.split !== split || typeof v !== 'number') continue;
    if (best === null || (direction === 'min' ? v < best.y : v > best.y)) best = { x: r.step, y: v };
  }
  return best;
}

test('best so far on each chart matches the data, in the metric’s direction', async () => {
  const runDir = writeRun(runsDir, 'regress', '20261201-100000-0004', 'regression', {});
  const records = trainingRecords(200, 10, 7);
  // A validation R² that rises and falls: its best is its maximum.
  for (const r of records) if (r.split === 'val') r.r2_zeta = 0.4 + 0.3 * Math.sin(r.step / 60) + 0.01 * (r.step % 3);
  writeMetrics(runDir, records);
  const page = await openMonitor(runDir);
  const loss = await chart(page, 'loss');
  assert.deepEqual(loss.best, [
    { label: 'train', ...expectedBest(records, 'train', 'loss', 'min') },
    { label: 'val', ...expectedBest(records, 'val', 'loss', 'min') },
  ]);
  assert.match(loss.notes.best, /^Best \(min\): train [\d.]+ at step \d+ · val [\d.]+ at step \d+$/);
  const r2 = await chart(page, 'r2_zeta');
  assert.equal(r2.title, 'R² zeta');
  assert.deepEqual(r2.best, [{ label: 'val', ...expectedBest(records, 'val', 'r2_zeta', 'max') }]);
  assert.match(r2.notes.best, /^Best \(max\): val /);
  // A learning rate or a throughput has no best worth showing.
  assert.deepEqual((await chart(page, 'lr')).best, []);
  assert.equal((await chart(page, 'steps_per_s')).notes.best, '');
  await page.screenshot({ path: 'test-artifacts/browser/chart_best.png' });

  // Live: a new best arrives with the run's next record, and the chart says so.
  const next: MetricRecord = {
    step: 201,
    epoch: 4,
    wall_time: 60,
    split: 'train',
    loss: 0.01,
    lr: 1e-3,
    steps_per_s: 4,
  };
  await deliver(page, { type: 'monitor/append', records: [next], problems: [] });
  await frames(page);
  assert.deepEqual((await chart(page, 'loss')).best[0], { label: 'train', x: 201, y: 0.01 });
});

/** The export message the page posted last: its type, file name and text (SVG, CSV). */
async function lastExport(page: Page): Promise<{ mime: string; fileName: string; text: string }> {
  const exported = (await posted(page)).filter((m) => m.type === 'export').at(-1);
  assert.ok(exported, 'an export message was posted');
  return { mime: String(exported.mime), fileName: String(exported.fileName), text: String(exported.data) };
}

/** The PNG the page exported last: its size and the colours at the probe points. */
async function lastPng(
  page: Page,
  probes: { x: number; y: number }[],
): Promise<{ fileName: string; width: number; height: number; probes: number[][] }> {
  const { fileName } = await lastExport(page);
  const image = await page.evaluate<{ width: number; height: number; probes: number[][] }>(`(async () => {
    const m = window.__posted.filter((p) => p.type === 'export').at(-1);
    const bitmap = await createImageBitmap(new Blob([m.data], { type: 'image/png' }));
    const canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const probes = ${JSON.stringify(probes)}.map((p) => Array.from(ctx.getImageData(p.x, p.y, 1, 1).data));
    return { width: bitmap.width, height: bitmap.height, probes };
  })()`);
  return { fileName, ...image };
}

function rgb(hex: string): number[] {
  const n = parseInt(hex.slice(1), 16);
  return [n >> 16, (n >> 8) & 255, n & 255, 255];
}

test('PNG at twice the chart’s size and SVG, each with a legend of the curves', async () => {
  const runDir = writeRun(runsDir, 'quick', '20261201-100000-0005', 'generation', {});
  writeMetrics(runDir, trainingRecords(120, 20));
  const page = await openMonitor(runDir);
  const card = page.locator('.chart-card').first();
  const picture = await page.evaluate<{
    width: number;
    height: number;
    cssWidth: number;
    cssHeight: number;
    swatches: { x: number; y: number; size: number; color: string }[];
  }>(`(() => {
    const c = window.l3mPanel.charts()[0];
    const p = c.picture();
    return { width: p.width, height: p.height, swatches: p.swatches, cssWidth: c.uplot.width, cssHeight: c.uplot.height };
  })()`);
  assert.equal(picture.width, picture.cssWidth);
  assert.ok(picture.height > picture.cssHeight, 'title and legend around the plot');
  assert.deepEqual(
    picture.swatches.map((s) => s.color),
    ['#3794ff', '#d18616'],
    'one legend entry per split, in its colour',
  );

  await card.locator('vscode-button', { hasText: 'PNG' }).click();
  await page.waitForFunction(() =>
    (globalThis as unknown as { __posted: { type: string; mime?: string }[] }).__posted.some(
      (m) => m.type === 'export' && m.mime === 'image/png',
    ),
  );
  const png = await lastPng(
    page,
    picture.swatches.map((s) => ({ x: Math.round(2 * (s.x + s.size / 2)), y: Math.round(2 * (s.y + s.size / 2)) })),
  );
  assert.equal(png.fileName, 'Loss.png');
  assert.equal(png.width, 2 * picture.cssWidth, 'twice the chart’s CSS width');
  assert.equal(png.height, 2 * picture.height);
  assert.deepEqual(
    png.probes,
    picture.swatches.map((s) => rgb(s.color)),
    'the legend’s swatches are in the image',
  );

  await card.locator('vscode-button', { hasText: 'SVG' }).click();
  const svg = await lastExport(page);
  assert.equal(svg.mime, 'image/svg+xml');
  assert.equal(svg.fileName, 'Loss.svg');
  assert.match(svg.text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
  assert.match(svg.text, />Loss<\/text>/, 'the title');
  assert.match(svg.text, /<rect [^>]*fill="#3794ff"\/>\n<text [^>]*>train<\/text>/, 'train in the legend');
  assert.match(svg.text, /<rect [^>]*fill="#d18616"\/>\n<text [^>]*>val<\/text>/, 'val in the legend');
  assert.match(svg.text, />step<\/text>/, 'the x axis label');
  assert.ok((svg.text.match(/<polyline /g) ?? []).length >= 4, 'the curves');
  assert.deepEqual(pageErrors(page), []);
});

test('compare: titles in words, best per run, and the legend of run names in the exports', async () => {
  const a = writeRun(runsDir, 'gen', '20261201-100000-0101', 'generation', { training: { lr: 1e-3 } });
  const b = writeRun(runsDir, 'gen', '20261201-100000-0102', 'generation', { training: { lr: 5e-4 } });
  const recordsA = trainingRecords(100, 20, 1, 1.0);
  const recordsB = trainingRecords(80, 20, 2, 0.8);
  writeMetrics(a, recordsA);
  writeMetrics(b, recordsB);
  const page = await host.open('compare', { height: 1300 });
  await deliver(page, { type: 'compare/runs', runs: await Promise.all([a, b].map(compareRun)) });
  await frames(page);
  const all = await charts(page);
  const throughput = all.find((c) => c.key === 'steps_per_s · train');
  assert.equal(throughput?.title, 'Throughput (steps/s) · train');
  assert.deepEqual(throughput?.best, []);
  const val = all.find((c) => c.key === 'loss · val');
  assert.equal(val?.title, 'Loss · val');
  assert.deepEqual(
    val?.best.map((p) => ({ x: p.x, y: p.y })),
    [expectedBest(recordsA, 'val', 'loss', 'min'), expectedBest(recordsB, 'val', 'loss', 'min')],
  );
  const names = await page.evaluate<string[]>(`window.l3mPanel.runs().map((r) => r.name)`);
  assert.deepEqual(
    val?.best.map((p) => p.label),
    names,
  );
  const index = all.findIndex((c) => c.key === 'loss · val');
  await page.locator('.chart-card').nth(index).locator('vscode-button', { hasText: 'SVG' }).click();
  const svg = await lastExport(page);
  for (const name of names) assert.ok(svg.text.includes(`>${name}</text>`), `${name} in the SVG legend`);
  assert.deepEqual(pageErrors(page), []);
});
