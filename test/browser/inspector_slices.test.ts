// The inspector's slice views in real Chromium: the intensity window from percentiles (checked
// against percentiles computed here by hand) so that single outlier pixels no longer wash the slices
// out, the display transforms (pixel colours against the colour map computed here), dragging the
// colour bar and its reset, zoom and pan synced over the true, generated and difference views with
// the read-out of one cell in all three, and the power spectra computed in the page's worker (equal
// to the spectra computed here).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { inspectorInit, inspectorSample } from '../../extension/panels/run_data';
import { colormaps } from '../../webview/shared/colormaps';
import { powerSpectrum2d } from '../../webview/shared/power_spectrum';
import type { SampleIndex } from '../../sidecar/protocol/run_folder';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { npyBytes, writeRun } from './run_fixtures';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-inspector-slices-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

const slices = 8;
const n = 32;
const outlier = 211.6;

/**
 * A cube of typical δT_b around −5 mK (between about −9 and −1) with one pixel at +211.6 mK and one at
 * −211.6 mK in slice 2: the case where a min–max window made the slices look blank.
 */
function outlierCube(phase: number): Float32Array {
  const out = new Float32Array(slices * n * n);
  for (let s = 0; s < slices; s++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++)
        out[(s * n + y) * n + x] =
          -5 +
          3.5 * Math.sin((2 * Math.PI * (x + phase)) / n + s) * Math.cos((2 * Math.PI * 2 * y) / n) +
          0.4 * Math.sin(x * y + s);
  out[(2 * n + 5) * n + 7] = outlier;
  out[(2 * n + 20) * n + 11] = -outlier;
  return out;
}

