// What an e2e test reads from a Compare panel that shows groups (a sweep's runs): the groups with
// their runs, each chart's ±1σ bands, and the cells of the group table, once the page has drawn them.
// Shared by the e2e tests that open Compare on a sweep, whichever way they reach it.
import assert from 'node:assert/strict';
import type { Frame } from 'playwright-core';
import { waitFor } from './workbench_ui';

export interface GroupedCompare {
  groups: { key: string; runs: string[] }[];
  /** Per chart (metric · split): its series labels and its bands as [upper, lower] series indices. */
  charts: { key: string; labels: string[]; bands: [number, number][] }[];
  /** The group table's header and rows, as text. */
  header: string[];
  rows: string[][];
}

const reading = `(() => {
  const panel = window.l3mPanel;
  const groups = panel.groups();
  const rows = [...document.querySelectorAll('table.groups tbody tr')].map((r) => [...r.cells].map((c) => c.textContent));
  if (!groups || rows.length === 0) return false;
  return {
    groups,
    charts: panel.charts().map((c) => ({ key: c.key, labels: c.uplot.series.map((s) => s.label), bands: (c.uplot.bands || []).map((b) => b.series) })),
    header: [...document.querySelectorAll('table.groups th')].map((th) => th.textContent),
    rows,
  };
})()`;

/**
 * Waits until the compare page shows `groupKeys` as its groups, then checks that every chart draws
 * one band per group (between its +1σ and −1σ series, around its mean) and that the table has one row
 * per group; returns what it read for further checks.
 */
export async function expectGroupedCompare(
  frame: Frame,
  groupKeys: string[],
  timeoutMs = 60_000,
): Promise<GroupedCompare> {
  const shown = await waitFor<GroupedCompare>(
    frame,
    `(() => { const r = ${reading}; return r && r.groups.length === ${groupKeys.length} ? r : false; })()`,
    timeoutMs,
  );
  assert.deepEqual(
    shown.groups.map((g) => g.key),
    groupKeys,
  );
  assert.ok(shown.charts.length > 0, 'the compare page draws no chart');
  for (const chart of shown.charts) {
    assert.equal(chart.bands.length, groupKeys.length, `${chart.key}: one band per group`);
    chart.bands.forEach(([upper, lower], k) => {
      assert.equal(chart.labels[upper], `${groupKeys[k]} +1σ`, `${chart.key}: band ${k}'s upper edge`);
      assert.equal(chart.labels[lower], `${groupKeys[k]} −1σ`, `${chart.key}: band ${k}'s lower edge`);
      assert.ok(chart.labels.includes(groupKeys[k]), `${chart.key}: the mean of ${groupKeys[k]}`);
    });
  }
  assert.deepEqual(
    shown.rows.map((r) => r[0]),
    groupKeys,
  );
  return shown;
}
