// bench/panels: the panels in real headless Chromium (Debian's chromium via playwright-core), fed
// from real run folders through the extension's own reader (extension/panels/run_data.ts).
//  1. Monitor, time to first paint with 100k points per curve: from posting monitor/init (typed-array
//     columns; the structured clone VS Code also does) to the last chart's draw. Goal < 200 ms.
//  2. Monitor, frame time while streaming 50 metric updates per second onto those 100k points:
//     per frame, from the render's start to its last chart draw. Goal < 16 ms. `--monitor` runs 1 and
//     2 alone, and `--monitor --against <commit>` with that commit's monitor on the same data.
//  3. Inspector, time to show a 140×140 slice after the slider moves (three panels painted, colour
//     bars, marker); the deferred power spectrum is reported apart. Goal < 30 ms.
//  5. Monitor catch-up after being hidden while the run wrote 10k steps (_panels/monitor_catch_up.ts,
//     `--catch-up` alone), with its references measured in the same run.
//  4. Compare, time to first paint with 20 runs × 10k steps, against 2 runs × 10k in the same run
//     (_panels/compare_first_paint.ts; `--compare` runs only this, `--compare --against <commit>`
//     also that commit's compare page on the same runs). Goal < 200 ms.
//  6. Inspector with its side view, 140×140 × 160 slices: work per frame dragging the slice slider
//     (cuts kept) against dragging the cut's row (both cuts made again each frame), same page and run
//     (_panels/inspector_side_view.ts; `--side-view` runs only this). Goal < 16 ms.
// References measured in the same run: the monitor at 1k points (how the cost scales); the monitor
// as it was before its curves became Float64Array columns decimated per curve (commit f18305c:
// `number | null` arrays merged on x at full size, then smoothed and decimated), built from git into
// dist/webview/ and timed on the same page, data and browser (skipped with a reason when the commit
// is not in the clone); and for the inspector a bare putImageData of one 140×140 image (the floor
// of any canvas slice view).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import { inspectorInit, inspectorSample, monitorInit } from '../extension/panels/run_data';
import { deliver, stash, startPanelHost } from '../test/browser/panel_host';
import { trainingRecords, writeMetrics, writeRun, writeSamples } from '../test/browser/run_fixtures';
import { inspectorFrameReport, inspectorFrames } from './_panels/inspector_frames';
import { monitorCatchUp, monitorCatchUpReport } from './_panels/monitor_catch_up';
import { compareFirstPaint, compareFirstPaintReport } from './_panels/compare_first_paint';
import { inspectorSideView, inspectorSideViewReport } from './_panels/inspector_side_view';

function stats(values: number[]): { mean: number; p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    p50: at(0.5),
    p95: at(0.95),
    max: sorted[sorted.length - 1],
  };
}

/** First paint in ms: post monitor/init, wait until the loss chart holds `points`, read the last draw mark. */
async function firstPaint(page: Page, points: number): Promise<number> {
  return page.evaluate(`new Promise((resolve) => {
    window.l3mBenchmark = true;
    performance.clearMarks();
    const t0 = performance.now();
    window.postMessage(window.__benchInit, '*');
    const check = () => {
      const charts = window.l3mPanel.charts();
      if (charts.length === 3 && charts.every((c) => c.points >= ${points}) && performance.getEntriesByName('l3m-chart-draw').length >= 3) {
        setTimeout(() => {
          const draws = performance.getEntriesByName('l3m-chart-draw');
          resolve(draws[draws.length - 1].startTime - t0);
        });
      } else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  })`);
}

/** Streams one train record every 20 ms for `seconds`; returns per-frame render work and frame intervals. */
async function streaming(
  page: Page,
  fromStep: number,
  seconds: number,
): Promise<{ work: number[]; intervals: number[]; updates: number; points: number; drawn: number }> {
  return page.evaluate(`new Promise((resolve) => {
    window.l3mBenchmark = true;
    performance.clearMarks();
    let step = ${fromStep};
    let updates = 0;
    const stamps = [];
    let running = true;
    const tick = (t) => { stamps.push(t); if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    const timer = setInterval(() => {
      step++;
      updates++;
      window.postMessage({ type: 'monitor/append', problems: [], records: [{ step, epoch: 9, wall_time: step * 0.25, split: 'train', loss: 0.3 + Math.random() * 0.1, lr: 0.001, steps_per_s: 4 + Math.random() }] }, '*');
    }, 20);
    setTimeout(() => {
      clearInterval(timer);
      setTimeout(() => {
        running = false;
        const starts = performance.getEntriesByName('l3m-render-start').map((e) => e.startTime);
        const draws = performance.getEntriesByName('l3m-chart-draw').map((e) => e.startTime);
        const work = starts.map((s, i) => {
          const next = i + 1 < starts.length ? starts[i + 1] : Infinity;
          const inFrame = draws.filter((d) => d >= s && d < next);
          return inFrame.length ? inFrame[inFrame.length - 1] - s : 0;
        });
        const intervals = stamps.slice(1).map((t, i) => t - stamps[i]);
        resolve({ work, intervals, updates, points: window.l3mPanel.charts()[0].points, drawn: window.l3mPanel.charts()[0].uplot.data[0].length });
      }, 200);
    }, ${seconds * 1000});
  })`);
}

