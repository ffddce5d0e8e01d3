// Training from the sidebar in a real VS Code workbench, the path a new user takes first: a tiny
// regression config on the built-in simulator is written into the workspace, Train is clicked on it in
// the Experiments view, and the run shows up in the Runs view as running, then completed, with its
// metrics in the run folder. One code-server start for every Train check of this file.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMetricsJsonl, type RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { tinyRegressionConfig } from './tiny_regression_config';
import { launchStudio, type Studio } from './harness';

const experiment = 'e2e-train';

/** Eight steps: seen running, then completed within a minute (tiny_regression_config.ts). */
const tinyConfig = tinyRegressionConfig(experiment, 8, 4);

describe('Train from the L3M side bar', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;

  before(async () => {
    studio = await launchStudio();
    writeFileSync(join(studio.workspace, `${experiment}.l3m.json`), `${JSON.stringify(tinyConfig, null, 2)}\n`);
  });

  after(async () => {
    await studio?.close();
  });

  test('Train on an experiment: the run is running, then completed, with metrics in its folder', async () => {
    await studio.screenshotOnFailure('train', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Experiments', new RegExp(`^${experiment}(\\.l3m\\.json)?$`));
      // The inline action shows while the row is hovered (package.json menus: view/item/context, group inline).
      await row.hover();
      const train = row
        .locator('.actions .action-label[aria-label="Train"], .actions .action-label[title="Train"]')
        .first();
      await train.click();

      const runRow = (status: string) =>
        studio.page
          .locator('.part.sidebar .pane .monaco-list-row', {
            // A running run's description goes on with its stage ("running · training step 3/8 …").
            has: studio.page.locator('.label-description', { hasText: new RegExp(`^${status}( · |$)`) }),
          })
          .filter({ has: studio.page.locator('.label-name', { hasText: /^\d{8}-\d{6}-[0-9a-f]{4}$/ }) })
          .first();
      // The Runs view groups runs under their experiment; reveal opens the group when it appears.
      await studio.revealTreeItem('Runs', /^\d{8}-\d{6}-[0-9a-f]{4}$/);
      await runRow('running').waitFor({ state: 'visible', timeout: 120_000 });
      await runRow('completed').waitFor({ state: 'visible', timeout: 180_000 });

      const runsDir = join(studio.workspace, 'runs', experiment);
      const runs = readdirSync(runsDir);
      assert.equal(runs.length, 1, `one run folder under ${runsDir}: ${runs.join(', ')}`);
      const runDir = join(runsDir, runs[0]);
      assert.equal(readJson<RunRecord>(join(runDir, 'run.json')).status, 'completed');
      assert.ok(existsSync(join(runDir, 'metrics.jsonl')));
      const { records, problems } = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
      assert.deepEqual(problems, []);
      assert.equal(records.filter((r) => r.split === 'train').length, 8);
      assert.ok(records.some((r) => r.split === 'val'));
      assert.ok(records.some((r) => r.split === 'test' && typeof r.nll === 'number'));
    });
  });
});
