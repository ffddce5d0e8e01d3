// Compare on a sweep in the real workbench: Compare Sweep on the sweep's node in the Runs view opens
// the compare panel, which shows its runs as groups (bands per group, groups in the legend) with the table of
// next-patch MSE as mean ± σ (n) and the ratio to the first group, from run folders with known values.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchStudio, type Studio } from './harness';
import { chooseMenuItem, panelFrame } from './workbench_ui';
import { expectGroupedCompare } from './compare_groups_checks';
import { writeSweepFixture } from '../browser/sweep_fixtures';

describe('Compare Sweep in code-server', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;
  before(async () => {
    studio = await launchStudio();
  });
  after(async () => {
    await studio?.close();
  });

  test('Compare Sweep opens the sweep grouped: bands per group and the Table-4 style table', async () => {
    writeSweepFixture(join(studio.workspace, 'runs'));
    await studio.screenshotOnFailure('compare-sweep', async () => {
      // The sweep's node in the Runs view, as a user reaches it.
      await studio.openL3MView();
      const node = await studio.revealTreeItem('Runs', /^table4-small/);
      await node.click({ button: 'right' });
      await chooseMenuItem(studio.page, 'Compare Sweep');
      const frame = await panelFrame(studio.page, 'compare');
      const shown = await expectGroupedCompare(frame, ['setup=full', 'setup=lora-r2', 'setup=frozen']);
      assert.deepEqual(
        shown.groups.map((g) => g.runs.length),
        [3, 3, 1],
      );
      // The values of test/browser/compare_groups.test.ts, computed by hand there.
      assert.deepEqual(shown.rows[1].slice(2), [
        '0.0270 ± 0.0042 (n = 2, 1 NaN skipped)',
        '0.0270 ± 0.0042 (n = 2, 1 NaN skipped)',
        '2.25 ± 0.33',
        '2.25 ± 0.33',
      ]);
      await studio.screenshot('compare-sweep');
    });
  });
});
