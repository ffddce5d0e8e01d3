// A live theme change, made the way VS Code makes it (new --vscode-* variables in <html>'s style
// attribute, the body's theme class and data attributes), re-colours the charts of all three panels
// at once: the canvas pixels of the grid lines and tick labels take the new theme's colours and none
// of the old ones remain. Screenshots before and after go to test-artifacts/browser/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { compareRun, inspectorInit, inspectorSample, monitorInit } from '../../extension/panels/run_data';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { trainingRecords, writeMetrics, writeRun, writeSamples } from './run_fixtures';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-theme-'));
  mkdirSync('test-artifacts/browser', { recursive: true });
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

// The panel host's Dark+ colours of what the charts draw with, and a light theme's.
const dark = { foreground: '#d4d4d4', grid: '#454545' };
const light = {
  '--vscode-foreground': '#616161',
  '--vscode-editor-foreground': '#3b3b3b',
  '--vscode-editor-background': '#ffffff',
  '--vscode-editorWidget-border': '#c8c8c8',
  '--vscode-panel-border': '#e5e5e5',
  '--vscode-descriptionForeground': '#717171',
};

/** How many pixels of the page's chart canvases are (nearly, for antialiased text) each colour. */
function colourCounts(page: Page, colours: Record<string, string>): Promise<Record<string, number>> {
  return page.evaluate<Record<string, number>>(`(() => {
    const wanted = Object.entries(${JSON.stringify(colours)}).map(([name, hex]) => {
      const n = parseInt(hex.slice(1), 16);
      return { name, rgb: [n >> 16, (n >> 8) & 255, n & 255] };
    });
    const counts = Object.fromEntries(wanted.map((w) => [w.name, 0]));
    for (const canvas of document.querySelectorAll('.chart-card canvas')) {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 250) continue;
        for (const w of wanted)
          if (Math.abs(data[i] - w.rgb[0]) <= 6 && Math.abs(data[i + 1] - w.rgb[1]) <= 6 && Math.abs(data[i + 2] - w.rgb[2]) <= 6)
            counts[w.name]++;
      }
    }
    return counts;
  })()`);
}

/** Switches the page to the light theme as VS Code's webview host does. */
async function applyLightTheme(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const vars = ${JSON.stringify(light)};
    for (const [name, value] of Object.entries(vars)) document.documentElement.style.setProperty(name, value);
    document.body.classList.remove('vscode-dark');
    document.body.classList.add('vscode-light');
    document.body.dataset.vscodeThemeKind = 'vscode-light';
    document.body.dataset.vscodeThemeId = 'Default Light+';
  })()`);
  await frames(page);
}

async function monitorPage(): Promise<Page> {
  const runDir = writeRun(runsDir, 'quick', '20261201-110000-0001', 'generation', {});
  writeMetrics(runDir, trainingRecords(200, 20));
  const page = await host.open('monitor');
  await deliver(page, (await monitorInit(runDir)).message);
  return page;
}

async function comparePage(): Promise<Page> {
  const a = writeRun(runsDir, 'gen', '20261201-110000-0002', 'generation', { training: { lr: 1e-3 } });
  const b = writeRun(runsDir, 'gen', '20261201-110000-0003', 'generation', { training: { lr: 5e-4 } });
  writeMetrics(a, trainingRecords(100, 20, 1));
  writeMetrics(b, trainingRecords(100, 20, 2, 0.8));
  const page = await host.open('compare', { height: 1300 });
  await deliver(page, { type: 'compare/runs', runs: await Promise.all([a, b].map(compareRun)) });
  return page;
}

async function inspectorPage(): Promise<Page> {
  const runDir = writeRun(runsDir, 'gen', '20261201-110000-0004', 'generation', {});
  writeSamples(runDir, 16, 32);
  const page = await host.open('inspector');
  const init = await inspectorInit(runDir);
  await deliver(page, init);
  // Answer the page's sample requests as the host does, until the charts are drawn.
  const answered = new Set<number>();
  for (let round = 0; round < 3; round++) {
    await frames(page);
    for (const m of await posted(page))
      if (m.type === 'inspector/loadSample' && typeof m.index === 'number' && !answered.has(m.index)) {
        answered.add(m.index);
        await deliver(page, await inspectorSample(runDir, init.samples, m.index));
      }
  }
  return page;
}

test('a live theme change re-colours the grid and tick labels of every panel’s charts', async () => {
  const pages: [string, Page][] = [
    ['monitor', await monitorPage()],
    ['compare', await comparePage()],
    ['inspector', await inspectorPage()],
  ];
  const colours = {
    darkForeground: dark.foreground,
    darkGrid: dark.grid,
    lightForeground: light['--vscode-editor-foreground'],
    lightGrid: light['--vscode-editorWidget-border'],
  };
  for (const [name, page] of pages) {
    await frames(page);
    assert.ok((await page.locator('.chart-card canvas').count()) > 0, `${name}: charts are drawn`);
    const before = await colourCounts(page, colours);
    assert.ok(before.darkGrid > 100, `${name}: dark grid lines before (${JSON.stringify(before)})`);
    assert.ok(before.darkForeground > 10, `${name}: dark tick labels before (${JSON.stringify(before)})`);
    assert.equal(before.lightGrid, 0, `${name}: no light grid before`);
    await page.screenshot({ path: `test-artifacts/browser/theme_${name}_dark.png`, fullPage: true });

    await applyLightTheme(page);
    const after = await colourCounts(page, colours);
    assert.ok(after.lightGrid > 100, `${name}: light grid lines after (${JSON.stringify(after)})`);
    assert.ok(after.lightForeground > 10, `${name}: light tick labels after (${JSON.stringify(after)})`);
    assert.equal(after.darkGrid, 0, `${name}: no dark grid line left (${JSON.stringify(after)})`);
    assert.equal(after.darkForeground, 0, `${name}: no dark tick label left (${JSON.stringify(after)})`);
    await page.screenshot({ path: `test-artifacts/browser/theme_${name}_light.png`, fullPage: true });
    assert.deepEqual(pageErrors(page), [], name);
  }
});
