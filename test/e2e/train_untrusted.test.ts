// Train in Restricted Mode (an untrusted workspace): the Experiments view still lists the configs, but
// clicking Train shows why nothing starts, and no run folder is created. A separate file because it
// needs its own code-server start with Workspace Trust turned on.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchStudio, type Studio } from './harness';

describe('Train in an untrusted workspace', { timeout: 10 * 60_000 }, () => {
  let studio: Studio;

  before(async () => {
    studio = await launchStudio({ workspaceTrust: 'untrusted' });
  });

  after(async () => {
    await studio?.close();
  });

  test('Train is refused with the reason, and no run is created', async () => {
    await studio.screenshotOnFailure('train-untrusted', async () => {
      await studio.openL3MView();
      const row = await studio.revealTreeItem('Experiments', /^quickstart-regression(\.l3m\.json)?$/);
      await row.hover();
      await row.locator('.actions .action-label[aria-label="Train"], .actions .action-label[title="Train"]').first().click();
      const toast = studio.page.locator('.notifications-toasts .notification-toast', { hasText: /does not train in an untrusted workspace/ });
      await toast.first().waitFor({ state: 'visible' });
      assert.match(await toast.first().innerText(), /Trust this workspace to train/);
      assert.deepEqual(readdirSync(join(studio.workspace, 'runs')), [], 'no run folder');
    });
  });
});
