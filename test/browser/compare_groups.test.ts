// The compare page's group views in real Chromium, on the run folders of a sweep (run.json's
// sweep.group) in three groups with known values: the ±1σ band's mean and σ at a step equal the values
// computed by hand (including a run on another step grid, interpolated, and a NaN skipped), the legend
// lists groups, the table's cells and the ratio to a reference group, the CSV and Markdown that the
// export buttons hand to the host, the raw runs on demand, and grouping by a config field instead.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { compareRun, sweepRunDirs } from '../../extension/panels/run_data';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { writeSweepFixture } from './sweep_fixtures';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-compare-groups-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

interface ChartView {
  key: string;
  labels: string[];
  data: (number | null)[][];
  bands: { series: [number, number] }[];
}

function charts(page: Page): Promise<ChartView[]> {
  return page.evaluate(() =>
    (
      globalThis as unknown as {
        l3mPanel: {
          charts(): {
            key: string;
            uplot: { data: (number | null)[][]; series: { label: string }[]; bands: { series: [number, number] }[] };
          }[];
        };
      }
    ).l3mPanel
      .charts()
      .map((c) => ({
        key: c.key,
        labels: c.uplot.series.map((s) => s.label),
        data: c.uplot.data.map((column) => Array.from(column)),
        bands: c.uplot.bands.map((b) => ({ series: b.series })),
      })),
  );
}

/** The value of the series labelled `label` at x = `step`. */
function at(chart: ChartView, label: string, step: number): number | null {
  const series = chart.labels.indexOf(label);
  assert.ok(series > 0, `${chart.key} has no series "${label}" (has ${chart.labels.join(', ')})`);
  const row = chart.data[0].indexOf(step);
  assert.ok(row >= 0, `${chart.key} has no point at step ${step}`);
  return chart.data[series][row];
}

function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);
}

/** Chooses a value in a vscode-single-select, as a click on an option does. */
function choose(page: Page, selector: string, value: string): Promise<void> {
  return page.evaluate(`(() => {
    const select = document.querySelector(${JSON.stringify(selector)});
    select.value = ${JSON.stringify(value)};
    select.dispatchEvent(new Event('change'));
  })()`);
}

