// The browser tests launch the Chromium that L3M_CHROMIUM names, as the e2e tests do: a wrapper
// script given in the variable records that it was started and runs Debian's Chromium; a path that
// does not exist is named in the error, with the variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultChromium } from '../chromium';
import { pageErrors, startPanelHost } from './panel_host';

function withChromiumVariable<T>(value: string, run: () => Promise<T>): Promise<T> {
  const before = process.env.L3M_CHROMIUM;
  process.env.L3M_CHROMIUM = value;
  return run().finally(() => {
    if (before === undefined) delete process.env.L3M_CHROMIUM;
    else process.env.L3M_CHROMIUM = before;
  });
}

test('L3M_CHROMIUM names the browser the panel pages open in', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-chromium-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'started');
  const wrapper = join(dir, 'chromium-wrapper');
  writeFileSync(wrapper, `#!/bin/sh\ntouch '${marker}'\nexec '${defaultChromium}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  await withChromiumVariable(wrapper, async () => {
    const host = await startPanelHost();
    try {
      // open() returns once the page has posted its ready message.
      const page = await host.open('monitor');
      assert.deepEqual(pageErrors(page), []);
    } finally {
      await host.close();
    }
  });
  assert.ok(existsSync(marker), `the panel host did not start ${wrapper}, which L3M_CHROMIUM named`);
});

test('an L3M_CHROMIUM that does not exist is named, with the fix', async () => {
  await withChromiumVariable('/nonexistent/chromium', async () => {
    // A host that starts anyway is closed, so that the failure does not leave a browser running.
    const started = startPanelHost().then(async (host) => {
      await host.close();
      return host;
    });
    await assert.rejects(
      started,
      /Chromium was not found at \/nonexistent\/chromium \(L3M_CHROMIUM names that path\).*set L3M_CHROMIUM/,
    );
  });
});
