// The lightcone inspector page in real Chromium with a generation run's samples/ and a regression
// run's eval/regression.json: the slider moves the slice (the pixels change), the colour bar spans
// the data's range (symmetric about zero for the diverging map), context slices are marked, a
// corrupt and a missing .npy are reported while the page keeps showing, and the Fig. 6 view shows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { inspectorInit, inspectorSample } from '../../extension/panels/run_data';
import { ensureDataPreview, readDataPreview } from '../../extension/panels/data_preview';
import { sidecarCommand } from '../../extension/sidecar_cli';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { writePreviewRun, writeRegressionEvaluation, writeRun, writeSamples } from './run_fixtures';
import { readJson } from '../read_json';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-inspector-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

/** A digest of the truth canvas's pixels, and its colour bar's ends. */
function truthView(
  page: Page,
): Promise<{ digest: number; lo: number; hi: number; caption: string; generatedCaption: string; label: string }> {
  // Page code as a string: the tests' tsconfig has no DOM types.
  return page.evaluate(`(() => {
    const canvas = document.querySelectorAll('canvas.slice')[0];
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let digest = 0;
    for (let i = 0; i < pixels.length; i++) digest = (digest * 31 + pixels[i]) % 1000000007;
    const bar = document.querySelectorAll('.colorbar canvas')[0];
    const captions = document.querySelectorAll('figcaption');
    return { digest, lo: Number(bar.dataset.lo), hi: Number(bar.dataset.hi), caption: captions[0].textContent, generatedCaption: captions[1].textContent, label: document.querySelector('.slice-label').textContent };
  })()`);
}

