// A sweep from the editor, in a real VS Code workbench: a sweep file of 2 setups × 2 repeats of the
// tiny regression experiment (2 runs at once) is run from its "▶ Run Sweep" code lens; the Runs view
// shows a node for the sweep whose description fills up to "4/4 done"; the notification at its end
// offers Compare Sweep, which opens Compare grouped by setup: a ±1σ band per group and the table of
// groups. The run folders are checked as the sidecar wrote them: each completed, with its seed and its
// place in the sweep.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMetricsJsonl, parseRunRecord } from '../../sidecar/protocol/run_folder';
import { parseSweepFile } from '../../sidecar/protocol/sweep_folder';
import { tinyRegressionConfig } from './tiny_regression_config';
import { launchStudio, type Studio } from './harness';
import { panelFrame, waitFor } from './workbench_ui';

const base = 'e2e-sweep-tiny';
const sweepName = 'e2e-sweep';

/** Eight steps each (tiny_regression_config.ts): four runs, two at a time, end within a few minutes. */
const baseConfig = tinyRegressionConfig(base, 8, 4);

const sweepFile = {
  name: sweepName,
  base: `${base}.l3m.json`,
  repeats: 2,
  seed: 7,
  setups: [
    { name: 'fast', overrides: { 'training.lr': 0.01 } },
    { name: 'slow', overrides: { 'training.lr': 0.001 } },
  ],
  group_by: ['setup'],
  executor: 'local',
  local: { parallel: 2 },
};

/** "k/N done, r running, …" → k, or null for a description of another form. */
function doneOf(description: string): number | null {
  const match = /^(\d+)\/4 done, \d+ running, /.exec(description);
  return match ? Number(match[1]) : null;
}

