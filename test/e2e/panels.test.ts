// The panels in the real workbench (code-server + Chromium): Train on a tiny config opens the
// monitor by itself and its loss curve grows while the run is running; hidden behind another tab for
// 10 s while it trains, the monitor draws every step once shown again; and the inspector of that run
// (no samples) shows true slices of its dataset. A run written by another process is opened in the
// training monitor from the Runs view and its curve grows as lines are appended to metrics.jsonl (the
// chokidar follower), and a second run's monitor joins its editor group; a generation run with samples
// opens in the inspector; two runs selected together open in Compare. The webview pages live in nested
// iframes; the tests find a page's frame by its data-panel attribute.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { tinyRegressionConfig } from './tiny_regression_config';
import { launchStudio, type Studio } from './harness';
import { chooseMenuItem, panelFrame, waitFor } from './workbench_ui';
import { trainingRecords, writeMetrics, writeRun, writeSamples } from '../browser/run_fixtures';
import { join } from 'node:path';

const trainExperiment = 'e2e-train-monitor';

/** 600 steps, so that the monitor is caught drawing a curve that grows before the run completes. */
const trainConfig = tinyRegressionConfig(trainExperiment, 600, 150);

describe('L3M panels in code-server', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;
  before(async () => {
    studio = await launchStudio();
  });
  after(async () => {
    await studio?.close();
  });

  test('Train: the monitor opens by itself and its curve grows while the run is running', async () => {
    writeFileSync(join(studio.workspace, `${trainExperiment}.l3m.json`), `${JSON.stringify(trainConfig, null, 2)}\n`);
    await studio.screenshotOnFailure('panels-train-monitor', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Experiments', new RegExp(`^${trainExperiment}(\\.l3m\\.json)?$`));
      // As test/e2e/train.test.ts does: the inline Train action shows while the row is hovered.
      await row.hover();
      await row
        .locator('.actions .action-label[aria-label="Train"], .actions .action-label[title="Train"]')
        .first()
        .click();
      // Nothing here opens the monitor: the extension does when the run starts.
      const frame = await panelFrame(studio.page, 'monitor', 180_000, trainExperiment);
      // One reading of the page: the loss curve's points and the run state it was told, together.
      const reading =
        "(() => { const c = window.l3mPanel.charts().find((x) => x.metric === 'loss'); const s = document.querySelector('.subtitle').textContent; return c && c.points > 0 ? { points: c.points, state: s } : false; })()";
      const first = await waitFor<{ points: number; state: string }>(frame, reading, 180_000);
      const grown = await waitFor<{ points: number; state: string }>(
        frame,
        `(() => { const r = ${reading}; return r && r.points > ${first.points} ? r : false; })()`,
        180_000,
      );
      assert.ok(grown.points > first.points);
      assert.match(first.state, /^running/, `the first points were drawn while the run was running (${first.state})`);
      assert.match(
        grown.state,
        /^running/,
        `the curve grew while the run was running (${grown.state}: ${first.points} → ${grown.points} points)`,
      );
      await studio.screenshot('panels-train-monitor');
      // Hidden behind another tab of its group for 10 s while the run trains (VS Code drops a hidden page),
      // then shown again: the page comes back and draws the steps it missed. The 10 s are the scenario's
      // hidden time, not a wait for something to happen.
      const experimentRuns = join(studio.workspace, 'runs', trainExperiment);
      const trainSteps = () => {
        const [run] = readdirSync(experimentRuns).filter((name) => !name.startsWith('.'));
        return readFileSync(join(experimentRuns, run, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter((line) => line.includes('"split":"train"')).length;
      };
      await studio.page.locator('.tabs-container .tab', { hasText: 'Monitor: ' }).first().click();
      await studio.runCommand('File: New Untitled Text File');
      await studio.page.locator('.tabs-container .tab.active', { hasText: 'Untitled' }).waitFor({ state: 'visible' });
      const hiddenAt = trainSteps();
      await studio.page.waitForTimeout(10_000);
      const shownAt = trainSteps();
      await studio.runCommand('View: Close Editor');
      const shown = await panelFrame(studio.page, 'monitor', 60_000, trainExperiment);
      // Shown again, it draws at once every step written so far, those of its 10 s away included.
      const caughtUp = await waitFor<number>(
        shown,
        `(() => { const c = window.l3mPanel.charts().find((x) => x.metric === 'loss'); return c && c.points >= ${shownAt} ? c.points : false; })()`,
        60_000,
      );
      assert.ok(caughtUp >= shownAt, `${shownAt - hiddenAt} steps were trained while the monitor was hidden`);
      // The run ends completed, with every step on the monitor's loss curve, those trained while it was hidden too.
      const done = await waitFor<{ points: number; state: string }>(
        shown,
        `(() => { const r = ${reading}; return r && /^completed/.test(r.state) && r.points >= ${trainConfig.training.steps} ? r : false; })()`,
        300_000,
      );
      assert.equal(done.points, trainConfig.training.steps, 'every step is drawn once');

      // The run has no samples (a regression run): the inspector shows true slices of its dataset.
      const runRow = await studio.revealTreeItem('Runs', /^\d{8}-\d{6}-[0-9a-f]{4}$/);
      await runRow.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Inspect Lightcones');
      const inspector = await panelFrame(studio.page, 'inspector', 60_000, trainExperiment);
      const caption = await waitFor<string>(
        inspector,
        "(() => { const c = document.querySelector('figcaption'); return c && /data \\(no samples yet\\)/.test(c.textContent) && Number(document.querySelector('input.slice-slider').max) > 0 ? c.textContent : false; })()",
        180_000,
      );
      assert.equal(caption, 'True — data (no samples yet)');
      await studio.screenshot('panels-train-inspector-data');
    });
  });

  test('a context-menu command keeps its run while another run keeps the Runs view refreshing', async () => {
    // A training run rewrites its run.json (progress) every few steps (here every 250 ms, slower than the
    // folder watcher's 150 ms debounce, so that each rewrite is seen), and each rewrite used to refresh
    // the whole Runs view: VS Code then forgot every row's item until it fetched the rows again, and a
    // command chosen from a row's context menu in that window got no run and opened a run picker.
    const runs = join(studio.workspace, 'runs');
    const busyId = '20260101-120000-r001';
    const clickedId = '20260101-120000-r002';
    writeRun(runs, 'e2e-race', busyId, 'regression', {}, 'running');
    const clickedDir = writeRun(runs, 'e2e-race', clickedId, 'generation', {});
    writeMetrics(clickedDir, trainingRecords(20, 10));
    // A researcher's runs folder holds many runs: reading it takes a while, which is when the rows were lost.
    for (let i = 0; i < 150; i++)
      writeRun(runs, 'e2e-race-history', `20250101-000000-${i.toString(16).padStart(4, '0')}`, 'regression', {});
    const busyRecord = join(runs, 'e2e-race', busyId, 'run.json');
    const base = JSON.parse(readFileSync(busyRecord, 'utf8')) as {
      progress: { step: number; totalSteps: number; epoch: number };
    };
    let step = 0;
    const churn = setInterval(() => {
      step += 1;
      writeFileSync(busyRecord, JSON.stringify({ ...base, progress: { step, totalSteps: 100_000, epoch: 0 } }));
    }, 250);
    try {
      await studio.screenshotOnFailure('panels-menu-during-refresh', async () => {
        await studio.openL3MView();
        const quickInput = studio.page.locator('.quick-input-widget');
        for (let attempt = 1; attempt <= 8; attempt++) {
          const row = await studio.revealTreeItem('Runs', new RegExp(clickedId));
          await row.click({ button: 'right' });
          await chooseMenuItem(studio.page, 'Open Training Monitor');
          // The monitor of the clicked run, or a run picker: whichever shows first says which happened.
          const outcome = await Promise.race([
            panelFrame(studio.page, 'monitor', 60_000, clickedId).then(() => 'monitor'),
            quickInput.waitFor({ state: 'visible', timeout: 60_000 }).then(() => 'picker'),
          ]);
          assert.equal(
            outcome,
            'monitor',
            `attempt ${attempt}: the command lost its run (after ${step} run.json rewrites) and asked for one instead`,
          );
          await studio.runCommand('View: Close All Editors');
        }
      });
    } finally {
      clearInterval(churn);
      // 150 rows would push the later tests' rows out of the view's viewport.
      rmSync(join(runs, 'e2e-race-history'), { recursive: true, force: true });
    }
  });

  test('monitor: opened from the Runs view, its curve grows as metrics.jsonl grows', async () => {
    const runs = join(studio.workspace, 'runs');
    const runDir = writeRun(runs, 'e2e-monitor', '20260101-120000-m001', 'generation', { seed: 1 }, 'running');
    const records = trainingRecords(80, 20);
    writeMetrics(runDir, records.slice(0, 40));
    await studio.screenshotOnFailure('panels-monitor', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', /20260101-120000-m001/);
      await row.hover();
      await row.locator('[aria-label="Open Training Monitor"]').click();
      const frame = await panelFrame(studio.page, 'monitor', 60_000, '20260101-120000-m001');
      const before = await waitFor<number>(
        frame,
        '(() => { const c = window.l3mPanel.charts()[0]; return c && c.points >= 39 ? c.points : false; })()',
      );
      appendFileSync(
        join(runDir, 'metrics.jsonl'),
        records
          .slice(40)
          .map((r) => JSON.stringify(r) + '\n')
          .join(''),
      );
      const after = await waitFor<number>(
        frame,
        `(() => { const c = window.l3mPanel.charts()[0]; return c && c.points > ${before} ? c.points : false; })()`,
      );
      assert.equal(after, 80);
      await studio.screenshot('panels-monitor');

      // A second run's monitor, opened while the first one's group is the active one, joins that group as a
      // tab rather than opening a new column beside it.
      const second = writeRun(runs, 'e2e-monitor', '20260101-120000-m002', 'generation', { seed: 2 }, 'running');
      writeMetrics(second, records.slice(0, 10));
      const groups = () => studio.page.locator('.editor-group-container').count();
      await studio.page.locator('.tabs-container .tab', { hasText: 'Monitor: 20260101-120000-m001' }).click();
      const groupsBefore = await groups();
      const secondRow = await studio.revealTreeItem('Runs', /20260101-120000-m002/);
      await secondRow.hover();
      await secondRow.locator('[aria-label="Open Training Monitor"]').click();
      await panelFrame(studio.page, 'monitor', 60_000, '20260101-120000-m002');
      assert.equal(await groups(), groupsBefore, 'no new editor group for the second monitor');
      const sameGroup = studio.page.locator('.editor-group-container', {
        has: studio.page.locator('.tab', { hasText: 'Monitor: 20260101-120000-m001' }),
      });
      await sameGroup.locator('.tab', { hasText: 'Monitor: 20260101-120000-m002' }).waitFor({ state: 'visible' });
      await studio.screenshot('panels-monitor-one-group');
    });
  });

  test('inspector: a generation run with samples shows its slices', async () => {
    const runDir = writeRun(join(studio.workspace, 'runs'), 'e2e-gen', '20260101-120000-g001', 'generation', {});
    writeSamples(runDir, 12, 32);
    await studio.screenshotOnFailure('panels-inspector', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Runs', /20260101-120000-g001/);
      await row.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Inspect Lightcones');
      const frame = await panelFrame(studio.page, 'inspector');
      const max = await waitFor<string>(
        frame,
        "(() => { const s = document.querySelector('input.slice-slider'); return s && s.max === '11' ? s.max : false; })()",
      );
      assert.equal(max, '11');
      // The power spectra come from the page's worker in VS Code's webview too (its policy allows blob: workers).
      const spectrum = await waitFor<{ mode: string; reason: string | null }>(
        frame,
        '(() => { const s = window.l3mPanel.spectrum(); return s.slice !== null ? { mode: s.mode, reason: s.fallbackReason } : false; })()',
      );
      assert.equal(spectrum.mode, 'worker', `spectra computed in a worker (${spectrum.reason ?? ''})`);
      await studio.screenshot('panels-inspector');
    });
  });

  test('compare: two runs selected together open in one panel with their config difference', async () => {
    const runs = join(studio.workspace, 'runs');
    const a = writeRun(runs, 'e2e-cmp', '20260101-120000-c001', 'generation', { training: { lr: 0.001 } });
    const b = writeRun(runs, 'e2e-cmp', '20260101-120000-c002', 'generation', { training: { lr: 0.002 } });
    writeMetrics(a, trainingRecords(30, 10));
    writeMetrics(b, trainingRecords(30, 10, 2));
    await studio.screenshotOnFailure('panels-compare', async () => {
      await studio.openL3MView();
      const first = await studio.revealTreeItem('Runs', /20260101-120000-c001/);
      const second = await studio.revealTreeItem('Runs', /20260101-120000-c002/);
      await first.click();
      await second.click({ modifiers: ['Control'] });
      await second.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Compare Runs');
      const frame = await panelFrame(studio.page, 'compare');
      const fields = await waitFor<string[]>(
        frame,
        '(() => { const f = window.l3mPanel.differingFields(); return f.length > 0 ? f : false; })()',
      );
      assert.deepEqual(fields, ['training.lr']);
      await studio.screenshot('panels-compare');
    });
  });
});
