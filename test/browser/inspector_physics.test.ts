// The inspector's physics in real Chromium: each slice labelled with its redshift and observed 21cm
// frequency from the sample's redshift grid, and by index with the reason where the grid is unknown;
// the global signal against z or frequency; slice axes in comoving Mpc; the training-step slider over
// samples of several checkpoints ("step unknown" where a sample does not say); the side view with its
// context/generated boundary; units on colour bars and spectra (Δ² in mK², k in Mpc⁻¹); σ in dex for
// log₁₀ parameters; the exported PNG with run name, units and colour bars; and the loading state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { inspectorInit, inspectorSample } from '../../extension/panels/run_data';
import { readDataPreview } from '../../extension/panels/data_preview';
import type { SampleEntry, SampleIndex } from '../../sidecar/protocol/run_folder';
import { powerSpectrum2d } from '../../webview/shared/power_spectrum';
import { deliver, frames, pageErrors, posted, startPanelHost, type PanelHost } from './panel_host';
import { lightconeCube, npyBytes, writeRegressionEvaluation, writeRun } from './run_fixtures';

let host: PanelHost;
let runsDir: string;

before(async () => {
  host = await startPanelHost();
  runsDir = mkdtempSync(join(tmpdir(), 'l3m-inspector-physics-'));
});
after(async () => {
  await host?.close();
  rmSync(runsDir, { recursive: true, force: true });
});

const slices = 12;
const n = 16;
const context = 3;
/** The run's redshift grid, cosmic-time order (falling), one per truth slice. */
const redshifts = Array.from({ length: slices }, (_, i) => 11.5 - 0.37 * i);

/**
 * samples/ of a generation run: the same stretch sampled at steps 200, 100 and once without a step,
 * plus a stretch whose entry has no redshifts and one whose grid is too short.
 */
function writePhysicsSamples(runDir: string): { truth: Float32Array; generated: Float32Array[] } {
  const dir = join(runDir, 'samples');
  mkdirSync(dir, { recursive: true });
  const truth = lightconeCube(slices, n);
  writeFileSync(join(dir, 'truth.npy'), npyBytes([slices, n, n], truth));
  const generated = [0.5, 1.5, 2.5].map((phase, i) => {
    // The generated file holds only the generated slices, as the sampler writes them.
    const g = lightconeCube(slices, n, phase).slice(context * n * n);
    writeFileSync(join(dir, `gen${i}.npy`), npyBytes([slices - context, n, n], g));
    return g;
  });
  const entry = (over: Partial<SampleEntry>): SampleEntry => ({
    lightcone: 0,
    firstSlice: context,
    contextSlices: context,
    generated: 'gen0.npy',
    truth: 'truth.npy',
    redshifts,
    boxMpc: 100,
    createdAt: '2026-12-01T10:00:00Z',
    ...over,
  });
  const index: SampleIndex = {
    entries: [
      entry({ generated: 'gen0.npy', checkpointStep: 200 }),
      entry({ generated: 'gen1.npy', checkpointStep: 100 }),
      entry({ generated: 'gen2.npy' }),
      entry({ lightcone: 1, generated: 'gen0.npy', checkpointStep: 200, redshifts: undefined, boxMpc: undefined }),
      entry({ lightcone: 2, generated: 'gen0.npy', checkpointStep: 200, redshifts: redshifts.slice(0, 4) }),
    ],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 2));
  return { truth, generated };
}

/** Delivers init and answers every sample request the page makes, as the host does. */
async function serve(page: Page, runDir: string): Promise<void> {
  const init = await inspectorInit(runDir);
  await deliver(page, init);
  await answer(page, runDir, init.samples);
}

const answered = new WeakMap<Page, number>();
async function answer(page: Page, runDir: string, samples: SampleIndex | null): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await frames(page);
    const all = await posted(page);
    const from = answered.get(page) ?? 0;
    answered.set(page, all.length);
    for (const m of all.slice(from))
      if (m.type === 'inspector/loadSample')
        await deliver(page, await inspectorSample(runDir, samples, m.index as number));
  }
  await frames(page);
}

interface Panel {
  label: string;
  gridNote: string;
  stepLabel: string;
  stepVisible: boolean;
  stepMax: string;
  globalX: number[];
  globalXLabel: string;
  spectrumTitle: string;
  spectrumXLabel: string;
  axes: { from: number; to: number; ticks: string[]; title: string };
  colorBarUnits: string[];
  loading: string;
}

