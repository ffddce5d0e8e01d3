// The compare page in real Chromium with five, then fifteen regression runs of 31 metrics each, sent as the
// extension sends them (every typed array of the message in one buffer, typed_array_packing.ts):
// each run has a curve of its own in every chart and a value in every cell of its row, per run and
// grouped by a config field. Runs that cannot be shown say why in their own row: metrics.jsonl
// leading out of the run folder, columns that arrived shorter than they were sent (what VS Code left
// of a message whose buffers it dropped), and a queued run with no metrics yet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { compareRun } from '../../extension/panels/run_data';
import { packTypedArrays } from '../../extension/panels/typed_array_packing';
import type { CompareRun } from '../../webview/shared/panel_protocol';
import { deliver, frames, pageErrors, startPanelHost, type PanelHost } from './panel_host';
import { writeMetrics, writeRun } from './run_fixtures';
import { regressionRecords } from './regression_metrics';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-compare-many-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

interface RunShown {
  name: string;
  /** Per chart: the finite points of the run's raw series. */
  points: Record<string, number>;
  row: string[];
  note: string | null;
}

function runsShown(page: Page): Promise<RunShown[]> {
  return page.evaluate(`(() => {
    const charts = window.l3mPanel.charts();
    const rows = [...document.querySelectorAll('table.metrics tbody tr')];
    return window.l3mPanel.runs().map((run, i) => {
      const row = rows.find((r) => r.dataset.runDir === run.runDir);
      return {
        name: run.id,
        points: Object.fromEntries(charts.map((c) => [c.key, (c.uplot.data[2 * i + 1] ?? []).filter((v) => v !== null && Number.isFinite(v)).length])),
        row: row ? [...row.cells].map((c) => c.textContent) : [],
        note: row?.querySelector('.row-note')?.textContent ?? null,
      };
    });
  })()`);
}

/** Every run is drawn in each of the 14 charts and has a value in every cell of its row. */
function assertAllDrawn(shown: RunShown[], cells: number): void {
  for (const run of shown) {
    const charts = Object.entries(run.points);
    assert.equal(charts.length, 14, `${run.name}: a chart per train (6) and validation (8) metric`);
    assert.deepEqual(
      charts.filter(([, n]) => n === 0).map(([key]) => key),
      [],
      `${run.name} has no curve in these charts`,
    );
    assert.ok(run.row.length === cells && !run.row.includes('–'), `${run.name}'s row: ${run.row.join(' | ')}`);
    assert.equal(run.note, null, run.name);
  }
}

/** Chooses a value in a vscode-single-select, as a click on an option does. */
function choose(page: Page, selector: string, value: string): Promise<void> {
  return page.evaluate(`(() => {
    const select = document.querySelector(${JSON.stringify(selector)});
    select.value = ${JSON.stringify(value)};
    select.dispatchEvent(new Event('change'));
  })()`);
}

const lrs = [0.001, 0.003, 0.01];