describe('Sweep from the editor', { timeout: 15 * 60_000 }, () => {
  let studio: Studio;

  before(async () => {
    studio = await launchStudio();
    writeFileSync(join(studio.workspace, `${base}.l3m.json`), `${JSON.stringify(baseConfig, null, 2)}\n`);
    writeFileSync(join(studio.workspace, `${sweepName}.l3m-sweep.json`), `${JSON.stringify(sweepFile, null, 2)}\n`);
  });

  after(async () => {
    await studio?.close();
  });

  test('Run Sweep on a sweep file: the sweep node fills up to 4/4 done, and Compare Sweep shows the groups', async () => {
    await studio.screenshotOnFailure('sweep', async () => {
      const page = studio.page;
      await studio.openL3MView();
      // The sweep file is listed beside the experiments, with its run count.
      const fileRow = await studio.revealTreeItem('Experiments', new RegExp(`^${sweepName}$`));
      assert.match(await fileRow.locator('.label-description').innerText(), /^4 runs · 2 setups × 2 repeats · local$/);

      await studio.openFile(`${sweepName}.l3m-sweep.json`);
      const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Run Sweep' }).first();
      await lens.waitFor({ state: 'visible' });
      await lens.click();

      // The sweep node appears in the Runs view; its description is read each time it changes.
      const sweepRow = await studio.revealTreeItem(
        'Runs',
        new RegExp(`^${sweepName}-\\d{8}-\\d{6}-[0-9a-f]{4}$`),
        120_000,
      );
      const sweepId = await sweepRow.locator('.label-name').innerText();
      const description = sweepRow.locator('.label-description');
      const seen: string[] = [];
      const deadline = Date.now() + 600_000;
      for (;;) {
        const now = await description.innerText();
        if (seen[seen.length - 1] !== now) seen.push(now);
        if (now === '4/4 done, 0 running, 0 failed') break;
        assert.doesNotMatch(now, /\b[1-9]\d* failed|cancelled|unreadable/, `the sweep went wrong: ${now}`);
        assert.ok(Date.now() < deadline, `the sweep did not finish in time; its node showed: ${seen.join(' → ')}`);
        // Wait for the description to change rather than for a time.
        await page
          .waitForFunction(
            `(() => { const rows = [...document.querySelectorAll('.part.sidebar .monaco-list-row')].filter((r) => r.querySelector('.label-name')?.textContent === ${JSON.stringify(sweepId)}); return rows.length > 0 && rows[0].querySelector('.label-description')?.textContent !== ${JSON.stringify(now)}; })()`,
            undefined,
            { timeout: Math.max(1, deadline - Date.now()), polling: 250 },
          )
          .catch(() => undefined);
      }
      // It filled up: every description seen has a done count, and the counts never went down.
      const counts = seen.map(doneOf);
      assert.ok(
        counts.every((c) => c !== null),
        `descriptions of the form "k/4 done, r running, …": ${seen.join(' → ')}`,
      );
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => (a ?? 0) - (b ?? 0)),
        `the done count never goes down: ${seen.join(' → ')}`,
      );
      assert.ok((counts[0] ?? 4) < 4, `the node was seen before the sweep was done: ${seen.join(' → ')}`);

      // The run folders: four completed runs, each with its seed and its place in the sweep.
      const sweepDir = join(studio.workspace, 'runs', '.sweeps', sweepId);
      const parsed = parseSweepFile(readFileSync(join(sweepDir, 'sweep.json'), 'utf8'));
      assert.ok('sweep' in parsed, JSON.stringify(parsed));
      assert.deepEqual(
        parsed.sweep.runs.map((r) => [r.index, r.setup, r.repeat]),
        [
          [0, 'fast', 0],
          [1, 'fast', 1],
          [2, 'slow', 0],
          [3, 'slow', 1],
        ],
      );
      assert.equal(readdirSync(join(studio.workspace, 'runs', base)).length, 4);
      for (const run of parsed.sweep.runs) {
        const record = parseRunRecord(readFileSync(join(studio.workspace, 'runs', run.runDir, 'run.json'), 'utf8'));
        assert.ok('record' in record, JSON.stringify(record));
        assert.equal(record.record.status, 'completed', run.runDir);
        assert.equal(record.record.seed, run.seed, run.runDir);
        assert.equal(record.record.sweep?.id, sweepId, run.runDir);
        const { records, problems } = parseMetricsJsonl(
          readFileSync(join(studio.workspace, 'runs', run.runDir, 'metrics.jsonl'), 'utf8'),
        );
        assert.deepEqual(problems, [], run.runDir);
        assert.deepEqual(
          records.filter((r) => r.split === 'val').map((r) => [r.step, Number.isFinite(r.loss)]),
          [
            [4, true],
            [8, true],
          ],
          `${run.runDir}: the validation loss at steps 4 and 8`,
        );
      }
      // The same seed for repeat r of both setups: the setups compare paired.
      assert.equal(parsed.sweep.runs[0].seed, parsed.sweep.runs[2].seed);
      assert.notEqual(parsed.sweep.runs[0].seed, parsed.sweep.runs[1].seed);

      // The end of the sweep is announced once, with Compare Sweep.
      const toast = page.locator('.notifications-toasts .notification-toast', {
        hasText: `L3M: sweep ${sweepId} ended: 4 done, 0 failed of 4.`,
      });
      await toast.first().waitFor({ state: 'visible' });
      assert.equal(await toast.count(), 1);
      await toast.first().locator('.monaco-button', { hasText: 'Compare Sweep' }).click();

      // Compare, grouped by setup: two groups of two runs, a band per group, and the table of groups.
      const frame = await panelFrame(page, 'compare', 120_000);
      const groups = await waitFor<{ key: string; runs: string[] }[]>(
        frame,
        '(() => { const g = window.l3mPanel.groups(); return g && g.length === 2 && g.every((x) => x.runs.length === 2) ? g : false; })()',
        120_000,
      );
      assert.deepEqual(
        groups.map((g) => g.key),
        ['setup=fast', 'setup=slow'],
      );
      const bands = await waitFor<number[]>(
        frame,
        '(() => { const b = window.l3mPanel.charts().map((c) => c.uplot.bands.length); return b.length > 0 && b.every((n) => n === 2) ? b : false; })()',
        60_000,
      );
      assert.ok(bands.length > 0);
      // The table of groups on the validation loss (the tiny runs' one test lightcone leaves R² undefined).
      await frame.evaluate(`(() => {
        const select = document.querySelector('.group-table .control:nth-of-type(1) vscode-single-select');
        select.value = 'loss · val';
        select.dispatchEvent(new Event('change'));
      })()`);
      const table = await waitFor<{
        metric: string;
        rows: { group: string; runs: number; final: { mean: number; sd: number; n: number } }[];
      }>(
        frame,
        "(() => { const t = window.l3mPanel.groupTable(); return t && t.metric === 'loss · val' && t.rows.length === 2 ? t : false; })()",
        60_000,
      );
      assert.deepEqual(
        table.rows.map((r) => [r.group, r.runs, r.final.n]),
        [
          ['setup=fast', 2, 2],
          ['setup=slow', 2, 2],
        ],
      );
      assert.ok(
        table.rows.every((r) => Number.isFinite(r.final.mean) && Number.isFinite(r.final.sd)),
        `each group's final validation loss is a mean ± σ over its 2 runs: ${JSON.stringify(table.rows)}`,
      );
      const shown = await waitFor<string[]>(
        frame,
        "(() => { const rows = [...document.querySelectorAll('table.data.groups tbody tr')].map((r) => r.textContent); return rows.length === 2 && rows.every((r) => r.includes('±')) ? rows : false; })()",
        60_000,
      );
      assert.match(shown[0], /^setup=fast/);
      assert.match(shown[1], /^setup=slow/);
      await studio.screenshot('sweep-compare');
    });
  });
});
