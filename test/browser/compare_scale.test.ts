// The compare page at scale, in real Chromium: 20 runs and more, each in a colour (and past 20 a
// dash) far from every other's in CIEDE2000 and kept when runs are added or removed; runs named by
// the config fields in which they differ; a legend that stays small, filters, solos and highlights;
// and the metrics table: its default columns, best-so-far values and steps checked against the
// logged data, the column chooser, the CSV and Markdown exports, and the config table's toggle
// between the fields that differ and all fields, with fields a run never read left out. And the first
// paint of 20 runs × 10k steps: each chart drawn once, on curves decimated to the plot's width.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { compareRun } from '../../extension/panels/run_data';
import type { CompareRun } from '../../webview/shared/panel_protocol';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { trainingRecords, writeMetrics, writeRun } from './run_fixtures';
import { regressionRecords } from './regression_metrics';
import { ciede2000, hexToLab } from './color_difference';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-compare-scale-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

interface RunOnPage {
  runDir: string;
  id: string;
  name: string;
  color: string;
  dash: number[];
  shown: boolean;
  /** The stroke of the run's smoothed series in the first chart, as uPlot draws it. */
  stroke: string;
  /** Whether its raw and smoothed series are shown in the first chart, and their alpha. */
  show: [boolean, boolean];
  alpha: number;
}

function runsOnPage(page: Page): Promise<RunOnPage[]> {
  return page.evaluate(`(() => {
    const u = window.l3mPanel.charts()[0].uplot;
    return window.l3mPanel.runs().map((r, i) => {
      const s = u.series[2 * i + 2];
      return { ...r, stroke: typeof s.stroke === 'function' ? s.stroke(u, 2 * i + 2) : s.stroke,
        show: [u.series[2 * i + 1].show, s.show], alpha: s.alpha ?? 1 };
    });
  })()`);
}

const lrs = [0.001, 0.002, 0.005, 0.01];

function scaleRun(i: number): string {
  const runDir = writeRun(runsDir, 'scale', `20261201-1000${String(i).padStart(2, '0')}-cc00`, 'regression', {
    task: 'regression',
    training: { unit: 'steps', steps: 60, lr: lrs[i % 4], seed: i },
  });
  writeMetrics(runDir, trainingRecords(60, 10, i + 1, 1 + i / 40));
  return runDir;
}

