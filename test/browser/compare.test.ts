// The compare page in real Chromium with three recorded runs: curves overlaid one per run, legend
// toggles hide a run, the metrics table sorts, and the config table lists exactly the fields that
// differ (including one that a run lacks); an unreadable config is reported, not fatal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRun } from '../../extension/panels/run_data';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { trainingRecords, writeMetrics, writeRun } from './run_fixtures';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-compare-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

const baseConfig = {
  task: 'generation',
  model: { backbone: 'qwen2.5-0.5b', finetune: { mode: 'lora', rank: 8 } },
  training: { phases: [{ steps: 100, lr: 0.001 }], batchSize: 4, seed: 1 },
  data: { source: 'simulator', lightcones: 40 },
};

test('compare: overlaid curves per run, sortable metrics, exactly the differing config fields', async () => {
  const a = writeRun(runsDir, 'gen', '20261123-100000-0001', 'generation', baseConfig);
  const b = writeRun(runsDir, 'gen', '20261123-100000-0002', 'generation', {
    ...baseConfig,
    model: { ...baseConfig.model, finetune: { mode: 'lora', rank: 16 } },
    training: { ...baseConfig.training, phases: [{ steps: 100, lr: 0.0005 }] },
  });
  const c = writeRun(runsDir, 'gen', '20261123-100000-0003', 'generation', {
    ...baseConfig,
    data: { source: 'simulator', lightcones: 40, augment: true },
  });
  writeMetrics(a, trainingRecords(100, 20, 1, 1.0));
  writeMetrics(b, trainingRecords(80, 20, 2, 0.8));
  writeMetrics(c, trainingRecords(120, 20, 3, 1.2));
  const page = await host.open('compare', { height: 1300 });
  await deliver(page, { type: 'compare/runs', runs: await Promise.all([a, b, c].map(compareRun)) });
  await frames(page);

  const differing = await page.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { differingFields(): string[] } }).l3mPanel.differingFields(),
  );
  assert.deepEqual(differing, ['data.augment', 'model.finetune.rank', 'training.phases.0.lr']);
  assert.equal(await page.locator('tr[data-path="data.augment"] td').nth(1).textContent(), '(absent)');

  const charts = await page.evaluate(() =>
    (
      globalThis as unknown as {
        l3mPanel: { charts(): { key: string; uplot: { data: unknown[][]; series: { show: boolean }[] } }[] };
      }
    ).l3mPanel
      .charts()
      .map((ch) => ({ key: ch.key, points: ch.uplot.data[0].length, series: ch.uplot.data.length - 1 })),
  );
  const loss = charts.find((ch) => ch.key === 'loss · train');
  // Three runs, raw + smoothed each; the union of their steps is 1…120.
  assert.deepEqual(loss, { key: 'loss · train', points: 120, series: 6 });
  assert.ok(charts.some((ch) => ch.key === 'loss · val'));

  // Legend toggle hides run b's curves in every chart.
  await page.locator('.run-legend .run-item').nth(1).locator('input.run-shown').click();
  const shown = await page.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { charts(): { uplot: { series: { show: boolean }[] } }[] } }).l3mPanel
      .charts()[0]
      .uplot.series.map((s) => s.show),
  );
  assert.deepEqual(shown, [true, true, true, false, false, true, true]);

  // Sorting by the final train loss, ascending: b (scaled 0.8) first.
  await page.locator('table.metrics th', { hasText: 'loss · train final' }).click();
  const order = () =>
    page.evaluate<string[]>(`[...document.querySelectorAll('table.metrics tbody tr')].map((r) => r.dataset.runDir)`);
  assert.equal((await order())[0], b);
  await page.locator('table.metrics th', { hasText: 'loss · train final' }).click();
  assert.equal((await order())[2], b);
  // Runs are named by the fields in which they differ, each only by those it has.
  assert.deepEqual(await page.locator('table.metrics tbody tr td:first-child').allTextContents(), [
    'gen · augment=true rank=8 lr=0.001',
    'gen · rank=8 lr=0.001',
    'gen · rank=16 lr=0.0005',
  ]);
  await page.screenshot({ path: 'test-artifacts/browser/compare.png', fullPage: true });

  // Remove asks the host; a run with an unreadable config is shown with the reason.
  await page.locator('.run-legend .run-item').nth(2).locator('.run-remove').click();
  assert.ok((await posted(page)).some((m) => m.type === 'compare/removeRun' && m.runDir === c));
  writeFileSync(join(c, 'config.json'), '{"task": ');
  await deliver(page, { type: 'compare/runs', runs: await Promise.all([a, c].map(compareRun)) });
  await frames(page);
  const problems = await page.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { problems(): string[] } }).l3mPanel.problems(),
  );
  assert.ok(
    problems.some((p) => /0003: config.json is not valid JSON/.test(p)),
    problems.join('\n'),
  );
  assert.deepEqual(pageErrors(page), []);
});
