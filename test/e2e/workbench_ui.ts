// Reading the workbench's UI from e2e tests: panel webview frames, polling inside them, and context
// menus. Shared by the panel and Sample tests.
import type { Frame, Page } from 'playwright-core';

/** The frame of a panel page; `run`: only one whose heading names that run (several monitors can be open). */
export async function panelFrame(
  page: Page,
  panel: 'monitor' | 'inspector' | 'compare',
  timeoutMs = 60_000,
  run = '',
): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const found = await frame
        .evaluate(
          `document.body && document.body.dataset.panel === ${JSON.stringify(panel)} && typeof window.l3mPanel === 'object' && (document.querySelector('h2')?.textContent ?? '').includes(${JSON.stringify(run)})`,
        )
        .catch(() => false);
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
export async function waitFor<T>(frame: Frame, expression: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const last: unknown = await frame.evaluate(expression);
    if (last !== false) return last as T;
    await frame.page().waitForTimeout(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
}

/** Chooses an item of the open context menu (hover, then Enter, as VS Code's menus expect). */
export async function chooseMenuItem(page: Page, label: string): Promise<void> {
  const item = page.locator('.monaco-menu .action-label', { hasText: label });
  await item.hover();
  await page.keyboard.press('Enter');
  await page.locator('.monaco-menu').waitFor({ state: 'hidden' });
}