const baselineCommit = 'f18305c';

/** Builds the `page` of `commit` into dist/webview/baseline-<page>.js; returns null or why not. */
async function buildBaseline(commit = baselineCommit, page: 'monitor' | 'compare' = 'monitor'): Promise<string | null> {
  const root = resolve(import.meta.dirname ?? __dirname, '..');
  // Inside the repository, so that its imports resolve against the same node_modules.
  const source = join(root, 'dist', 'bench-baseline-src');
  rmSync(source, { recursive: true, force: true });
  mkdirSync(source, { recursive: true });
  try {
    const archive = execFileSync('git', ['archive', commit, 'webview', 'sidecar/protocol'], {
      cwd: root,
      maxBuffer: 1 << 26,
    });
    execFileSync('tar', ['-x', '-C', source], { input: archive });
    await esbuild.build({
      entryPoints: { [`baseline-${page}`]: join(source, `webview/${page}/main.ts`) },
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      outdir: join(root, 'dist/webview'),
      loader: { '.css': 'css' },
      logLevel: 'error',
      nodePaths: [join(root, 'node_modules')],
    });
    return null;
  } catch (error) {
    return `the baseline (commit ${commit}) could not be built: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

async function monitorFigures(
  host: Awaited<ReturnType<typeof startPanelHost>>,
  runsDir: string,
  steps: number,
  bundle?: string,
) {
  const runDir = writeRun(runsDir, 'bench', `monitor-${steps}-${bundle ?? 'current'}`, 'generation', {});
  writeMetrics(runDir, trainingRecords(steps, 100));
  const { message } = await monitorInit(runDir);
  const paints: number[] = [];
  let stream: Awaited<ReturnType<typeof streaming>> | null = null;
  for (let round = 0; round < 3; round++) {
    const page = await host.open('monitor', { width: 1400, height: 900, bundle });
    await stash(page, '__benchInit', message);
    paints.push(await firstPaint(page, steps));
    if (round === 2) stream = await streaming(page, steps, 3);
    await page.close();
  }
  return { paints, stream: stream! };
}

async function inspectorFigures(host: Awaited<ReturnType<typeof startPanelHost>>, runsDir: string) {
  const runDir = writeRun(runsDir, 'bench', 'inspector', 'generation', {});
  writeSamples(runDir, 40, 140);
  const init = await inspectorInit(runDir);
  const page = await host.open('inspector', { width: 1400, height: 1000 });
  await deliver(page, init);
  await deliver(page, await inspectorSample(runDir, init.samples, 0));
  // A function, not a string: the page's CSP forbids the eval a string condition needs once it polls.
  await page.waitForFunction(() => {
    type Slider = { max: string } | null;
    const page = globalThis as unknown as { document: { querySelector(selector: string): Slider } };
    return page.document.querySelector('input.slice-slider')?.max === '39';
  });
  return page.evaluate<{ shown: number[]; withSpectrum: number[]; bare: number[] }>(`(async () => {
    const slider = document.querySelector('input.slice-slider');
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
    const shown = [];
    const withSpectrum = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) {
        await frame();
        const t0 = performance.now();
        slider.value = String((i * 7) % 40);
        slider.dispatchEvent(new Event('input'));
        shown.push(performance.now() - t0);
        await frame();
        withSpectrum.push(performance.now() - t0);
      }
    }
    const canvas = document.createElement('canvas');
    canvas.width = 140; canvas.height = 140;
    const ctx = canvas.getContext('2d');
    const image = new ImageData(140, 140);
    const bare = [];
    // One putImageData is below the page's timer resolution (0.1 ms): time 20 and take the mean.
    for (let i = 0; i < 120; i++) {
      image.data.fill(i);
      const t0 = performance.now();
      for (let k = 0; k < 20; k++) ctx.putImageData(image, 0, 0);
      bare.push((performance.now() - t0) / 20);
    }
    return { shown, withSpectrum, bare };
  })()`);
}

async function main(): Promise<void> {
  const runsDir = mkdtempSync(join(tmpdir(), 'l3m-bench-panels-'));
  const host = await startPanelHost();
  try {
    // `--inspector-frames`: only the inspector's slider-drag and synced-zoom frame times.
    if (process.argv.includes('--inspector-frames')) {
      const report = inspectorFrameReport(await inspectorFrames(host, runsDir));
      for (const line of report.lines) console.log(line);
      console.log(JSON.stringify({ bench: 'panels', ...report.json }));
      return;
    }
    // `--side-view`: only the inspector's frame work with the side view (slice drag against row drag).
    if (process.argv.includes('--side-view')) {
      const report = inspectorSideViewReport(await inspectorSideView(host, runsDir));
      for (const line of report.lines) console.log(line);
      console.log(JSON.stringify({ bench: 'panels', ...report.json }));
      return;
    }
    // `--compare [--against <commit>]`: only the compare page's first paint with 20 runs (and its
    // 2-run reference), with that commit's compare page on the same runs when one is named.
    if (process.argv.includes('--compare')) {
      const against = process.argv.includes('--against') ? process.argv[process.argv.indexOf('--against') + 1] : null;
      const problem = against === null ? null : await buildBaseline(against, 'compare');
      const baseline =
        against !== null && problem === null ? { bundle: 'baseline-compare', commit: against } : undefined;
      const report = compareFirstPaintReport(await compareFirstPaint(host, runsDir, baseline));
      if (problem !== null) console.log(`Baseline skipped: ${problem}.`);
      for (const line of report.lines) console.log(line);
      console.log(JSON.stringify({ bench: 'panels', ...report.json }));
      return;
    }
    // `--catch-up`: only a hidden monitor's catch-up on 10k missed steps (and its references).
    if (process.argv.includes('--catch-up')) {
      const report = monitorCatchUpReport(await monitorCatchUp(host, runsDir));
      for (const line of report.lines) console.log(line);
      console.log(JSON.stringify({ bench: 'panels', ...report.json }));
      return;
    }
    // `--monitor [--against <commit>]`: only the monitor's first paint and streaming at 100k and 1k
    // points, with the monitor of another commit on the same data as the reference when one is named.
    if (process.argv.includes('--monitor')) {
      const against = process.argv[process.argv.indexOf('--against') + 1];
      const problem = process.argv.includes('--against') ? await buildBaseline(against) : 'no --against commit';
      const reference = problem === null ? await monitorFigures(host, runsDir, 100_000, 'baseline-monitor') : null;
      const big = await monitorFigures(host, runsDir, 100_000);
      const small = await monitorFigures(host, runsDir, 1_000);
      const paint = stats(big.paints);
      const work = stats(big.stream.work);
      console.log(
        `Monitor first paint, 100k points per curve: median ${paint.p50.toFixed(1)} ms; at 1k points ${stats(small.paints).p50.toFixed(1)} ms. Streaming onto 100k points: render work per frame p95 ${work.p95.toFixed(1)} ms (mean ${work.mean.toFixed(1)} ms); at 1k points p95 ${stats(small.stream.work).p95.toFixed(1)} ms.`,
      );
      console.log(
        reference
          ? `Reference, the monitor of ${against} on the same data: first paint median ${stats(reference.paints).p50.toFixed(1)} ms, streaming frame work p95 ${stats(reference.stream.work).p95.toFixed(1)} ms (mean ${stats(reference.stream.work).mean.toFixed(1)} ms).`
          : `Reference skipped: ${problem}.`,
      );
      console.log(
        JSON.stringify({
          bench: 'panels',
          monitor_first_paint_100k_ms: +paint.p50.toFixed(2),
          monitor_first_paint_1k_ms: +stats(small.paints).p50.toFixed(2),
          stream_frame_work_p95_ms: +work.p95.toFixed(2),
          stream_frame_work_1k_p95_ms: +stats(small.stream.work).p95.toFixed(2),
          reference_commit: reference ? against : null,
          reference_first_paint_100k_ms: reference ? +stats(reference.paints).p50.toFixed(2) : null,
          reference_stream_frame_work_p95_ms: reference ? +stats(reference.stream.work).p95.toFixed(2) : null,
        }),
      );
      return;
    }
    const baselineProblem = await buildBaseline();
    const big = await monitorFigures(host, runsDir, 100_000);
    const before = baselineProblem === null ? await monitorFigures(host, runsDir, 100_000, 'baseline-monitor') : null;
    const small = await monitorFigures(host, runsDir, 1_000);
    const inspector = await inspectorFigures(host, runsDir);
    const frames = inspectorFrameReport(await inspectorFrames(host, runsDir));
    const catchUp = monitorCatchUpReport(await monitorCatchUp(host, runsDir));
    const compare = compareFirstPaintReport(await compareFirstPaint(host, runsDir));
    const sideView = inspectorSideViewReport(await inspectorSideView(host, runsDir));
    const paint = stats(big.paints);
    const paintSmall = stats(small.paints);
    const work = stats(big.stream.work);
    const workSmall = stats(small.stream.work);
    const intervals = stats(big.stream.intervals);
    const shown = stats(inspector.shown);
    const spectrum = stats(inspector.withSpectrum);
    const bare = stats(inspector.bare);
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const paintBefore = before ? stats(before.paints) : null;
    const workBefore = before ? stats(before.stream.work) : null;
    console.log(
      'Chromium headless (software rendering), CPU shared with other work; 3 charts × (train raw + smoothed, val raw + smoothed).',
    );
    console.log(
      `Monitor first paint, 100k points per curve: median ${ms(paint.p50)} (runs ${big.paints.map(ms).join(', ')}); at 1k points ${ms(paintSmall.p50)}; ratio ${(paint.p50 / paintSmall.p50).toFixed(1)}×. Goal < 200 ms: ${paint.p50 < 200 ? 'met' : 'NOT met'}.`,
    );
    console.log(
      `Monitor streaming ${big.stream.updates} updates at 50/s onto 100k points (${big.stream.work.length} frames drawn, now ${big.stream.points} points, ${big.stream.drawn} after min/max decimation): render work per frame mean ${ms(work.mean)}, p95 ${ms(work.p95)}, max ${ms(work.max)}; frame interval p95 ${ms(intervals.p95)}; at 1k points p95 ${ms(workSmall.p95)}. Goal < 16 ms: ${work.p95 < 16 ? 'met' : 'NOT met'}.`,
    );
    if (paintBefore && workBefore && before) {
      console.log(
        `Baseline, the monitor of commit ${baselineCommit} (number|null arrays merged on x at full size) on the same data: first paint median ${ms(paintBefore.p50)} (runs ${before.paints.map(ms).join(', ')}), now ${ms(paint.p50)}: ${(paintBefore.p50 / paint.p50).toFixed(2)}× faster; streaming frame work p95 ${ms(workBefore.p95)} (mean ${ms(workBefore.mean)}), now ${ms(work.p95)}: ${(workBefore.p95 / work.p95).toFixed(2)}× faster.`,
      );
    } else console.log(`Baseline skipped: ${baselineProblem}.`);
    console.log(
      `Inspector slice 140×140 after the slider moves: median ${ms(shown.p50)}, p95 ${ms(shown.p95)}; with the two power spectra and the next frame p95 ${ms(spectrum.p95)}; bare putImageData p50 ${bare.p50.toFixed(3)} ms (ratio ${(shown.p50 / Math.max(bare.p50, 0.001)).toFixed(1)}×). Goal < 30 ms: ${shown.p95 < 30 ? 'met' : 'NOT met'}.`,
    );
    for (const line of frames.lines) console.log(line);
    for (const line of catchUp.lines) console.log(line);
    for (const line of compare.lines) console.log(line);
    for (const line of sideView.lines) console.log(line);
    console.log(
      JSON.stringify({
        bench: 'panels',
        ...frames.json,
        ...catchUp.json,
        ...compare.json,
        ...sideView.json,
        monitor_first_paint_100k_ms: +paint.p50.toFixed(2),
        monitor_first_paint_1k_ms: +paintSmall.p50.toFixed(2),
        baseline_commit: paintBefore ? baselineCommit : null,
        baseline_first_paint_100k_ms: paintBefore ? +paintBefore.p50.toFixed(2) : null,
        first_paint_speedup: paintBefore ? +(paintBefore.p50 / paint.p50).toFixed(2) : null,
        baseline_stream_frame_work_p95_ms: workBefore ? +workBefore.p95.toFixed(2) : null,
        stream_frame_speedup_p95: workBefore ? +(workBefore.p95 / work.p95).toFixed(2) : null,
        stream_frame_work_mean_ms: +work.mean.toFixed(2),
        stream_frame_work_p95_ms: +work.p95.toFixed(2),
        stream_frame_work_max_ms: +work.max.toFixed(2),
        stream_frame_work_1k_p95_ms: +workSmall.p95.toFixed(2),
        stream_frame_interval_p95_ms: +intervals.p95.toFixed(2),
        stream_updates: big.stream.updates,
        stream_frames: big.stream.work.length,
        inspector_slice_p50_ms: +shown.p50.toFixed(2),
        inspector_slice_p95_ms: +shown.p95.toFixed(2),
        inspector_with_spectrum_p95_ms: +spectrum.p95.toFixed(2),
        bare_put_image_p50_ms: +bare.p50.toFixed(3),
        goals: { first_paint_ms: 200, frame_ms: 16, slice_ms: 30 },
        goals_met: { first_paint: paint.p50 < 200, frame: work.p95 < 16, slice: shown.p95 < 30 },
      }),
    );
  } finally {
    await host.close();
    rmSync(runsDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench panels: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
