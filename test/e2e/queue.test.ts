// The training queue in a real workbench: one long run trains while two short ones wait, and the Queue
// section of the Runs view reorders and cancels them, a cancelled run resumed from the Runs view included.
// The resumed run shows "queued" in its row while it waits (its run.json says cancelled until it
// starts), the status bar counts it, and the runs then start in the order the Queue section was left in.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { tinyRegressionConfig } from './tiny_regression_config';
import { launchStudio, type Studio } from './harness';

const [long, second, third] = ['e2e-queue-long', 'e2e-queue-b', 'e2e-queue-c'];

/** Each condition is read from the page or the disk; the bound only ends a test that would never pass. */
async function until<T>(
  what: string,
  read: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('The training queue in the Runs view', { timeout: 12 * 60_000 }, () => {
  let studio: Studio;
  const runsDir = () => join(studio.workspace, 'runs');

  before(async () => {
    studio = await launchStudio();
    // The long run keeps the queue busy until the test cancels it; the short ones end within a minute.
    for (const [name, steps, every] of [
      [long, 100_000, 100_000],
      [second, 8, 4],
      [third, 8, 4],
    ] as const) {
      writeFileSync(
        join(studio.workspace, `${name}.l3m.json`),
        `${JSON.stringify(tinyRegressionConfig(name, steps, every), null, 2)}\n`,
      );
    }
  });

  after(async () => {
    await studio?.close();
  });

  /** Clicks an item's inline action (shown while the row is hovered). */
  async function inlineAction(view: string, label: RegExp, action: string): Promise<void> {
    const row = await studio.revealTreeItem(view, label);
    await row.hover();
    await row
      .locator(`.actions .action-label[aria-label="${action}"], .actions .action-label[title="${action}"]`)
      .first()
      .click();
  }

  async function train(experiment: string): Promise<string> {
    await inlineAction('Experiments', new RegExp(`^${experiment}(\\.l3m\\.json)?$`), 'Train');
    const folder = join(runsDir(), experiment);
    return until(
      `the run folder of ${experiment}`,
      () => (existsSync(folder) ? readdirSync(folder).find((n) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(n)) : undefined),
      60_000,
    );
  }

  /**
   * The Queue section's rows as "experiment place", in the order shown: its rows are the second level
   * labelled by experiment (the runs under their experiment are labelled by run id).
   */
  const queueRowsExpression = `Array.from(Array.from(document.querySelectorAll('.part.sidebar .pane'))
      .find((p) => /^runs$/i.test(p.querySelector('.pane-header .title')?.textContent ?? ''))
      ?.querySelectorAll('.monaco-list-row[aria-level="2"]') ?? [])
      .filter((r) => /^e2e-queue-[a-z]+$/.test(r.querySelector('.label-name')?.textContent ?? ''))
      .sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index')))
      .map((r) => r.querySelector('.label-name').textContent + ' ' + (r.querySelector('.label-description')?.textContent ?? '').split(' · ')[0])`;

  /** Clicks an inline action of the experiment's row in the Queue section. */
  async function queueAction(experiment: string, action: string): Promise<void> {
    const row = studio.page
      .locator('.part.sidebar .pane')
      .filter({ has: studio.page.locator('.pane-header .title', { hasText: /^Runs$/i }) })
      .locator('.monaco-list-row[aria-level="2"]', {
        has: studio.page.locator('.label-name', { hasText: new RegExp(`^${experiment}$`) }),
      })
      .first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await row.hover();
    await row
      .locator(`.actions .action-label[aria-label="${action}"], .actions .action-label[title="${action}"]`)
      .first()
      .click();
  }

  async function expectQueue(expected: string[]): Promise<void> {
    // The section shows only while the queue holds a run.
    if (expected.length > 0) await studio.waitForTreeItem('Runs', /^Queue$/);
    await studio.page
      .waitForFunction(
        `JSON.stringify(${queueRowsExpression}) === ${JSON.stringify(JSON.stringify(expected))}`,
        undefined,
        {
          timeout: 60_000,
        },
      )
      .catch(async () => {
        const shown: unknown = await studio.page.evaluate(queueRowsExpression);
        throw new Error(`The Queue section shows ${JSON.stringify(shown)}, expected ${JSON.stringify(expected)}.`);
      });
  }

  /** The run's row under its experiment, waited for with this description. */
  async function runRowShows(runId: string, description: string): Promise<void> {
    const row = await studio.revealTreeItem('Runs', new RegExp(`^${runId}$`));
    await row
      .locator('.label-description', { hasText: new RegExp(`^${description}$`) })
      .waitFor({ state: 'visible', timeout: 60_000 })
      .catch(async () => {
        throw new Error(
          `Run ${runId} shows "${await row.locator('.label-description').textContent()}", expected "${description}".`,
        );
      });
  }

  test('reorder and cancel in the Queue section, a resumed run included; the runs start in the order left', async () => {
    await studio.screenshotOnFailure('queue', async () => {
      await studio.openL3MView();
      const longId = await train(long);
      await expectQueue([`${long} running`]);
      const secondId = await train(second);
      const thirdId = await train(third);
      await expectQueue([`${long} running`, `${second} waiting 1 of 2`, `${third} waiting 2 of 2`]);
      // Both runs' rows are in the view: no new experiment group will refresh the whole tree under the click.
      await runRowShows(secondId, 'queued');
      await runRowShows(thirdId, 'queued');

      await queueAction(third, 'Move Up');
      await expectQueue([`${long} running`, `${third} waiting 1 of 2`, `${second} waiting 2 of 2`]);

      await queueAction(second, 'Cancel');
      await expectQueue([`${long} running`, `${third} waiting 1 of 1`]);
      await runRowShows(secondId, 'cancelled');

      // Resumed from its row in the Runs view: it waits, and says so everywhere, though run.json says cancelled.
      await inlineAction('Runs', new RegExp(`^${secondId}$`), 'Resume Run');
      await expectQueue([`${long} running`, `${third} waiting 1 of 2`, `${second} waiting to resume, 2 of 2`]);
      await runRowShows(secondId, 'queued');
      assert.equal(readJson<RunRecord>(join(runsDir(), second, secondId, 'run.json')).status, 'cancelled');
      await studio.page
        .locator('.part.statusbar', { hasText: /2 queued/ })
        .waitFor({ state: 'visible', timeout: 30_000 })
        .catch(async () => {
          throw new Error(
            `The status bar does not count 2 queued runs: ${await studio.page.locator('.part.statusbar').innerText()}`,
          );
        });
      await studio.screenshot('queue-resumed-waiting');

      await queueAction(second, 'Move Up');
      await expectQueue([`${long} running`, `${second} waiting to resume, 1 of 2`, `${third} waiting 2 of 2`]);

      // Cancelling the running run lets the others go, in the order the Queue section shows.
      await queueAction(long, 'Cancel');
      const record = (experiment: string, runId: string) =>
        readJson<RunRecord>(join(runsDir(), experiment, runId, 'run.json'));
      const [secondDone, thirdDone] = await until(
        'both waiting runs to complete',
        () => {
          const [b, c] = [record(second, secondId), record(third, thirdId)];
          return b.status === 'completed' && c.status === 'completed' ? [b, c] : undefined;
        },
        6 * 60_000,
      );
      assert.equal(record(long, longId).status, 'cancelled');
      assert.ok(
        (secondDone.startedAt ?? '') < (thirdDone.startedAt ?? ''),
        `the resumed run, moved up, started first: ${secondDone.startedAt} vs ${thirdDone.startedAt}`,
      );
      await expectQueue([]);
    });
  });

  test('Train on a config with errors: the notification states them once, relative to the workspace, and shows the Problems', async () => {
    await studio.screenshotOnFailure('queue-train-refused', async () => {
      const name = 'e2e-queue-broken';
      const config = tinyRegressionConfig(name, 8, 4);
      config.backbone.architecture.num_key_value_heads = 3;
      writeFileSync(
        join(studio.workspace, `${name}.l3m.json`),
        `${JSON.stringify({ ...config, trainig: {} }, null, 2)}\n`,
      );
      await inlineAction('Experiments', new RegExp(`^${name}(\\.l3m\\.json)?$`), 'Train');
      const toast = studio.page.locator('.notifications-toasts .notification-toast', { hasText: /could not train/ });
      await toast.waitFor({ state: 'visible', timeout: 60_000 });
      const text = await toast.locator('.notification-list-item-message').innerText();
      assert.match(
        text,
        new RegExp(`could not train ${name}\\.l3m\\.json: ${name}\\.l3m\\.json has 2 errors: line \\d+, column \\d+: `),
      );
      assert.ok(!text.includes(studio.workspace), `no absolute path in: ${text}`);
      assert.equal(text.split('does not divide').length - 1, 1, `the KV-heads error once in: ${text}`);
      await toast.locator('.monaco-button', { hasText: /^Show Problems$/ }).click();
      // The action opens the config and the Problems panel; the harness would open the panel itself otherwise.
      await studio.page.locator('.markers-panel').waitFor({ state: 'visible', timeout: 30_000 });
      await studio.waitForProblem(/Did you mean "training"\?/);
      await studio.waitForProblem(/num_key_value_heads \(3\) does not divide/);
      assert.equal(existsSync(join(runsDir(), name)), false, 'no run folder for a config with errors');
    });
  });
});
