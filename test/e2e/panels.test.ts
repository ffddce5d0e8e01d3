// The panels in the real workbench (code-server + Chromium): a run written by another process is
// opened in the training monitor from the Runs view and its curve grows as lines are appended to
// metrics.jsonl (the chokidar follower); a generation run with samples opens in the inspector; two
// runs selected together open in Compare. The webview pages live in nested iframes; the tests find
// a page's frame by its data-panel attribute.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { launchStudio, type Studio } from './harness';
import { trainingRecords, writeMetrics, writeRun, writeSamples } from '../browser/run_fixtures';
import { join } from 'node:path';

async function panelFrame(page: Page, panel: 'monitor' | 'inspector' | 'compare', timeoutMs = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const found = await frame.evaluate(`document.body && document.body.dataset.panel === ${JSON.stringify(panel)} && typeof window.l3mPanel === 'object'`).catch(() => false);
      if (found) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no ${panel} panel page appeared within ${timeoutMs} ms`);
}

/**
 * Polls an expression in the page's frame until it gives something other than false. Not
 * frame.waitForFunction: that evaluates strings with eval, which the panels' CSP rightly forbids.
 */
async function waitFor<T>(frame: Frame, expression: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = false;
  while (Date.now() < deadline) {
    last = await frame.evaluate(expression);
    if (last !== false) return last as T;
    await frame.page().waitForTimeout(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
}

/** Chooses an item of the open context menu (hover, then Enter, as VS Code's menus expect). */
async function chooseMenuItem(page: Page, label: string): Promise<void> {
  const item = page.locator('.monaco-menu .action-label', { hasText: label });
  await item.hover();
  await page.keyboard.press('Enter');
  await page.locator('.monaco-menu').waitFor({ state: 'hidden' });
}

describe('L3M panels in code-server', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;
  before(async () => {
    studio = await launchStudio();
  });
  after(async () => {
    await studio?.close();
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
      const frame = await panelFrame(studio.page, 'monitor');
      const before = await waitFor<number>(frame, "(() => { const c = window.l3mPanel.charts()[0]; return c && c.points >= 39 ? c.points : false; })()");
      appendFileSync(join(runDir, 'metrics.jsonl'), records.slice(40).map((r) => JSON.stringify(r) + '\n').join(''));
      const after = await waitFor<number>(frame, `(() => { const c = window.l3mPanel.charts()[0]; return c && c.points > ${before} ? c.points : false; })()`);
      assert.equal(after, 80);
      await studio.screenshot('panels-monitor');
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
      const max = await waitFor<string>(frame, "(() => { const s = document.querySelector('input.slice-slider'); return s && s.max === '11' ? s.max : false; })()");
      assert.equal(max, '11');
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
      const fields = await waitFor<string[]>(frame, "(() => { const f = window.l3mPanel.differingFields(); return f.length > 0 ? f : false; })()");
      assert.deepEqual(fields, ['training.lr']);
      await studio.screenshot('panels-compare');
    });
  });
});