function panel(page: Page): Promise<Panel> {
  return page.evaluate(`(() => {
    const p = window.l3mPanel;
    const chart = p.globalChart();
    const xAxis = document.querySelector('.slice-axis.x');
    const titles = [...document.querySelectorAll('.chart-card')].map((c) => c.textContent);
    return {
      label: document.querySelector('.slice-label').textContent,
      gridNote: p.gridNote.textContent,
      stepLabel: document.querySelector('.step-label').textContent,
      stepVisible: !p.stepSlider.element.hidden && !p.stepSlider.input.hidden,
      stepMax: p.stepSlider.input.max,
      globalX: chart ? Array.from(chart.data[0]) : [],
      globalXLabel: chart ? chart.axes[0].label ?? '' : '',
      spectrumTitle: titles.find((t) => t.includes('Power spectrum')) ?? '',
      spectrumXLabel: p.spectrumChart() ? p.spectrumChart().axes[0].label ?? '' : '',
      axes: {
        from: Number(xAxis.dataset.from),
        to: Number(xAxis.dataset.to),
        ticks: [...xAxis.querySelectorAll('.tick')].map((t) => t.textContent),
        title: xAxis.title,
      },
      colorBarUnits: [...document.querySelectorAll('.colorbar-unit')].map((u) => u.textContent),
      loading: p.loading.textContent,
    };
  })()`);
}

async function moveSlice(page: Page, slice: number): Promise<void> {
  await page.locator('input.slice-slider').fill(String(slice));
  await frames(page);
}

test('inspector physics: slice z and MHz from the redshift grid, global signal against z or frequency, axes in Mpc, units', async () => {
  const runDir = writeRun(runsDir, 'gen', '20261201-100000-phys', 'generation', {});
  writePhysicsSamples(runDir);
  const page = await host.open('inspector', { height: 1600 });
  await serve(page, runDir);

  for (const s of [0, 2, 3, 7, slices - 1]) {
    await moveSlice(page, s);
    const { label } = await panel(page);
    const z = redshifts[s];
    const mhz = 1420.405751 / (1 + z);
    assert.ok(
      label.includes(`${s + 1} / ${slices} · lightcone slice ${s} · z = ${z.toFixed(2)} · ${mhz.toFixed(1)} MHz`),
      `slice ${s}: "${label}" should give z = ${z.toFixed(2)} and ${mhz.toFixed(1)} MHz`,
    );
    assert.equal(label.includes('context'), s < context, `slice ${s} is context: ${label}`);
  }
  let state = await panel(page);
  assert.equal(state.gridNote, '', 'a known grid needs no note');
  // Redshift falls along the slices; the chart draws x rising.
  assert.deepEqual(
    state.globalX.map((v) => v.toFixed(6)),
    [...redshifts].reverse().map((v) => v.toFixed(6)),
  );
  assert.match(state.globalXLabel, /redshift z/);
  assert.match(state.spectrumTitle, /Δ²\(k\) \[mK²\]/);
  assert.equal(state.spectrumXLabel, 'k [Mpc⁻¹]');
  assert.deepEqual(state.colorBarUnits, ['mK', 'mK', 'mK']);
  // The whole 100 Mpc slice is in view; ticks at round Mpc values.
  assert.deepEqual([state.axes.from, state.axes.to], [0, 100]);
  assert.deepEqual(state.axes.ticks, ['0', '20', '40', '60', '80', '100']);
  assert.match(state.axes.title, /comoving Mpc/);

  // Against frequency: 1420.405751 MHz / (1 + z), rising along the slices.
  await page.evaluate(`(() => {
    const select = [...document.querySelectorAll('vscode-single-select')].find((s) => s.value === 'redshift');
    select.value = 'frequency';
    select.dispatchEvent(new Event('change'));
  })()`);
  await frames(page);
  state = await panel(page);
  assert.match(state.globalXLabel, /observed frequency \[MHz\]/);
  assert.deepEqual(
    state.globalX.map((v) => v.toFixed(6)),
    redshifts.map((z) => (1420.405751 / (1 + z)).toFixed(6)),
  );
  await page.screenshot({ path: 'test-artifacts/browser/inspector_physics.png', fullPage: true });
  // The choice is kept with the page's state, so a reloaded page draws against frequency again.
  await page.reload();
  answered.delete(page);
  await serve(page, runDir);
  assert.match((await panel(page)).globalXLabel, /observed frequency \[MHz\]/);

  // The spectrum in physical units: k · 2π/L in Mpc⁻¹ and Δ² = 2π k² P / N² of the slice in view.
  await moveSlice(page, 5);
  const truthSlice = lightconeCube(slices, n).subarray(5 * n * n, 6 * n * n);
  const expected = powerSpectrum2d(truthSlice, 0, n, n);
  const spectrum = await waitFor(
    page,
    `(() => {
    const c = window.l3mPanel.spectrumChart();
    return c && c.data[1].some((v) => v !== null) ? c.data.map((col) => Array.from(col)) : null;
  })()`,
  );
  const [k, delta2] = spectrum as (number | null)[][];
  expected.k.forEach((kk, i) => {
    assert.ok(Math.abs((k[i] as number) - (kk * 2 * Math.PI) / 100) < 1e-9, `k[${i}] = ${k[i]}`);
    const p = expected.power[i];
    if (p === null || delta2[i] === null) return;
    const want = (2 * Math.PI * kk * kk * p) / (n * n);
    assert.ok(Math.abs(delta2[i] - want) <= 1e-6 * want, `Δ²[${i}] = ${delta2[i]}, expected ${want}`);
  });
  assert.deepEqual(pageErrors(page), []);
});

