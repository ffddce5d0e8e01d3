// Compare on many runs in the real workbench, where a panel's data crosses VS Code's webview
// transport: five runs selected in the Runs view, then ten more through "Add runs…", then one
// removed. Each run has the 31 metrics of a regression run, so that a message carries hundreds of
// typed arrays. Every run must be drawn (a curve of its own in every chart) and have every value of
// the metrics table; a run whose metrics cannot be read says why in its own row. With 15 runs the
// legend stays usable: runs named by what differs, a colour each, a filter, solo and highlight.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchStudio, type Studio } from './harness';
import { chooseMenuItem, panelFrame } from './workbench_ui';
import { writeMetrics, writeRun } from '../browser/run_fixtures';
import { regressionMetricNames, regressionRecords } from '../browser/regression_metrics';

const experiment = 'e2e-many';
const runIds = Array.from(
  { length: 15 },
  (_, i) => `20260301-1000${String(i).padStart(2, '0')}-aa${String(i).padStart(2, '0')}`,
);
const brokenId = '20260301-100099-bbbb';

/** What the page shows of each run: its curves (points per chart) and its row of the metrics table. */
interface RunShown {
  name: string;
  /** Per chart drawn: the finite points of the run's raw series. `name` is the run's `<experiment>/<run-id>`. */
  points: Record<string, number>;
  /** The run's row of the metrics table, cell by cell. */
  row: string[];
}

const reading = `(() => {
  const charts = window.l3mPanel.charts();
  const rows = [...document.querySelectorAll('table.metrics tbody tr')];
  return window.l3mPanel.runs().map((run, i) => {
    const row = rows.find((r) => r.dataset.runDir === run.runDir);
    return {
      name: run.id,
      points: Object.fromEntries(charts.map((c) => [c.key, (c.uplot.data[2 * i + 1] ?? []).filter((v) => v !== null && Number.isFinite(v)).length])),
      row: row ? [...row.cells].map((c) => c.textContent) : [],
    };
  });
})()`;

/**
 * Waits until the compare page lists `count` runs in its legend, then returns what it shows of each.
 * The page is looked up anew on each reading: changing the compared runs changes the panel's resource
 * folders, and VS Code reloads the page for that.
 */
async function runsShown(page: Page, count: number): Promise<RunShown[]> {
  const deadline = Date.now() + 120_000;
  let last: unknown = 'no compare page';
  while (Date.now() < deadline) {
    const frame = await panelFrame(page, 'compare', Math.max(1, deadline - Date.now()));
    const shown = await frame.evaluate(reading).catch((e: Error) => e.message);
    if (Array.isArray(shown) && shown.length === count && shown.every((x: RunShown) => x.row.length > 0))
      return shown as RunShown[];
    last = shown;
    await page.waitForTimeout(250);
  }
  throw new Error(`the compare page did not list ${count} runs within 120 s; it showed ${JSON.stringify(last)}`);
}

/** Polls `check` (the page updates on its own events) until it holds, for at most 30 s. */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`within 30 s, expected: ${what}`);
}

/** Every run is drawn in every chart and has a value in every cell of its row. */
function assertAllDrawn(shown: RunShown[], expected: string[]): void {
  assert.deepEqual(shown.map((s) => s.name).sort(), [...expected].sort());
  for (const run of shown) {
    const charts = Object.entries(run.points);
    // A chart per train metric (6) and per validation metric (8); the test split is in the table only.
    assert.equal(charts.length, 14, `${run.name}: charts ${charts.map(([key]) => key).join(', ')}`);
    const empty = charts.filter(([, n]) => n === 0).map(([key]) => key);
    assert.deepEqual(empty, [], `${run.name} has no curve in these charts (of ${shown.length} runs)`);
    const missing = run.row.filter((cell) => cell === '–').length;
    assert.equal(missing, 0, `${run.name}: ${missing} cells of its metrics table row are "–": ${run.row.join(' | ')}`);
  }
}