function writeOutlierRun(id: string): { runDir: string; truth: Float32Array; generated: Float32Array } {
  const runDir = writeRun(runsDir, 'slices', id, 'generation', {});
  const dir = join(runDir, 'samples');
  mkdirSync(dir, { recursive: true });
  const truth = outlierCube(0);
  const generated = outlierCube(3);
  writeFileSync(join(dir, 'lc0_truth.npy'), npyBytes([slices, n, n], truth));
  writeFileSync(join(dir, 'lc0_generated.npy'), npyBytes([slices, n, n], generated));
  const index: SampleIndex = {
    entries: [
      {
        lightcone: 0,
        firstSlice: 0,
        contextSlices: 0,
        generated: 'lc0_generated.npy',
        truth: 'lc0_truth.npy',
        createdAt: '2026-11-23T10:05:00Z',
      },
    ],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return { runDir, truth, generated };
}

/** The p-th percentile by hand: sort, then interpolate between the two nearest ranks (NumPy's default). */
function percentile(values: Iterable<number>, p: number): number {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  const position = (p / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

async function serve(page: Page, runDir: string): Promise<void> {
  const init = await inspectorInit(runDir);
  await deliver(page, init);
  await page.waitForFunction(() =>
    (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'inspector/loadSample'),
  );
  const request = (await posted(page)).find((m) => m.type === 'inspector/loadSample');
  await deliver(page, await inspectorSample(runDir, init.samples, request?.index as number));
  await frames(page);
}

interface ViewState {
  lo: number;
  hi: number;
  transform: string;
  colours: number;
  pixel: number[];
}

/** Each slice view's colour bar window, transform, number of distinct colours and the colour of cell (0, 0). */
function viewStates(page: Page): Promise<ViewState[]> {
  return page.evaluate(`[...document.querySelectorAll('.slice-view')].map((view) => {
    const canvas = view.querySelector('canvas.slice');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set();
    for (let i = 0; i < pixels.length; i += 4) colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    const bar = view.querySelector('.colorbar canvas');
    return { lo: Number(bar.dataset.lo), hi: Number(bar.dataset.hi), transform: bar.dataset.transform, colours: colours.size, pixel: [...pixels.slice(0, 3)] };
  })`);
}

function choose(page: Page, label: string, value: string): Promise<void> {
  return page.evaluate(`(() => {
    const select = document.querySelector('vscode-single-select[aria-label=' + JSON.stringify(${JSON.stringify(label)}) + ']');
    select.value = ${JSON.stringify(value)};
    select.dispatchEvent(new Event('change'));
  })()`);
}

const close = (a: number, b: number, what: string, tolerance = 1e-4) =>
  assert.ok(Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b)), `${what}: ${a}, expected ${b}`);

test('inspector: the window comes from the 1–99 % percentiles, so ±211.6 mK outlier pixels no longer blank the slices', async () => {
  const { runDir, truth, generated } = writeOutlierRun('20261123-110000-aaaa');
  const page = await host.open('inspector');
  await serve(page, runDir);
  await page.locator('input.slice-slider').fill('2');
  await frames(page);

  const [t, g, d] = await viewStates(page);
  // Shared scale, diverging map: ±the larger |end| of the 1st and 99th percentiles of true and generated together.
  const union = [...truth, ...generated];
  const m = Math.max(Math.abs(percentile(union, 1)), Math.abs(percentile(union, 99)));
  close(t.hi, m, 'true window high end');
  close(t.lo, -m, 'true window low end');
  assert.deepEqual([g.lo, g.hi], [t.lo, t.hi], 'true and generated share the window');
  assert.ok(m < 10, `the window (±${m} mK) follows the typical values, not the ±${outlier} mK outliers`);
  const differences = truth.map((v, i) => generated[i] - v);
  const md = Math.max(Math.abs(percentile(differences, 1)), Math.abs(percentile(differences, 99)));
  close(d.hi, md, 'difference window high end');
  // Over a ±211.6 mK window the typical pixels took about 6 colours near white; now the slice shows its structure.
  assert.ok(t.colours >= 40, `the true slice shows ${t.colours} distinct colours`);
  await page.screenshot({ path: 'test-artifacts/browser/inspector_percentile_window.png', fullPage: true });

  // Per panel, sequential map, 0.1–99.9 %: the truth's own percentiles, not symmetric.
  await choose(page, 'Colour map', 'sequential');
  await choose(page, 'Scale', 'per-panel');
  await choose(page, 'Window', '0.1-99.9');
  await frames(page);
  const [perPanel] = await viewStates(page);
  close(perPanel.lo, percentile(truth, 0.1), 'sequential low end');
  close(perPanel.hi, percentile(truth, 99.9), 'sequential high end');
  assert.deepEqual(pageErrors(page), []);
  await page.close();
});

test('inspector: display transforms colour each pixel on their own scale, and the colour bar drags the window and resets', async () => {
  const { runDir, truth } = writeOutlierRun('20261123-110000-bbbb');
  const page = await host.open('inspector');
  await serve(page, runDir);
  const [start] = await viewStates(page);
  const window = { lo: start.lo, hi: start.hi };
  const expectedColour = (f: (v: number) => number) => {
    const k = Math.min(
      255,
      Math.max(0, Math.round(((f(truth[0]) - f(window.lo)) * 255) / (f(window.hi) - f(window.lo)))),
    );
    return [...colormaps.diverging.slice(k * 3, k * 3 + 3)];
  };
  const c = Math.max(Math.abs(window.lo), Math.abs(window.hi)) / 100;
  const transforms: [string, (v: number) => number][] = [
    ['linear', (v) => v],
    ['symlog', (v) => Math.sign(v) * Math.log10(1 + Math.abs(v) / c)],
    ['sgn-ln', (v) => Math.sign(v) * Math.log1p(Math.abs(v))],
  ];
  for (const [name, f] of transforms) {
    await choose(page, 'Display', name);
    await frames(page);
    const [state] = await viewStates(page);
    assert.equal(state.transform, name);
    assert.deepEqual([state.lo, state.hi], [window.lo, window.hi], `${name}: the window stays`);
    assert.deepEqual(state.pixel, expectedColour(f), `${name}: the colour of cell (0, 0) = ${truth[0]} mK`);
  }
  await choose(page, 'Display', 'linear');
  await frames(page);

  // Drag the high end of the truth's colour bar to three quarters of the bar: the symmetric window
  // becomes ± the value shown there, for true and generated (shared scale) but not the difference.
  const bar = await page.locator('.colorbar canvas').first().boundingBox();
  assert.ok(bar);
  const [, , differenceBefore] = await viewStates(page);
  await page.mouse.move(bar.x + bar.width * 0.99, bar.y + bar.height / 2);
  await page.mouse.down();
  await page.mouse.move(bar.x + bar.width * 0.75, bar.y + bar.height / 2, { steps: 4 });
  await page.mouse.up();
  await frames(page);
  const [t, g, d] = await viewStates(page);
  const expected = window.lo + 0.75 * (window.hi - window.lo);
  close(t.hi, expected, 'dragged high end', 1e-3);
  close(t.lo, -expected, 'dragged low end mirrors it', 1e-3);
  assert.deepEqual([g.lo, g.hi], [t.lo, t.hi], 'the generated view shares the dragged window');
  assert.deepEqual([d.lo, d.hi], [differenceBefore.lo, differenceBefore.hi], 'the difference keeps its own window');
  await page.screenshot({ path: 'test-artifacts/browser/inspector_dragged_window.png', fullPage: true });

  await page.locator('vscode-button', { hasText: 'Reset window' }).click();
  await frames(page);
  const [reset] = await viewStates(page);
  assert.deepEqual([reset.lo, reset.hi], [window.lo, window.hi], 'Reset window returns to the percentiles');
  assert.deepEqual(pageErrors(page), []);
  await page.close();
});

interface ZoomView {
  transform: string;
  canvas: { left: number; top: number; width: number; height: number };
  marker: { left: number; top: number; width: number; hidden: boolean };
  readout: string;
}

function zoomViews(page: Page): Promise<{ state: { scale: number; x: number; y: number }; views: ZoomView[] }> {
  return page.evaluate(`({
    state: window.l3mPanel.zoom.state,
    views: [...document.querySelectorAll('.slice-view')].map((view) => {
      const viewport = view.querySelector('.slice-viewport');
      const border = viewport.getBoundingClientRect();
      const port = { left: border.left + viewport.clientLeft, top: border.top + viewport.clientTop };
      const canvas = view.querySelector('canvas.slice');
      const box = canvas.getBoundingClientRect();
      const marker = view.querySelector('.cell-marker');
      const m = marker.getBoundingClientRect();
      return {
        transform: canvas.style.transform,
        canvas: { left: box.left - port.left, top: box.top - port.top, width: box.width, height: box.height },
        marker: { left: m.left - port.left, top: m.top - port.top, width: m.width, hidden: marker.hidden },
        readout: view.querySelector('.pixel-readout').textContent,
      };
    }),
  })`);
}

test('inspector: zoom and pan are synced over the true, generated and difference views, with one cell read out in all three', async () => {
  const { runDir, truth, generated } = writeOutlierRun('20261123-110000-cccc');
  const page = await host.open('inspector');
  await serve(page, runDir);
  // The unzoomed canvas fills the viewport's content box (inside its border).
  const port = await page.locator('canvas.slice').first().boundingBox();
  assert.ok(port);

  // Three wheel notches in at a quarter of the truth view: the slice point under the pointer stays there.
  await page.mouse.move(port.x + port.width / 4, port.y + port.height / 4);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -100);
  await frames(page);
  let zoomed = await zoomViews(page);
  const scale = 1.25 ** 3;
  close(zoomed.state.scale, scale, 'magnification');
  close(zoomed.state.x, 0.25 - 0.25 / scale, 'left edge of the visible part');
  close(zoomed.state.y, 0.25 - 0.25 / scale, 'top edge of the visible part');
  for (const view of zoomed.views) {
    assert.deepEqual(view.canvas, zoomed.views[0].canvas, 'every view shows the same part');
    close(view.canvas.width, port.width * scale, 'zoomed width', 1e-3);
    close(-view.canvas.left, zoomed.state.x * scale * port.width, 'zoomed offset', 1e-3);
  }

  // Drag to pan by (−56, −28) px: the visible part moves by that over the magnification, in all three.
  await page.mouse.move(port.x + port.width / 2, port.y + port.height / 2);
  await page.mouse.down();
  await page.mouse.move(port.x + port.width / 2 - 56, port.y + port.height / 2 - 28, { steps: 3 });
  await page.mouse.up();
  await frames(page);
  const panned = await zoomViews(page);
  close(panned.state.x, zoomed.state.x + 56 / port.width / scale, 'panned left edge');
  close(panned.state.y, zoomed.state.y + 28 / port.height / scale, 'panned top edge');
  for (const view of panned.views) assert.deepEqual(view.canvas, panned.views[0].canvas);

  // Hover over the generated view: the same cell is marked and read out, in mK, in all three views.
  const generatedBox = await page.locator('.slice-viewport').nth(1).boundingBox();
  assert.ok(generatedBox);
  const generatedPort = {
    x: generatedBox.x + port.x - (await page.locator('.slice-viewport').first().boundingBox())!.x,
    y: generatedBox.y + port.y - (await page.locator('.slice-viewport').first().boundingBox())!.y,
    width: port.width,
    height: port.height,
  };
  assert.ok(generatedPort);
  const [px, py] = [0.6, 0.3];
  await page.mouse.move(generatedPort.x + generatedPort.width * px, generatedPort.y + generatedPort.height * py);
  await frames(page);
  zoomed = await zoomViews(page);
  const col = Math.floor((panned.state.x + px / scale) * n);
  const row = Math.floor((panned.state.y + py / scale) * n);
  const at = row * n + col;
  const values = [truth[at], generated[at], generated[at] - truth[at]];
  zoomed.views.forEach((view, i) => {
    const read = new RegExp(`^x ${col}, y ${row}: (\\S+) mK$`).exec(view.readout);
    assert.ok(read, `read-out "${view.readout}" names cell (${col}, ${row}) in mK`);
    close(Number(read[1]), values[i], `read-out of view ${i}`, 1e-4);
    assert.equal(view.marker.hidden, false);
    assert.deepEqual(view.marker, zoomed.views[0].marker, 'the marker sits at the same place in every view');
  });
  close(zoomed.views[0].marker.left, (col / n - panned.state.x) * scale * port.width, 'marker position', 1e-3);
  assert.match((await page.locator('.readout').textContent()) ?? '', new RegExp(`^x ${col}, y ${row} · true `));
  await page.screenshot({ path: 'test-artifacts/browser/inspector_synced_zoom.png', fullPage: true });

  // A double click shows the whole slice again, everywhere.
  await page.mouse.dblclick(generatedPort.x + 10, generatedPort.y + 10);
  await frames(page);
  const whole = await zoomViews(page);
  assert.deepEqual(whole.state, { scale: 1, x: 0, y: 0 });
  for (const view of whole.views) assert.equal(view.transform, '');
  assert.deepEqual(pageErrors(page), []);
  await page.close();
});