/** The p-th percentile, interpolated between the two nearest ranks (NumPy's default). */
function percentile(values: Iterable<number>, p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (p / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  return sorted[below] + (position - below) * (sorted[Math.min(below + 1, sorted.length - 1)] - sorted[below]);
}

/** Chooses a value in the n-th vscode-single-select, as a click on an option does. */
function choose(page: Page, n: number, value: string): Promise<void> {
  return page.evaluate(`(() => {
    const select = document.querySelectorAll('vscode-single-select')[${n}];
    select.value = ${JSON.stringify(value)};
    select.dispatchEvent(new Event('change'));
  })()`);
}

async function serve(page: Page, runDir: string): Promise<void> {
  const init = await inspectorInit(runDir);
  await deliver(page, init);
  // Answer the page's sample requests as the host does.
  const answered = new Set<number>();
  for (let round = 0; round < 2; round++) {
    await frames(page);
    for (const m of await posted(page)) {
      if (m.type === 'inspector/loadSample' && !answered.has(m.index as number)) {
        answered.add(m.index as number);
        await deliver(page, await inspectorSample(runDir, init.samples, m.index as number));
      }
    }
  }
  await frames(page);
}

test('inspector: slider moves the slice, colour bar spans the data, context marked, bad files reported', async () => {
  const runDir = writeRun(runsDir, 'gen', '20261123-100000-cccc', 'generation', {});
  const { truth, generated } = writeSamples(runDir, 16, 32);
  const page = await host.open('inspector');
  await serve(page, runDir);

  const first = await truthView(page);
  // Shared diverging scale: symmetric about zero at the larger |end| of the 1st and 99th percentiles of
  // truth and generated together (intensity_window.ts; inspector_slices.test.ts checks the cases).
  const union = [...truth, ...generated];
  const m = Math.max(Math.abs(percentile(union, 1)), Math.abs(percentile(union, 99)));
  assert.ok(
    Math.abs(first.hi - m) < 1e-3 && Math.abs(first.lo + m) < 1e-3,
    `colour bar [${first.lo}, ${first.hi}] vs data ±${m}`,
  );
  assert.match(first.label, /1 \/ 16 .*z = 12\.00.*context/);
  assert.match(first.generatedCaption, /context/);

  await page.locator('input.slice-slider').fill('10');
  await frames(page);
  const moved = await truthView(page);
  assert.notEqual(moved.digest, first.digest, 'the truth pixels change with the slider');
  assert.doesNotMatch(moved.label, /context/);
  assert.equal(moved.generatedCaption, 'Generated');

  // Sequential map, per-panel scale: the truth bar spans the truth's own 1st to 99th percentile.
  await choose(page, 1, 'sequential');
  await choose(page, 2, 'per-panel');
  await frames(page);
  const sequential = await truthView(page);
  const lo = percentile(truth, 1);
  const hi = percentile(truth, 99);
  assert.ok(
    Math.abs(sequential.lo - lo) < 1e-3 && Math.abs(sequential.hi - hi) < 1e-3,
    `[${sequential.lo}, ${sequential.hi}] vs [${lo}, ${hi}]`,
  );

  // Hover read-out names the values under the mouse.
  const box = await page.locator('canvas.slice').first().boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + 5, box.y + 5);
  assert.match(
    (await page.locator('.readout').textContent()) ?? '',
    /x 0, y 0 · true .* mK · generated .* mK · difference/,
  );

  // Global signal and power spectrum are drawn: one point per slice and per k annulus.
  const charts = await page.evaluate(() => {
    const p = (
      globalThis as unknown as {
        l3mPanel: { globalChart(): { data: unknown[][] }; spectrumChart(): { data: (number | null)[][] } };
      }
    ).l3mPanel;
    return {
      global: p.globalChart().data[0].length,
      spectrum: p.spectrumChart().data[0].length,
      spectrumFinite: p.spectrumChart().data[1].filter((v) => v !== null && v > 0).length,
    };
  });
  assert.deepEqual(charts, { global: 16, spectrum: 16, spectrumFinite: 16 });
  await page.screenshot({ path: 'test-artifacts/browser/inspector.png', fullPage: true });

  // The view exports as a PNG.
  await page.locator('vscode-button', { hasText: 'Export view as PNG' }).click();
  await page.waitForFunction(() =>
    (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((x) => x.type === 'export'),
  );
  const png = (await posted(page)).find((x) => x.type === 'export') as unknown as { data: { head: number[] } };
  assert.deepEqual(png.data.head.slice(0, 4), [0x89, 0x50, 0x4e, 0x47]);

  // Second sample: truth missing, generated corrupt — the page says so and does not go blank.
  await choose(page, 0, '1');
  await serve(page, runDir);
  const problems = await page.evaluate(() =>
    (globalThis as unknown as { l3mPanel: { problems(): string[] } }).l3mPanel.problems(),
  );
  assert.ok(
    problems.some((p) => /lc1_truth\.npy: the file is missing/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /lc1_generated\.npy: not a NumPy \.npy file/.test(p)),
    problems.join('\n'),
  );
  assert.match((await page.locator('figcaption').first().textContent()) ?? '', /could not be read/);
  await page.screenshot({ path: 'test-artifacts/browser/inspector_bad_sample.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});

test('inspector: regression run shows the Fig. 6 view and the calibration table', async () => {
  const runDir = writeRun(runsDir, 'reg', '20261123-100000-dddd', 'regression', {});
  const evaluation = writeRegressionEvaluation(runDir);
  const page = await host.open('inspector', { height: 1400 });
  await serve(page, runDir);
  const rows = await page.locator('table.calibration tbody tr').count();
  assert.equal(rows, 6);
  assert.equal(
    await page.locator('table.calibration tbody tr').first().locator('td').nth(1).textContent(),
    evaluation.parameters[0].r2?.toFixed(3),
  );
  assert.equal(await page.locator('.chart-card').count(), 6);
  await page.screenshot({ path: 'test-artifacts/browser/inspector_regression.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});

test('inspector: a run without samples shows true slices of its dataset (real `l3m data` child process), marked as data', async () => {
  const sidecar = join(process.cwd(), 'dist', 'sidecar.js');
  assert.ok(existsSync(sidecar), 'dist/sidecar.js is built (node esbuild.mjs --no-typecheck)');
  // A tiny .npz dataset: in cone c, slice k is the constant (k + 1)·(c + 1), so every preview slice is checkable.
  const n = 28;
  const nt = 30;
  const runDir = writePreviewRun(runsDir, n, nt);

  assert.equal(await ensureDataPreview(runDir, sidecarCommand({}, sidecar), [runsDir], 5), null);
  const message = await readDataPreview(runDir);
  assert.deepEqual(message.problems, []);
  assert.deepEqual(message.shape, [5, n, n]);
  const values = new Float32Array(message.data as ArrayBuffer);
  const cone = values[0]; // slice 0 of cone c is c + 1
  message.slices.forEach((slice, i) => {
    const plane = values.subarray(i * n * n, (i + 1) * n * n);
    assert.ok(
      plane.every((v) => v === (slice + 1) * cone),
      `preview slice ${slice} is the true slice`,
    );
  });

  const page = await host.open('inspector');
  await deliver(page, await inspectorInit(runDir));
  await deliver(page, message);
  await frames(page);
  const view = await truthView(page);
  assert.equal(view.caption, 'True — data (no samples yet)');
  assert.match(view.label, /^1 \/ 5 · lightcone slice 0 .*data \(no samples yet\)/);
  const top = (message.slices[4] + 1) * cone;
  assert.ok(
    Math.abs(view.hi - top) < 1e-3 && Math.abs(view.lo + top) < 1e-3,
    `colour bar [${view.lo}, ${view.hi}] vs ±${top}`,
  );
  assert.match((await page.locator('.slice-view').nth(1).textContent()) ?? '', /no samples yet/);
  await page.locator('input.slice-slider').fill('4');
  await frames(page);
  assert.match((await truthView(page)).label, new RegExp(`^5 / 5 · lightcone slice ${message.slices[4]} `));
  await page.screenshot({ path: 'test-artifacts/browser/inspector_data_preview.png', fullPage: true });

  // A corrupt preview file: reported, the other slices still shown.
  writeFileSync(
    join(
      runDir,
      'data-preview',
      readJson<{ files: { file: string }[] }>(join(runDir, 'data-preview', 'index.json')).files[1].file,
    ),
    'garbage',
  );
  const damaged = await readDataPreview(runDir);
  assert.equal(damaged.shape[0], 4);
  assert.match(damaged.problems.join('\n'), /: not a NumPy \.npy file/);
  assert.deepEqual(pageErrors(page), []);
});