describe('Compare on many runs in code-server', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;
  before(async () => {
    studio = await launchStudio();
    const runs = join(studio.workspace, 'runs');
    runIds.forEach((id, i) => {
      const runDir = writeRun(runs, experiment, id, 'regression', {
        task: 'regression',
        training: { lr: 0.005 * (1 + (i % 3)), seed: i },
      });
      writeMetrics(runDir, regressionRecords(40, 8, i + 1));
    });
    // A run whose metrics.jsonl leads out of its folder: refused, and the row must say so.
    const broken = writeRun(runs, experiment, brokenId, 'regression', { task: 'regression', training: { lr: 0.1 } });
    const outside = join(studio.sessionRoot, 'elsewhere');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'metrics.jsonl'), '');
    symlinkSync(join(outside, 'metrics.jsonl'), join(broken, 'metrics.jsonl'));
  });
  after(async () => {
    await studio?.close();
  });

  test('5 selected runs, then 15 with Add runs…, then one removed: every run has its curves and values', async () => {
    assert.equal(regressionMetricNames.length, 31);
    await studio.screenshotOnFailure('compare-many-runs', async () => {
      const page = studio.page;
      await studio.openL3MView();
      const firstFive = runIds.slice(0, 5);
      const rows = [];
      for (const id of firstFive) rows.push(await studio.revealTreeItem('Runs', new RegExp(`^${id}$`)));
      await rows[0].click();
      for (const row of rows.slice(1)) await row.click({ modifiers: ['Control'] });
      await rows[4].click({ button: 'right' });
      await chooseMenuItem(page, 'Compare Runs');
      const frame = await panelFrame(page, 'compare', 120_000);
      const names = (ids: string[]) => ids.map((id) => `${experiment}/${id}`);
      assertAllDrawn(await runsShown(page, 5), names(firstFive));

      // Add runs…: the other ten and the broken run, all picked at once.
      await frame.locator('vscode-button', { hasText: 'Add runs…' }).click();
      const picker = page.locator('.quick-input-widget');
      await picker
        .locator('.quick-input-title', { hasText: 'Add runs to the comparison' })
        .waitFor({ state: 'visible' });
      await picker.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible' });
      // The header's checkbox checks every item; the count then says so.
      await picker.locator('.quick-input-header [role="checkbox"]').first().click();
      await picker.locator('.quick-input-count', { hasText: '11 Selected' }).waitFor({ state: 'visible' });
      await picker.locator('.monaco-button', { hasText: /^OK$/ }).click();
      await picker.waitFor({ state: 'hidden' });
      const sixteen = await runsShown(page, 16);
      const broken = sixteen.find((s) => s.name === `${experiment}/${brokenId}`);
      assert.ok(broken, `the broken run is listed: ${sixteen.map((s) => s.name).join(', ')}`);
      assert.match(
        broken.row.join(' | '),
        /metrics\.jsonl leads to .*outside the run folder/,
        'the broken run says in its row why it has no values',
      );
      assertAllDrawn(
        sixteen.filter((s) => s !== broken),
        names(runIds),
      );
      await studio.screenshot('compare-many-runs');

      // Remove: the others keep their data.
      const removed = `${experiment}/${runIds[1]}`;
      const reloaded = await panelFrame(page, 'compare');
      await reloaded.locator(`.run-legend button[aria-label="Remove ${removed} from the comparison"]`).click();
      const fifteen = await runsShown(page, 15);
      assertAllDrawn(
        fifteen.filter((s) => !s.name.endsWith(brokenId)),
        names(runIds).filter((n) => n !== removed),
      );

      // The legend with 15 runs: named by what differs, each its own colour, a few lines high; filter,
      // solo and highlight reach every chart.
      const legendFrame = await panelFrame(page, 'compare');
      const runsOnPage = () =>
        legendFrame.evaluate<
          { id: string; name: string; color: string; shown: boolean; show: boolean[]; alpha: number[] }[]
        >(`(() => {
          const charts = window.l3mPanel.charts();
          return window.l3mPanel.runs().map((r, i) => ({ ...r,
            show: charts.map((c) => c.uplot.series[2 * i + 2].show),
            alpha: charts.map((c) => c.uplot.series[2 * i + 2].alpha ?? 1) }));
        })()`);
      const listed = await runsOnPage();
      assert.equal(listed.find((r) => r.id === `${experiment}/${runIds[4]}`)?.name, `${experiment} · lr=0.01 seed=4`);
      assert.equal(new Set(listed.map((r) => r.color)).size, 15, 'every run has a colour of its own');
      const legendHeight = await legendFrame.evaluate<number>(
        `document.querySelector('.run-legend').getBoundingClientRect().height`,
      );
      assert.ok(legendHeight < 240, `the legend of 15 runs is ${legendHeight} px high`);
      await legendFrame.locator('.run-legend input.run-filter').fill('lr=0.015');
      await legendFrame
        .locator('.run-legend summary', { hasText: '5 match the filter' })
        .waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(
        await legendFrame.evaluate<number>(
          `[...document.querySelectorAll('.run-legend .run-item')].filter((n) => n.getClientRects().length > 0).length`,
        ),
        5,
        'the filter leaves 5 runs on screen',
      );
      const soloed = `${experiment} · lr=0.015 seed=8`;
      await legendFrame.locator('.run-legend .run-item:not([hidden]) .run-name', { hasText: soloed }).click();
      await waitFor(async () => {
        const state = await runsOnPage();
        return state.every((r) => (r.name === soloed) === r.shown && r.show.every((s) => s === r.shown));
      }, `only ${soloed} shown in every chart after a click on its name`);
      await legendFrame.locator('.run-legend .run-item:not([hidden]) .run-name', { hasText: soloed }).click();
      await waitFor(
        async () => (await runsOnPage()).every((r) => r.shown && r.show.every(Boolean)),
        'every run shown again after a second click',
      );
      await legendFrame.locator('.run-legend .run-item:not([hidden])', { hasText: soloed }).hover();
      await waitFor(async () => {
        const state = await runsOnPage();
        return state.every((r) => r.alpha.every((a) => (r.name === soloed ? a === 1 : a < 1)));
      }, `${soloed} highlighted, the others dimmed, while the pointer is on it`);
      await studio.screenshot('compare-many-runs-legend');
    });
  });
});