test('inspector: the power spectra are computed in a worker and follow the slider to the slice it stops on', async () => {
  const { runDir, truth, generated } = writeOutlierRun('20261123-110000-dddd');
  const page = await host.open('inspector');
  await serve(page, runDir);
  // A drag across every slice, one input per frame's worth of events, ending on slice 6.
  await page.evaluate(`(() => {
    const slider = document.querySelector('input.slice-slider');
    for (const s of [1, 2, 3, 4, 5, 7, 6]) { slider.value = String(s); slider.dispatchEvent(new Event('input')); }
  })()`);
  // A function, not a string: a string is evaluated in the page, which its policy (no unsafe-eval) refuses.
  await page.waitForFunction(
    () =>
      (globalThis as unknown as { l3mPanel: { spectrum(): { slice: number | null } } }).l3mPanel.spectrum().slice === 6,
  );
  const shown = await page.evaluate<{
    mode: string;
    reason: string | null;
    k: number[];
    t: (number | null)[];
    g: (number | null)[];
  }>(
    `(() => { const s = window.l3mPanel.spectrum(); const d = window.l3mPanel.spectrumChart().data; return { mode: s.mode, reason: s.fallbackReason, k: [...d[0]], t: [...d[1]], g: [...d[2]] }; })()`,
  );
  assert.equal(shown.mode, 'worker', `spectra computed in a worker (${shown.reason})`);
  const size = n * n;
  const expectedTruth = powerSpectrum2d(truth, 6 * size, n, n);
  const expectedGenerated = powerSpectrum2d(generated, 6 * size, n, n);
  assert.deepEqual(shown.k, expectedTruth.k);
  // The chart shows Δ²(k) = 2π k² P / N² (physical_axes.ts), k in units of the fundamental mode here.
  const delta2 = (p: number | null, i: number) =>
    p === null ? NaN : (2 * Math.PI * expectedTruth.k[i] ** 2 * p) / size;
  expectedTruth.power.forEach((p, i) => close(shown.t[i] ?? NaN, delta2(p, i), `true Δ²(k=${i + 1})`, 1e-9));
  expectedGenerated.power.forEach((p, i) => close(shown.g[i] ?? NaN, delta2(p, i), `generated Δ²(k=${i + 1})`, 1e-9));
  assert.deepEqual(pageErrors(page), [], 'no policy violation starting the worker');
  await page.close();
});