test('compare at scale: 20 distinct colours that stay put, names by differing fields, a legend that filters, solos and highlights', async () => {
  // The difference formula itself, against Sharma et al.'s test pair 1 (ΔE00 = 2.0425).
  assert.equal(ciede2000([50, 2.6772, -79.7751], [50, 0, -82.7485]).toFixed(4), '2.0425');
  const dirs = Array.from({ length: 25 }, (_, i) => scaleRun(i));
  const all = await Promise.all(dirs.map(compareRun));
  const page = await host.open('compare', { height: 900 });
  await deliver(page, { type: 'compare/runs', runs: all.slice(0, 20) });
  await frames(page);

  const twenty = await runsOnPage(page);
  assert.equal(twenty.length, 20);
  assert.deepEqual(
    twenty.map((r) => r.stroke),
    twenty.map((r) => r.color),
    'each chart draws a run in its legend colour',
  );
  let closest = { delta: Infinity, pair: '' };
  for (let i = 0; i < 20; i++)
    for (let j = 0; j < i; j++) {
      const delta = ciede2000(hexToLab(twenty[i].color), hexToLab(twenty[j].color));
      if (delta < closest.delta) closest = { delta, pair: `${twenty[j].name} / ${twenty[i].name}` };
    }
  assert.ok(
    closest.delta > 14,
    `the closest two of 20 run colours differ by ΔE00 ${closest.delta.toFixed(1)}: ${closest.pair}`,
  );
  assert.ok(
    twenty.every((r) => r.dash.length === 0),
    'up to 20 runs, every curve is solid',
  );
  assert.equal(twenty[0].name, 'scale · lr=0.001 seed=0');
  assert.equal(twenty[13].name, 'scale · lr=0.002 seed=13');
  assert.equal(twenty[13].id, 'scale/20261201-100013-cc00');

  // The legend stays a few lines high: the first chart starts above the fold.
  const layout = await page.evaluate(`(() => ({
    legend: document.querySelector('.run-legend').getBoundingClientRect().height,
    chartTop: document.querySelector('.chart-card').getBoundingClientRect().top,
  }))()`);
  const { legend, chartTop } = layout as { legend: number; chartTop: number };
  assert.ok(legend < 220 && chartTop < 450, `legend ${legend} px high, first chart at ${chartTop} px of 900`);
  await page.screenshot({ path: 'test-artifacts/browser/compare-scale.png' });

  // Five more runs, sent first: the 20 keep their colours, the new ones take dashed curves.
  await deliver(page, { type: 'compare/runs', runs: [...all.slice(20), ...all.slice(0, 20)] });
  await frames(page);
  const more = await runsOnPage(page);
  const before = new Map(twenty.map((r) => [r.runDir, `${r.color} ${r.dash.join(',')}`]));
  for (const r of more)
    if (before.has(r.runDir)) assert.equal(`${r.color} ${r.dash.join(',')}`, before.get(r.runDir), r.name);
  const styles = new Set(more.map((r) => `${r.color} ${r.dash.join(',')}`));
  assert.equal(styles.size, 25, 'no two of 25 runs share colour and dash');
  assert.ok(
    more.slice(0, 5).every((r) => r.dash.length > 0),
    'runs 21–25 are dashed',
  );
  // One removed: nobody else changes.
  await deliver(page, { type: 'compare/runs', runs: [...all.slice(20), ...all.slice(0, 3), ...all.slice(4, 20)] });
  await frames(page);
  const fewer = await runsOnPage(page);
  const withMore = new Map(more.map((r) => [r.runDir, `${r.color} ${r.dash.join(',')}`]));
  for (const r of fewer) assert.equal(`${r.color} ${r.dash.join(',')}`, withMore.get(r.runDir), r.name);

  // Filter: "seed=1" matches seed=1 and seed=10…19, and the list shows only those.
  await page.locator('.run-legend input.run-filter').fill('seed=1');
  // What is on screen, not only marked: an item the filter leaves out takes no space.
  const listed = await page.evaluate<string[]>(
    `[...document.querySelectorAll('.run-legend .run-name')].filter((n) => n.getClientRects().length > 0).map((n) => n.textContent)`,
  );
  assert.deepEqual(
    listed.map((n) => Number(/seed=(\d+)/.exec(n)?.[1])).sort((a, b) => a - b),
    [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
  );
  assert.match((await page.locator('.run-legend summary').textContent()) ?? '', /24 of 24 shown, 11 match the filter/);

  // Solo: a click on a name shows that run alone in every chart; a second click shows all again.
  const soloName = 'scale · lr=0.005 seed=14';
  await page.locator('.run-legend .run-name', { hasText: soloName }).click();
  await frames(page);
  let state = await runsOnPage(page);
  assert.deepEqual(
    state.filter((r) => r.show[0] || r.show[1] || r.shown).map((r) => r.name),
    [soloName],
  );
  const charts = await page.evaluate<boolean[]>(`window.l3mPanel.charts().map((c) => {
    const i = window.l3mPanel.runs().findIndex((r) => r.name === ${JSON.stringify(soloName)});
    return c.uplot.series.filter((s, k) => k > 0 && s.show).length === 2 && c.uplot.series[2 * i + 2].show;
  })`);
  assert.ok(charts.length >= 2 && charts.every(Boolean), 'solo holds in every chart');
  await page.locator('.run-legend .run-name', { hasText: soloName }).click();
  await frames(page);
  state = await runsOnPage(page);
  assert.ok(state.every((r) => r.shown && r.show[0] && r.show[1]));

  // Hover: the run's curve stays opaque, the others dim; leaving the list ends it.
  const hovered = 'scale · lr=0.002 seed=17';
  await page.locator('.run-legend .run-item', { hasText: hovered }).hover();
  await frames(page);
  state = await runsOnPage(page);
  assert.deepEqual(
    state.filter((r) => r.alpha === 1).map((r) => r.name),
    [hovered],
  );
  assert.ok(state.filter((r) => r.name !== hovered).every((r) => r.alpha < 0.5));
  await page.locator('h2', { hasText: 'Compare runs' }).hover();
  await frames(page);
  state = await runsOnPage(page);
  assert.ok(
    state.every((r) => r.alpha === 1),
    'no run dimmed after the pointer left the legend',
  );
  // From the keyboard: focus on a run's name highlights it, and leaving the legend ends it.
  await page.locator('.run-legend .run-name', { hasText: soloName }).focus();
  await frames(page);
  state = await runsOnPage(page);
  assert.deepEqual(
    state.filter((r) => r.alpha === 1).map((r) => r.name),
    [soloName],
  );
  await page.locator('.run-legend input.run-filter').focus();
  await frames(page);
  state = await runsOnPage(page);
  assert.ok(state.every((r) => r.alpha === 1));
  assert.deepEqual(pageErrors(page), []);
});

/** The validation loss of a run's records: its best (lowest) value and the first step that logged it, by hand. */
function bestValidationLoss(records: MetricRecord[]): { best: number; step: number } {
  let best = { best: Infinity, step: -1 };
  for (const r of records)
    if (r.split === 'val' && typeof r.loss === 'number' && r.loss < best.best) best = { best: r.loss, step: r.step };
  return best;
}

test('compare tables: default columns, best-so-far against the data, chooser, CSV and Markdown; config fields a run never read', async () => {
  const records = [regressionRecords(40, 8, 1), regressionRecords(40, 8, 5), regressionRecords(40, 8, 9)];
  // Make the validation loss of one run rise after step 16, so its best is not its final value.
  for (const r of records[1]) if (r.split === 'val' && r.step > 16) r.loss = Number(r.loss) + 0.5;
  const configs = [
    { task: 'regression', training: { unit: 'steps', steps: 40, epochs: 3, lr: 0.001 } },
    { task: 'regression', training: { unit: 'epochs', steps: 1000, epochs: 5, lr: 0.001 } },
    { task: 'regression', training: { unit: 'steps', steps: 40, epochs: 9, lr: 0.003 } },
  ];
  const dirs = configs.map((config, i) => {
    const runDir = writeRun(runsDir, 'tables', `20261201-1100${i}0-dd00`, 'regression', config);
    writeMetrics(runDir, records[i]);
    return runDir;
  });
  const runs: CompareRun[] = await Promise.all(dirs.map(compareRun));
  const page = await host.open('compare', { height: 1400 });
  await deliver(page, { type: 'compare/runs', runs });
  await frames(page);

  // Names: the learning rate and the unit differ; epochs and steps are read by one run or agree, so they name nobody.
  const names = await page.evaluate<string[]>('window.l3mPanel.runs().map((r) => r.name)');
  assert.deepEqual(names, [
    'tables · lr=0.001 unit=steps',
    'tables · lr=0.001 unit=epochs',
    'tables · lr=0.003 unit=steps',
  ]);
  // Config: training.steps (40, unread 1000, 40) and training.epochs (unread 3, 5, unread 9) do not differ.
  const differing = await page.evaluate<string[]>('window.l3mPanel.differingFields()');
  assert.deepEqual(differing, ['training.lr', 'training.unit']);
  await page.locator('vscode-checkbox[label="Only fields that differ"]').click();
  await frames(page);
  assert.deepEqual(await page.evaluate('window.l3mPanel.configFields()'), [
    'task',
    'training.epochs',
    'training.lr',
    'training.steps',
    'training.unit',
  ]);
  assert.equal(await page.locator('tr[data-path="training.epochs"] td').nth(1).textContent(), '3 (not used)');
  assert.equal(await page.locator('tr[data-path="training.steps"] td').nth(2).textContent(), '1000 (not used)');
  await page.locator('vscode-checkbox[label="Only fields that differ"]').click();
  await frames(page);
  assert.deepEqual(await page.evaluate('window.l3mPanel.differingFields()'), differing);

  // Default columns: the losses with final, best and best step; the test metrics with a best; nothing else.
  interface Shown {
    columns: string[];
    rows: { runDir: string; name: string; values: Record<string, { final: number; best: number; bestStep: number }> }[];
  }
  let shown = await page.evaluate<Shown>('window.l3mPanel.metricsTable()');
  assert.deepEqual(shown.columns, [
    'run',
    'status',
    'loss · train final',
    'loss · train best',
    'loss · train best step',
    'loss · val final',
    'loss · val best',
    'loss · val best step',
    'nll · test',
    ...['mWDM', 'omegaM', 'E0', 'log10LX', 'log10Tvir', 'zeta'].map((p) => `r2_${p} · test`),
  ]);
  // Best so far and its step, against the records by hand.
  for (const [i, dir] of dirs.entries()) {
    const row = shown.rows.find((r) => r.runDir === dir);
    const expected = bestValidationLoss(records[i]);
    assert.equal(row?.values['loss · val'].best, expected.best, `run ${i}: best validation loss`);
    assert.equal(row?.values['loss · val'].bestStep, expected.step, `run ${i}: its step`);
  }
  assert.equal(bestValidationLoss(records[1]).step, 16, 'the rising run was best at step 16');
  const cells = await page.locator(`table.metrics tbody tr[data-run-dir="${dirs[1]}"] td`).allTextContents();
  assert.equal(cells[shown.columns.indexOf('loss · val best step')], '16');

  // The chooser: All adds every metric; those without a best get their final value only.
  await page.locator('.metric-chooser summary').click();
  await page.locator('.metric-chooser vscode-button', { hasText: 'All' }).click();
  await frames(page);
  shown = await page.evaluate<Shown>('window.l3mPanel.metricsTable()');
  for (const column of [
    'grad_norm_head · train final',
    'lr · train final',
    'steps_per_s · train final',
    'l1_zeta · val best',
    'coverage68_zeta · test',
  ])
    assert.ok(shown.columns.includes(column), column);
  for (const column of [
    'grad_norm_head · train best',
    'lr · train best',
    'steps_per_s · train best',
    'coverage68_zeta · test best',
  ])
    assert.ok(!shown.columns.includes(column), column);
  // One metric off, by its checkbox.
  await page.locator('.metric-chooser vscode-checkbox[data-metric="lr · train"]').click();
  await frames(page);
  shown = await page.evaluate<Shown>('window.l3mPanel.metricsTable()');
  assert.ok(!shown.columns.includes('lr · train final'));
  await page.locator('.metric-chooser vscode-button', { hasText: 'Default' }).click();
  await frames(page);

  // Sorted by best validation loss, then exported: the CSV at full precision, the Markdown rounded.
  await page.locator('table.metrics th', { hasText: /^loss · val best$/ }).click();
  await page.locator('.run-table vscode-button', { hasText: 'Copy CSV' }).click();
  await page.locator('.run-table vscode-button', { hasText: 'Copy Markdown' }).click();
  await page.locator('.run-table vscode-button', { hasText: 'Save CSV' }).click();
  const messages = await posted(page);
  const copies = messages.filter((m) => m.type === 'compare/copy') as unknown as { text: string; what: string }[];
  assert.deepEqual(
    copies.map((c) => c.what),
    ['the metrics table as CSV', 'the metrics table as Markdown'],
  );
  const csv = copies[0].text.trimEnd().split('\n');
  const header = csv[0].split(',');
  assert.deepEqual(header.slice(0, 3), ['run', 'run_id', 'status']);
  assert.equal(header.at(-1), 'note');
  const bestColumn = header.indexOf('loss · val best');
  const expectedOrder = [0, 1, 2].sort(
    (a, b) => bestValidationLoss(records[a]).best - bestValidationLoss(records[b]).best,
  );
  assert.deepEqual(
    csv.slice(1).map((line) => Number(line.split(',')[bestColumn])),
    expectedOrder.map((i) => bestValidationLoss(records[i]).best),
    'CSV rows in the table order, best values at full precision',
  );
  const markdown = copies[1].text.trimEnd().split('\n');
  assert.equal(markdown.length, 2 + 3);
  assert.match(markdown[0], /^\| run \| status \| loss · train final \| /);
  assert.match(markdown[2], /^\| tables · .* \| completed \| -?\d/);
  const saved = messages.find((m) => m.type === 'export');
  assert.deepEqual(saved && { fileName: saved.fileName, mime: saved.mime, same: saved.data === copies[0].text }, {
    fileName: 'compare_metrics.csv',
    mime: 'text/csv',
    same: true,
  });
  await page.screenshot({ path: 'test-artifacts/browser/compare-tables.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});

test('first paint of 20 runs × 10k steps: each chart drawn once, every run on the decimated shared steps', async () => {
  const steps = 10_000;
  const dirs = Array.from({ length: 20 }, (_, i) => {
    const runDir = writeRun(runsDir, 'paint', `20261201-1100${String(i).padStart(2, '0')}-dd00`, 'regression', {
      task: 'regression',
      training: { unit: 'steps', steps, lr: lrs[i % 4], seed: i },
    });
    writeMetrics(runDir, trainingRecords(steps, 100, i + 1, 1 + i / 40));
    return runDir;
  });
  const runs = await Promise.all(dirs.map(compareRun));
  const page = await host.open('compare', { width: 1400, height: 900 });
  // The page marks each chart draw while this is set (bench_marks.ts).
  await page.evaluate('window.l3mBenchmark = true');
  await deliver(page, { type: 'compare/runs', runs });
  await page.waitForFunction('window.l3mPanel.charts().length === 4');
  await frames(page, 4);
  const drawn: { draws: number; charts: { title: string; rows: number; width: number; pointsPerRun: number[] }[] } =
    await page.evaluate(`({
      draws: performance.getEntriesByName('l3m-chart-draw').length,
      charts: window.l3mPanel.charts().map((c) => ({
        title: c.title,
        rows: c.uplot.data[0].length,
        width: c.uplot.bbox.width / devicePixelRatio,
        pointsPerRun: window.l3mPanel.runs().map((_, i) => c.uplot.data[2 * i + 2].filter((v) => v !== null).length),
      })),
    })`);
  // A chart drawn twice (its first size reported again by the resize observer) costs a whole redraw.
  assert.equal(drawn.draws, 4, `${drawn.draws} draws for 4 charts`);
  for (const chart of drawn.charts) {
    const training = chart.title.includes('val') ? steps / 100 : steps;
    // Train curves (10k steps) are cut to about two points per pixel column; validation (100 points) is kept whole.
    assert.ok(
      chart.rows <= Math.min(training, 2 * Math.round(chart.width) + 4 * 64),
      `${chart.title}: ${chart.rows} rows`,
    );
    assert.ok(chart.rows >= Math.min(training, Math.round(chart.width)), `${chart.title}: ${chart.rows} rows`);
    // Every run logged the same steps, so every run has a value in every row: nothing was padded with gaps.
    assert.deepEqual(chart.pointsPerRun, Array(20).fill(chart.rows), chart.title);
  }
  assert.deepEqual(pageErrors(page), []);
  await page.close();
});
