// bench/panels, the inspector's frame time on a 140 × 140 sample of 40 slices in real Chromium:
//  - dragging the slice slider, one slider step per animation frame as a drag delivers them, with the
//    power spectra in the page's worker, against the spectra on the page's own thread measured on the
//    same page in the same run (the spectrum client's fallback, chosen for the reference);
//  - zooming and panning, synced over the three views, one wheel or pointer event per frame.
// A frame's work is the main thread's time for that frame's event (its handler and the style and
// layout it forces) plus the spectrum work run on the main thread before the next frame (computing
// the spectra on the reference; only drawing the worker's answer otherwise), from the page's
// performance marks. Frame intervals (requestAnimationFrame to requestAnimationFrame) are reported
// beside them; headless Chromium paces frames at 60 Hz, so they cannot go under about 16.7 ms.
import { cpus, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { inspectorInit, inspectorSample } from '../../extension/panels/run_data';
import { deliver, startPanelHost } from '../../test/browser/panel_host';
import { writeRun, writeSamples } from '../../test/browser/run_fixtures';

export interface FrameTimes {
  /** Main-thread work per frame, ms. */
  work: number[];
  /** Time between consecutive animation frames, ms. */
  intervals: number[];
}

export interface InspectorFrameFigures {
  sliderWorker: FrameTimes;
  sliderMainThread: FrameTimes;
  zoom: FrameTimes;
  /** Where the spectra were computed in the worker run ('worker' unless the page could not start one). */
  workerMode: string;
  /** The machine's 1-minute load average at the end: frame times on a shared machine read against it. */
  loadAverage: number;
}

const slices = 40;
const cells = 140;
const framesPerRun = 120;
/** The drag is measured in rounds alternating worker and main thread, so both meet the same load on a shared machine. */
const rounds = 3;

/** Drags the slider over the slices for `frames` frames with the spectra computed by `mode`. */
function sliderDrag(
  page: Page,
  mode: 'worker' | 'main-thread',
  frames: number,
): Promise<FrameTimes & { mode: string }> {
  return page.evaluate(`(async () => {
    window.l3mBenchmark = true;
    window.l3mPanel.useSpectrumMode(${JSON.stringify(mode)});
    const slider = document.querySelector('input.slice-slider');
    const ticks = [];
    const handlers = [];
    performance.clearMarks();
    await new Promise((resolve) => {
      let i = 0;
      const tick = () => {
        ticks.push(performance.now());
        if (i >= ${frames}) return resolve();
        const t0 = performance.now();
        slider.value = String((i * 3) % ${slices});
        slider.dispatchEvent(new Event('input'));
        void document.body.offsetHeight;
        handlers.push(performance.now() - t0);
        i++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const last = Number(slider.value);
    await new Promise((resolve) => {
      const wait = () => (window.l3mPanel.spectrum().slice === last ? resolve() : requestAnimationFrame(wait));
      wait();
    });
    const starts = performance.getEntriesByName('l3m-spectrum-start').map((e) => e.startTime);
    const ends = performance.getEntriesByName('l3m-spectrum-end').map((e) => e.startTime);
    const work = handlers.map((h, k) => {
      let spectra = 0;
      starts.forEach((s, j) => { if (s >= ticks[k] && s < ticks[k + 1] && ends[j] !== undefined) spectra += ends[j] - s; });
      return h + spectra;
    });
    const intervals = ticks.slice(1).map((t, k) => t - ticks[k]);
    return { work, intervals, mode: window.l3mPanel.spectrum().mode };
  })()`);
}

/** Zooms in and out about moving points, then pans, one event per frame, for `frames` frames. */
function zoomAndPan(page: Page, frames: number): Promise<FrameTimes> {
  return page.evaluate(`(async () => {
    const viewport = document.querySelector('.slice-viewport');
    const box = viewport.getBoundingClientRect();
    const ticks = [];
    const work = [];
    await new Promise((resolve) => {
      let i = 0;
      const tick = () => {
        ticks.push(performance.now());
        if (i >= ${frames}) return resolve();
        const phase = i % 40;
        const x = box.left + box.width * (0.2 + 0.6 * ((i * 7) % 11) / 10);
        const y = box.top + box.height * (0.2 + 0.6 * ((i * 3) % 7) / 6);
        const t0 = performance.now();
        if (phase < 20) {
          viewport.dispatchEvent(new WheelEvent('wheel', { deltaY: phase < 10 ? -100 : 100, clientX: x, clientY: y, bubbles: true, cancelable: true }));
        } else {
          if (phase === 20) viewport.dispatchEvent(new PointerEvent('pointerdown', { pointerId: 7, button: 0, clientX: x, clientY: y, bubbles: true }));
          viewport.dispatchEvent(new PointerEvent('pointermove', { pointerId: 7, clientX: x - (phase - 20) * 3, clientY: y - (phase - 20) * 2, bubbles: true }));
          if (phase === 39) viewport.dispatchEvent(new PointerEvent('pointerup', { pointerId: 7, button: 0, bubbles: true }));
        }
        void document.body.offsetHeight;
        work.push(performance.now() - t0);
        i++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    return { work, intervals: ticks.slice(1).map((t, k) => t - ticks[k]) };
  })()`);
}

/** Writes a 40-slice 140 × 140 sample, opens the inspector on it and measures both drags and the zoom. */
export async function inspectorFrames(
  host: Awaited<ReturnType<typeof startPanelHost>>,
  runsDir: string,
): Promise<InspectorFrameFigures> {
  const runDir = writeRun(runsDir, 'bench', 'inspector-frames', 'generation', {});
  writeSamples(runDir, slices, cells);
  const init = await inspectorInit(runDir);
  const page = await host.open('inspector', { width: 1400, height: 1000 });
  try {
    await deliver(page, init);
    await deliver(page, await inspectorSample(runDir, init.samples, 0));
    // A function, not a string: a string is evaluated in the page, which its policy (no unsafe-eval) refuses.
    await page.waitForFunction(
      (max) =>
        (
          globalThis as unknown as { document: { querySelector(s: string): { max: string } | null } }
        ).document.querySelector('input.slice-slider')?.max === max,
      String(slices - 1),
    );
    // A short drag first, so that neither measured run pays for the first compilation of the code.
    await sliderDrag(page, 'worker', 20);
    const sliderWorker: FrameTimes = { work: [], intervals: [] };
    const sliderMainThread: FrameTimes = { work: [], intervals: [] };
    let workerMode = '';
    for (let round = 0; round < rounds; round++) {
      const worker = await sliderDrag(page, 'worker', framesPerRun / rounds);
      workerMode ||= worker.mode;
      const main = await sliderDrag(page, 'main-thread', framesPerRun / rounds);
      for (const [to, from] of [
        [sliderWorker, worker],
        [sliderMainThread, main],
      ] as const) {
        to.work.push(...from.work);
        to.intervals.push(...from.intervals);
      }
    }
    const zoom = await zoomAndPan(page, framesPerRun);
    return { sliderWorker, sliderMainThread, zoom, workerMode, loadAverage: loadavg()[0] };
  } finally {
    await page.close();
  }
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] ?? NaN;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** The lines for a person and the fields of bench/panels' JSON line. */
export function inspectorFrameReport(f: InspectorFrameFigures): { lines: string[]; json: Record<string, unknown> } {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const worker = p95(f.sliderWorker.work);
  const main = p95(f.sliderMainThread.work);
  const zoom = p95(f.zoom.work);
  return {
    lines: [
      `Inspector slider drag, 140×140, one step per frame (${f.sliderWorker.work.length} frames): main-thread work per frame with the spectra in the ${f.workerMode === 'worker' ? 'worker' : `page (${f.workerMode}: no worker)`} p95 ${ms(worker)} (median ${ms(median(f.sliderWorker.work))}), frame interval p95 ${ms(p95(f.sliderWorker.intervals))}; with the spectra on the main thread (same page, same run) p95 ${ms(main)} (median ${ms(median(f.sliderMainThread.work))}), frame interval p95 ${ms(p95(f.sliderMainThread.intervals))}: ${(main / Math.max(worker, 0.001)).toFixed(1)}× less work per frame. Goal < 16 ms: ${worker < 16 ? 'met' : 'NOT met'}.`,
      `Load average ${f.loadAverage.toFixed(1)} on ${cpus().length} cores while measuring the inspector's frames.`,
      `Inspector synced zoom and pan over three 140×140 views, one event per frame (${f.zoom.work.length} frames): work per frame p95 ${ms(zoom)} (median ${ms(median(f.zoom.work))}), frame interval p95 ${ms(p95(f.zoom.intervals))}. Goal < 16 ms: ${zoom < 16 ? 'met' : 'NOT met'}.`,
    ],
    json: {
      inspector_drag_worker_frame_p95_ms: +worker.toFixed(2),
      inspector_drag_main_thread_frame_p95_ms: +main.toFixed(2),
      inspector_drag_worker_interval_p95_ms: +p95(f.sliderWorker.intervals).toFixed(2),
      inspector_drag_main_thread_interval_p95_ms: +p95(f.sliderMainThread.intervals).toFixed(2),
      inspector_spectrum_mode: f.workerMode,
      inspector_zoom_frame_p95_ms: +zoom.toFixed(2),
      inspector_zoom_interval_p95_ms: +p95(f.zoom.intervals).toFixed(2),
      inspector_drag_worker_frame_median_ms: +median(f.sliderWorker.work).toFixed(2),
      inspector_drag_main_thread_frame_median_ms: +median(f.sliderMainThread.work).toFixed(2),
      inspector_zoom_frame_median_ms: +median(f.zoom.work).toFixed(2),
      inspector_frames_load_average: +f.loadAverage.toFixed(2),
      inspector_frame_goals_met: { drag: worker < 16, zoom: zoom < 16 },
    },
  };
}