test('inspector physics: an unknown or short redshift grid labels slices by index and says why; no slice side gives cells', async () => {
  const runDir = writeRun(runsDir, 'gen', '20261201-100000-nogrid', 'generation', {});
  writePhysicsSamples(runDir);
  const page = await host.open('inspector', { height: 1400 });
  const init = await inspectorInit(runDir);
  await deliver(page, init);
  await answer(page, runDir, init.samples);
  // Sample 4 records no redshifts and no slice side.
  await page.evaluate(`(() => {
    const select = document.querySelectorAll('vscode-single-select')[0];
    select.value = '3';
    select.dispatchEvent(new Event('change'));
  })()`);
  await answer(page, runDir, init.samples);
  await moveSlice(page, 4);
  let state = await panel(page);
  assert.doesNotMatch(state.label, /z =|MHz/);
  assert.match(state.label, /^5 \/ 12 · lightcone slice 4/);
  assert.match(state.gridNote, /^Sample 4 \(samples\/index\.json\) records no redshifts .*labelled by index/);
  assert.match(state.globalXLabel, /^slice$/);
  assert.deepEqual([state.axes.from, state.axes.to], [0, n]);
  assert.match(state.axes.title, /cells \(the slice side in Mpc is unknown\)/);
  assert.match(state.spectrumXLabel, /k \[2π\/L\] \(the slice side in Mpc is unknown\)/);

  // Sample 5 has 4 redshifts for 12 slices.
  await page.evaluate(`(() => {
    const select = document.querySelectorAll('vscode-single-select')[0];
    select.value = '4';
    select.dispatchEvent(new Event('change'));
  })()`);
  await answer(page, runDir, init.samples);
  state = await panel(page);
  assert.doesNotMatch(state.label, /z =/);
  assert.match(state.gridNote, /records 4 redshifts for 12 slices, so slices are labelled by index/);
  await page.screenshot({ path: 'test-artifacts/browser/inspector_no_grid.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});

test('inspector physics: the training-step slider steps through the checkpoints of a stretch; a sample without a step says "step unknown"', async () => {
  const runDir = writeRun(runsDir, 'gen', '20261201-100000-steps', 'generation', {});
  const { generated } = writePhysicsSamples(runDir);
  const page = await host.open('inspector', { height: 1400 });
  const init = await inspectorInit(runDir);
  await deliver(page, init);
  await answer(page, runDir, init.samples);
  await moveSlice(page, 6);

  // Entry 0 (step 200) of a stretch sampled at 100, 200 and an unknown step: ordered 100, 200, unknown.
  let state = await panel(page);
  assert.ok(state.stepVisible, 'the slider shows for a stretch sampled at several checkpoints');
  assert.equal(state.stepMax, '2');
  assert.equal(state.stepLabel, 'step 200 (checkpoint 2 of 3)');
  const options = await page.evaluate(
    `[...document.querySelectorAll('vscode-single-select')[0].querySelectorAll('vscode-option')].map((o) => o.textContent)`,
  );
  assert.match((options as string[])[2], /· step unknown$/);
  assert.match((options as string[])[1], /· step 100$/);

  const generatedPixel = () =>
    page.evaluate<number>(`(() => {
      const v = window.l3mPanel.views.generated;
      return v.valueOf(5, 7);
    })()`);
  // Slice 6 is generated slice 3 of each file.
  const at = (g: Float32Array) => g[(6 - context) * n * n + 5 * n + 7];
  assert.ok(Math.abs((await generatedPixel()) - at(generated[0])) < 1e-4);

  for (const [position, file, label] of [
    ['0', 1, 'step 100 (checkpoint 1 of 3)'],
    ['2', 2, 'step unknown (checkpoint 3 of 3)'],
  ] as const) {
    await page.locator('.step-slider input').fill(position);
    await answer(page, runDir, init.samples);
    state = await panel(page);
    assert.equal(state.stepLabel, label);
    assert.match(state.label, /^7 \/ 12/, 'the slice stays where it was');
    assert.ok(Math.abs((await generatedPixel()) - at(generated[file])) < 1e-4, `${label} shows gen${file}.npy`);
  }
  const requests = (await posted(page)).filter((m) => m.type === 'inspector/loadSample').map((m) => m.index);
  assert.deepEqual(requests.slice(-2), [1, 2]);

  // A stretch sampled once: the step is said, with no slider.
  await page.evaluate(`(() => {
    const select = document.querySelectorAll('vscode-single-select')[0];
    select.value = '3';
    select.dispatchEvent(new Event('change'));
  })()`);
  await answer(page, runDir, init.samples);
  state = await panel(page);
  assert.equal(state.stepVisible, false);
  assert.equal(state.stepLabel, 'step 200');
  await page.screenshot({ path: 'test-artifacts/browser/inspector_steps.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});

test('inspector physics: the side view cuts through the whole cone, true and generated, with the context boundary marked', async () => {
  const runDir = writeRun(runsDir, 'gen', '20261201-100000-side', 'generation', {});
  const { truth, generated } = writePhysicsSamples(runDir);
  const page = await host.open('inspector', { height: 1400 });
  await serve(page, runDir);
  await moveSlice(page, 8);
  type Cut = { width: number; height: number; caption: string; boundary: string | null; current: string };
  const side = await page.evaluate<{ row: number; truth: Cut; generated: Cut }>(`(() => {
    const v = window.l3mPanel.sideView;
    const cut = (c) => ({ width: c.canvas.width, height: c.canvas.height, caption: c.caption.textContent,
      boundary: c.boundary.hidden ? null : c.boundary.style.left, current: c.current.style.left });
    return { row: v.row, truth: cut(v.truthCut), generated: cut(v.generatedCut) };
  })()`);
  // Every slice across (line of sight), every x down, through the middle row.
  assert.equal(side.row, n / 2);
  assert.deepEqual([side.truth.width, side.truth.height], [slices, n]);
  assert.deepEqual([side.generated.width, side.generated.height], [slices, n]);
  const percent = (left: string | null) => (left === null ? null : Number(left.replace('%', '')));
  assert.ok(
    Math.abs((percent(side.truth.boundary) ?? NaN) - (context / slices) * 100) < 1e-3,
    `${side.truth.boundary}`,
  );
  assert.equal(side.generated.boundary, side.truth.boundary);
  assert.ok(Math.abs(percent(side.truth.current)! - ((8 + 0.5) / slices) * 100) < 1e-3, side.truth.current);
  assert.match(side.generated.caption, /left of the line: the 3 context slices, true/);

  // The cut's values: the generated cut holds the truth left of the boundary and the forecast right of it.
  const { sideCut, generatedSideCut } = await import('../../webview/inspector/side_cut');
  const truthArray = { shape: [slices, n, n], data: truth };
  const cut = generatedSideCut(truthArray, { shape: [slices - context, n, n], data: generated[0] }, context, n / 2);
  const x = 5;
  for (let s = 0; s < slices; s++) {
    const want =
      s < context ? truth[s * n * n + (n / 2) * n + x] : generated[0][(s - context) * n * n + (n / 2) * n + x];
    assert.equal(cut[x * slices + s], want, `slice ${s}`);
  }
  assert.equal(sideCut(truthArray, n / 2)[x * slices + 9], truth[9 * n * n + (n / 2) * n + x]);
  // The painted pixels differ right of the boundary, where the forecast differs from the truth, and agree left of it.
  const pixels = await page.evaluate<number[][]>(`(() => {
    const get = (c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
    const v = window.l3mPanel.sideView;
    return [get(v.truthCut.canvas), get(v.generatedCut.canvas)];
  })()`);
  const rgb = (image: number[], s: number, xx: number) => image.slice((xx * slices + s) * 4, (xx * slices + s) * 4 + 3);
  assert.deepEqual(rgb(pixels[0], 1, x), rgb(pixels[1], 1, x), 'a context slice is the truth in both cuts');
  let differing = 0;
  for (let xx = 0; xx < n; xx++)
    for (let s = context; s < slices; s++)
      if (rgb(pixels[0], s, xx).join() !== rgb(pixels[1], s, xx).join()) differing++;
  assert.ok(differing > n, `the generated slices are drawn from the forecast (${differing} pixels differ)`);

  await page.locator('.side-view input').fill('2');
  await frames(page);
  assert.equal(await page.evaluate('window.l3mPanel.sideView.row'), 2);
  await page.screenshot({ path: 'test-artifacts/browser/inspector_side_view.png', fullPage: true });
  assert.deepEqual(pageErrors(page), []);
});

test('inspector physics: the PNG export carries the run name, the slice z and MHz, axes in Mpc, colour bars in mK and the side view', async () => {
  const runDir = writeRun(runsDir, 'gen', '20261201-100000-export', 'generation', {});
  writePhysicsSamples(runDir);
  const page = await host.open('inspector', { height: 1400 });
  await serve(page, runDir);
  await moveSlice(page, 4);
  const exported = await page.evaluate<{
    width: number;
    height: number;
    texts: string[];
    bar: number[];
    png: string;
  }>(`(() => {
    const { canvas, texts } = window.l3mPanel.exportCanvas();
    const ctx = canvas.getContext('2d');
    // The truth colour bar's middle, in the image at 2×.
    const bar = Array.from(ctx.getImageData(2 * (16 + 140), 2 * (64 + 280 + 10), 1, 1).data);
    return { width: canvas.width, height: canvas.height, texts, bar, png: canvas.toDataURL('image/png') };
  })()`);
  writeFileSync('test-artifacts/browser/inspector_export.png', Buffer.from(exported.png.split(',')[1], 'base64'));
  const runName = (await inspectorInit(runDir)).run.name;
  const all = exported.texts.join('\n');
  assert.ok(
    exported.texts[0].startsWith(`${runName} — 5 / 12 · lightcone slice 4 · z = ${redshifts[4].toFixed(2)}`),
    exported.texts[0],
  );
  assert.match(all, /MHz/);
  assert.match(all, /x, y: 0–100 comoving Mpc/);
  assert.equal(exported.texts.filter((t) => / mK$/.test(t)).length, 6, 'both ends of three colour bars in mK');
  assert.match(all, /δT_b \[mK\]/);
  assert.match(all, /side view, line of sight/);
  assert.match(all, /context \| generated/);
  assert.equal(exported.width, 2 * (3 * (280 + 16) + 16), 'drawn at twice the layout size');
  assert.notDeepEqual(exported.bar.slice(0, 3), [0, 0, 0], 'the colour bar is drawn');

  await page.locator('vscode-button', { hasText: 'Export view as PNG' }).click();
  await waitFor(page, `window.__posted.some((m) => m.type === 'export')`);
  const message = (await posted(page)).find((m) => m.type === 'export');
  assert.equal(message?.fileName, `${runName.replace(/[^A-Za-z0-9._-]+/g, '_')}_lightcone_view.png`);
  assert.deepEqual((message?.data as { head: number[] }).head.slice(0, 4), [0x89, 0x50, 0x4e, 0x47], 'a PNG');
  assert.deepEqual(pageErrors(page), []);
});

test("inspector physics: a run's dataset preview (no samples yet) is labelled in z and MHz too, with axes in Mpc from the simulator preset", async () => {
  // The built-in simulator's `test` preset: 32 cells over 100 Mpc.
  const cells = 32;
  const runDir = writeRun(runsDir, 'gen', '20261201-100000-preview', 'generation', {
    data: { source: 'simulator', simulator: { preset: 'test' } },
  });
  const folder = join(runDir, 'data-preview');
  mkdirSync(folder, { recursive: true });
  const previewRedshifts = [9.5, 9.1, 8.8, 8.4];
  const cube = lightconeCube(previewRedshifts.length, cells);
  previewRedshifts.forEach((_, k) =>
    writeFileSync(
      join(folder, `s${k}.npy`),
      npyBytes([cells, cells], cube.slice(k * cells * cells, (k + 1) * cells * cells)),
    ),
  );
  writeFileSync(
    join(folder, 'index.json'),
    JSON.stringify({
      lightcone: 3,
      files: previewRedshifts.map((z, k) => ({ file: `s${k}.npy`, slice: 10 + k, redshift: z })),
    }),
  );
  const page = await host.open('inspector', { height: 1400 });
  await deliver(page, await inspectorInit(runDir));
  const message = await readDataPreview(runDir);
  assert.equal(message.boxMpc, 100);
  await deliver(page, message);
  await frames(page);
  await moveSlice(page, 2);
  const state = await panel(page);
  assert.match(
    state.label,
    new RegExp(`lightcone slice 12 · z = 8\\.80 · ${(1420.405751 / 9.8).toFixed(1).replace('.', '\\.')} MHz`),
  );
  assert.match(state.label, /data \(no samples yet\)/);
  assert.deepEqual([state.axes.from, state.axes.to], [0, 100]);
  assert.equal(state.spectrumXLabel, 'k [Mpc⁻¹]');
  assert.deepEqual(pageErrors(page), []);
});

test('inspector physics: the panel says what it is reading while it opens', async () => {
  const runDir = writeRun(runsDir, 'gen', '20261201-100000-open', 'generation', {});
  writePhysicsSamples(runDir);
  const page = await host.open('inspector');
  assert.match((await panel(page)).loading, /^Opening the run: reading samples\/index\.json/);
  const init = await inspectorInit(runDir);
  await deliver(page, init);
  await frames(page);
  assert.equal((await panel(page)).loading, 'Reading the slices of sample 1…');
  await answer(page, runDir, init.samples);
  assert.equal((await panel(page)).loading, '');
  assert.deepEqual(pageErrors(page), []);
});

test('inspector physics: σ of a log₁₀ parameter is in dex, and its axis names the unit under the logarithm', async () => {
  const runDir = writeRun(runsDir, 'reg', '20261201-100000-dex', 'regression', {});
  const evaluation = writeRegressionEvaluation(runDir);
  const page = await host.open('inspector', { height: 1400 });
  await serve(page, runDir);
  const rows = await page.evaluate<[string, string][]>(
    `[...document.querySelectorAll('table.calibration tbody tr')].map((r) => [r.cells[0].textContent, r.cells[4].textContent])`,
  );
  for (const [i, p] of evaluation.parameters.entries()) {
    const [label, sigma] = rows[i];
    assert.equal(label, p.label);
    if (p.meanSigma === null) continue;
    if (p.name.startsWith('log10')) assert.match(sigma, / dex$/, `${p.label}: ${sigma}`);
    else if (p.unit) assert.ok(sigma.endsWith(` ${p.unit}`), `${p.label}: ${sigma}`);
  }
  const titles = await page.evaluate<string[]>(
    `[...document.querySelectorAll('.chart-card')].map((c) => c.querySelector('.chart-title, h3, header')?.textContent ?? c.textContent)`,
  );
  assert.ok(
    titles.some((t) => t.includes('log₁₀ T_vir (T_vir in K)')),
    `a title names T_vir's unit: ${titles.join(' | ')}`,
  );
  assert.ok(!titles.some((t) => t.includes('log₁₀ T_vir [K]')));
  assert.deepEqual(pageErrors(page), []);
});

/** Evaluates `expression` in the page each frame until it is truthy, and returns it (the page's CSP forbids waitForFunction's eval). */
async function waitFor(page: Page, expression: string): Promise<unknown> {
  for (let frame = 0; frame < 1200; frame++) {
    const value: unknown = await page.evaluate(expression);
    if (value) return value;
    await frames(page, 1);
  }
  throw new Error(`the page never gave a value for ${expression}`);
}