test('compare many: 15 runs of 31 metrics each drawn with all their values; unreadable runs say why in their row', async () => {
  const good = Array.from({ length: 15 }, (_, i) => {
    const runDir = writeRun(runsDir, 'many', `20260301-1000${String(i).padStart(2, '0')}-aa00`, 'regression', {
      training: { lr: lrs[i % 3], seed: i },
    });
    writeMetrics(runDir, regressionRecords(40, 8, i + 1));
    return runDir;
  });
  const refused = writeRun(runsDir, 'many', '20260301-100090-bb00', 'regression', { training: { lr: 0.1 } });
  mkdirSync(join(runsDir, 'elsewhere'));
  writeFileSync(join(runsDir, 'elsewhere', 'metrics.jsonl'), '');
  symlinkSync(join(runsDir, 'elsewhere', 'metrics.jsonl'), join(refused, 'metrics.jsonl'));
  const cut = writeRun(runsDir, 'many', '20260301-100091-bb01', 'regression', { training: { lr: 0.1 } });
  writeMetrics(cut, regressionRecords(40, 8, 99));
  const queued = writeRun(runsDir, 'many', '20260301-100092-bb02', 'regression', { training: { lr: 0.1 } }, 'queued');

  const runs = await Promise.all([...good, refused, cut, queued].map(compareRun));
  // What the page got before the fix when VS Code dropped a run's buffers: typed arrays rebuilt over
  // nothing (empty), under a `length` that still counts the records sent.
  const lost: CompareRun = {
    ...runs[16],
    columns: {
      ...runs[16].columns,
      metrics: runs[16].columns.metrics.map((m, k) =>
        k < 2 ? m : { ...m, values: new Float64Array(0), present: new Uint8Array(0) },
      ),
    },
  };
  const page = await host.open('compare', { height: 1400 });
  // Five runs first, as a selection in the Runs view sends them.
  await deliver(page, packTypedArrays({ type: 'compare/runs', runs: runs.slice(0, 5) }));
  await frames(page);
  const five = await runsShown(page);
  assert.equal(five.length, 5);
  // The default columns: run, status, the train and validation loss (final, best, best step each), the test NLL and six R².
  assertAllDrawn(five, 2 + 6 + 7);
  await deliver(page, packTypedArrays({ type: 'compare/runs', runs: [...runs.slice(0, 16), lost, runs[17]] }));
  await frames(page);
  // Every metric as a column: each of the 15 runs has a value in every one.
  await page.locator('.metric-chooser summary').click();
  await page.locator('.metric-chooser vscode-button', { hasText: 'All' }).click();
  await page.locator('.metric-chooser summary').click();
  await frames(page);

  const shown = await runsShown(page);
  assert.equal(shown.length, 18);
  assertAllDrawn(shown.slice(0, 15), await page.locator('table.metrics thead th').count());
  assert.ok(shown[0].row.length > 40, `all 31 metrics as columns: ${shown[0].row.length} cells`);
  const [refusedShown, cutShown, queuedShown] = shown.slice(15);
  assert.match(refusedShown.note ?? '', /^metrics\.jsonl leads to .*outside the run folder .*; it was not read\./);
  assert.match(
    cutShown.note ?? '',
    /^its metrics arrived incomplete: 46 records were sent, but steps_per_s \(0\), .* and 25 more arrived with fewer values/,
  );
  assert.equal(queuedShown.note, 'no metrics logged yet (metrics.jsonl is empty or absent)');
  for (const run of [refusedShown, cutShown, queuedShown]) {
    assert.ok(
      Object.values(run.points).every((n) => n === 0),
      `${run.name} draws nothing: ${JSON.stringify(run.points)}`,
    );
    // Its status, then its note in the same cell.
    assert.ok(run.row[1].startsWith(run.name.endsWith('bb02') ? 'queued' : 'completed'), run.row[1]);
  }
  // The rows that say why, beside good ones.
  await page.locator('table.metrics tbody tr').nth(17).scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-artifacts/browser/compare-many.png' });

  // Grouped by the learning rate: every run of a group counts in its mean (n = 5), the unreadable
  // ones in theirs (n = 0).
  await choose(page, '.toolbar .control vscode-single-select[aria-label="Group by"]', 'config:training.lr');
  await choose(page, '.group-table .control:nth-of-type(1) vscode-single-select', 'loss · val');
  await frames(page);
  const table = await page.evaluate(`(() => {
    const t = window.l3mPanel.groupTable();
    return t && { metric: t.metric, rows: t.rows.map((r) => [r.group, r.runs, r.final.n]) };
  })()`);
  assert.deepEqual(table, {
    metric: 'loss · val',
    rows: [
      ['training.lr=0.001', 5, 5],
      ['training.lr=0.003', 5, 5],
      ['training.lr=0.01', 5, 5],
      ['training.lr=0.1', 3, 0],
    ],
  });
  assert.deepEqual(pageErrors(page), []);
});