test('compare groups: bands of mean ± σ per group, groups in the legend, the Table-4 table and its exports', async () => {
  const { runDirs, sweepDir } = writeSweepFixture(runsDir);
  // The sweep folder lists the runs in expansion order, as l3m.compareSweep opens them.
  const fromSweep = await sweepRunDirs(sweepDir);
  assert.deepEqual(fromSweep, { runDirs });
  const missing = await sweepRunDirs(join(runsDir, '.sweeps', 'gone-20261123-100000-0000'));
  assert.ok(
    'error' in missing && /gone-20261123-100000-0000: no sweep\.json/.test(missing.error),
    JSON.stringify(missing),
  );
  const page = await host.open('compare', { height: 1600 });
  // Statistics on the raw values: smoothing off.
  await page.locator('input[type=range]').fill('0');
  await deliver(page, { type: 'compare/runs', runs: await Promise.all(runDirs.map(compareRun)) });
  await frames(page);

  // The legend lists the groups with their sizes, in the sweep's order.
  assert.deepEqual(
    await page.evaluate<string[]>(
      `[...document.querySelectorAll('.legend-item vscode-checkbox')].map((b) => b.getAttribute('label'))`,
    ),
    ['setup=full (3 runs)', 'setup=lora-r2 (3 runs)', 'setup=frozen (1 run)'],
  );

  const val = (await charts(page)).find((c) => c.key === 'loss · val');
  assert.ok(val);
  assert.deepEqual(val.labels.slice(1), [
    'setup=full −1σ',
    'setup=full +1σ',
    'setup=full',
    'setup=lora-r2 −1σ',
    'setup=lora-r2 +1σ',
    'setup=lora-r2',
    'setup=frozen −1σ',
    'setup=frozen +1σ',
    'setup=frozen',
  ]);
  // Each band fills between its group's +1σ and −1σ series.
  assert.deepEqual(
    val.bands.map((b) => b.series),
    [
      [2, 1],
      [5, 4],
      [8, 7],
    ],
  );
  // full at step 20: 3, 4, 2 → mean 3, σ 1; at step 40: 1, 2, 3 → mean 2, σ 1.
  near(at(val, 'setup=full', 20), 3, 'full mean at 20');
  near(at(val, 'setup=full +1σ', 20), 4, 'full +1σ at 20');
  near(at(val, 'setup=full −1σ', 20), 2, 'full −1σ at 20');
  near(at(val, 'setup=full', 40), 2, 'full mean at 40');
  // lora at step 20: 6, and the second run between (10, 9) and (25, 7) = 7.6667; the third is NaN
  // there (skipped). mean 6.8333, σ = 1.6667/√2 = 1.1785.
  const loraMean20 = (6 + 9 - 2 * (10 / 15)) / 2;
  const loraSd20 = (9 - 2 * (10 / 15) - 6) / Math.SQRT2;
  near(at(val, 'setup=lora-r2', 20), loraMean20, 'lora mean at 20');
  near(at(val, 'setup=lora-r2 +1σ', 20), loraMean20 + loraSd20, 'lora +1σ at 20');
  // lora at step 25 (only the second run logged it): first run between (20, 6) and (30, 5) = 5.5, second 7,
  // third interpolated next to its NaN: skipped. mean 6.25, σ = 1.5/√2.
  near(at(val, 'setup=lora-r2', 25), 6.25, 'lora mean at 25');
  near(at(val, 'setup=lora-r2 −1σ', 25), 6.25 - 1.5 / Math.SQRT2, 'lora −1σ at 25');
  // lora at step 40: 4, 5, 5 → mean 14/3, σ = sqrt((4/9 + 1/9 + 1/9)/2) = 0.57735.
  near(at(val, 'setup=lora-r2', 40), 14 / 3, 'lora mean at 40');
  near(at(val, 'setup=lora-r2 +1σ', 40), 14 / 3 + Math.sqrt(1 / 3), 'lora +1σ at 40');
  // frozen has one run: its mean is the run, its band is undefined (a gap).
  near(at(val, 'setup=frozen', 30), 8, 'frozen mean at 30');
  assert.equal(at(val, 'setup=frozen +1σ', 30), null);

  // The table: the generation task's test metric by default, the first group as reference.
  const cells = () =>
    page.evaluate<string[][]>(
      `[...document.querySelectorAll('table.groups tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))`,
    );
  assert.deepEqual(await page.locator('table.groups th').allTextContents(), [
    'group',
    'runs',
    'next_patch_mse · test final',
    'next_patch_mse · test best',
    'final ÷ setup=full',
    'best ÷ setup=full',
  ]);
  // full: 0.010, 0.012, 0.014 → 0.012 ± 0.002. lora: 0.024, 0.030 and a NaN → 0.027 ± 0.0042426 (n = 2).
  // lora ÷ full = 2.25 ± sqrt(0.0042426²/2 + 2.25²·0.002²/3) / 0.012 = 2.25 ± 0.3307.
  assert.deepEqual(await cells(), [
    ['setup=full', '3', '0.0120 ± 0.0020 (n = 3)', '0.0120 ± 0.0020 (n = 3)', '1 (reference)', '1 (reference)'],
    [
      'setup=lora-r2',
      '3',
      '0.0270 ± 0.0042 (n = 2, 1 NaN skipped)',
      '0.0270 ± 0.0042 (n = 2, 1 NaN skipped)',
      '2.25 ± 0.33',
      '2.25 ± 0.33',
    ],
    [
      'setup=frozen',
      '1',
      '0.03 (n = 1, σ undefined)',
      '0.03 (n = 1, σ undefined)',
      '2.5 (σ undefined)',
      '2.5 (σ undefined)',
    ],
  ]);

  // Markdown to the clipboard (through the host) and CSV to a file.
  await page.locator('.group-table vscode-button', { hasText: 'Copy Markdown' }).click();
  await page.locator('.group-table vscode-button', { hasText: 'Save CSV' }).click();
  const messages = await posted(page);
  const copied = messages.find((m) => m.type === 'compare/copy');
  assert.ok(copied, JSON.stringify(messages.map((m) => m.type)));
  assert.equal(
    copied.text,
    [
      '| group | runs | next_patch_mse · test final | next_patch_mse · test best | final ÷ setup=full | best ÷ setup=full |',
      '| --- | ---: | --- | --- | --- | --- |',
      '| setup=full | 3 | 0.0120 ± 0.0020 (n = 3) | 0.0120 ± 0.0020 (n = 3) | 1 (reference) | 1 (reference) |',
      '| setup=lora-r2 | 3 | 0.0270 ± 0.0042 (n = 2, 1 NaN skipped) | 0.0270 ± 0.0042 (n = 2, 1 NaN skipped) | 2.25 ± 0.33 | 2.25 ± 0.33 |',
      '| setup=frozen | 1 | 0.03 (n = 1, σ undefined) | 0.03 (n = 1, σ undefined) | 2.5 (σ undefined) | 2.5 (σ undefined) |',
      '',
      'mean ± sample σ over each group’s runs (n runs with a finite value); ratio ± standard error of the ratio of means (first-order propagation).',
      '',
    ].join('\n'),
  );
  const saved = messages.find((m) => m.type === 'export');
  assert.ok(saved);
  assert.equal(saved.mime, 'text/csv');
  assert.equal(saved.fileName, 'groups_next_patch_mse_test.csv');
  assert.ok(typeof saved.data === 'string');
  const csv = saved.data
    .trimEnd()
    .split('\n')
    .map((line) => line.split(','));
  assert.deepEqual(csv[0].slice(0, 7), ['metric', 'group', 'runs', 'final_mean', 'final_sd', 'final_n', 'final_nan']);
  assert.deepEqual(csv[2].slice(1, 3), ['setup=lora-r2', '3']);
  near(Number(csv[2][3]), 0.027, 'CSV lora final mean');
  near(Number(csv[2][4]), Math.sqrt(0.000018), 'CSV lora final σ');
  assert.deepEqual(csv[2].slice(5, 7), ['2', '1']);
  const loraRatioSd = Math.sqrt(0.000018 / 2 + (2.25 ** 2 * 0.000004) / 3) / 0.012;
  near(Number(csv[2][12]), 2.25, 'CSV lora ratio');
  near(Number(csv[2][13]), loraRatioSd, 'CSV lora ratio σ');
  // frozen (n = 1): σ and the ratio's σ are empty cells.
  assert.equal(csv[3][4], '');
  assert.equal(csv[3][13], '');

  // Another reference and the validation loss: lora ÷ frozen on the final val loss, 14/3 ÷ 7.
  await choose(page, '.group-table .control:nth-of-type(2) vscode-single-select', 'setup=frozen');
  await choose(page, '.group-table .control:nth-of-type(1) vscode-single-select', 'loss · val');
  await frames(page);
  const rows = await cells();
  assert.deepEqual(rows[1].slice(0, 4), [
    'setup=lora-r2',
    '3',
    '4.67 ± 0.58 (n = 3)',
    // Bests: 4, 5, 5 → the same.
    '4.67 ± 0.58 (n = 3)',
  ]);
  assert.equal(rows[1][4], '0.6667 (σ undefined)');
  assert.equal(rows[2][4], '1 (reference)');
  await page.screenshot({ path: 'test-artifacts/browser/compare_groups.png', fullPage: true });

  // The raw runs on demand: one faint series per run behind the bands.
  await page.locator('vscode-checkbox[label="Show runs"]').click();
  await frames(page);
  const withRuns = (await charts(page)).find((c) => c.key === 'loss · val');
  assert.ok(withRuns);
  assert.equal(withRuns.labels.length, 1 + 9 + 7);
  // Runs are labelled by the names the page gives them (the fields in which they differ).
  const nameOf = new Map(await page.evaluate<[string, string][]>('window.l3mPanel.runs().map((r) => [r.id, r.name])'));
  assert.deepEqual(
    withRuns.labels.slice(10, 12),
    ['generation/20261123-100000-0000', 'generation/20261123-100001-0001'].map((id) => nameOf.get(id)),
  );
  assert.equal(at(withRuns, nameOf.get('generation/20261123-100004-0004') ?? '', 25), 7);

  // Grouping off: the legend lists the runs again; a sweep's message groups them anew.
  await choose(page, '.toolbar .control vscode-single-select[aria-label="Group by"]', '');
  await frames(page);
  assert.equal(await page.locator('.run-legend .run-item').count(), 7);
  assert.equal(await page.locator('.legend-item').count(), 0);
  assert.equal(await page.locator('.group-table').isHidden(), true);
  await deliver(page, { type: 'compare/runs', runs: await Promise.all(runDirs.map(compareRun)), groupBy: 'sweep' });
  await frames(page);
  assert.equal(await page.locator('.legend-item').count(), 3);

  // Grouping by a config field that differs gives the same groups under the field's values.
  await choose(page, '.toolbar .control vscode-single-select[aria-label="Group by"]', 'config:backbone.finetune');
  await frames(page);
  const groups = await page.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { groups(): { key: string; runs: string[] }[] } }).l3mPanel.groups(),
  );
  assert.deepEqual(
    groups.map((g) => [g.key, g.runs.length]),
    [
      ['backbone.finetune=full', 3],
      ['backbone.finetune=lora', 3],
      ['backbone.finetune=frozen', 1],
    ],
  );
  assert.deepEqual(pageErrors(page), []);
});
