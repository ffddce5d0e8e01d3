// bench/panels, the inspector's side view on a 140 × 140 sample of 160 slices in real Chromium: the
// main-thread work per frame while the slice slider is dragged (three slice panels, axes, the global
// signal's marker, the spectra's request; the side view only moves its marker, its cuts are kept),
// and, on the same page in the same run, while the side view's row slider is dragged, where every
// frame cuts both cones again and paints them: the side view's own cost, which each slice step would
// add if the cuts were not kept. A frame's work is the input handler's time plus the style and layout
// it forces.
import { cpus, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { inspectorInit, inspectorSample } from '../../extension/panels/run_data';
import { deliver, startPanelHost } from '../../test/browser/panel_host';
import { writeRun, writeSamples } from '../../test/browser/run_fixtures';

export interface SideViewFigures {
  /** Work per frame of a slice-slider drag, ms. */
  slice: number[];
  /** Work per frame of a row-slider drag (both cuts cut and painted again each frame), ms. */
  row: number[];
  slices: number;
  cells: number;
  loadAverage: number;
}

const slices = 160;
const cells = 140;
const frames = 90;

/** Drags `selector`'s range input over `values`, one step per animation frame; the work of each frame. */
function drag(page: Page, selector: string, values: number[]): Promise<number[]> {
  return page.evaluate(`(async () => {
    const input = document.querySelector(${JSON.stringify(selector)});
    const values = ${JSON.stringify(values)};
    const work = [];
    await new Promise((resolve) => {
      let i = 0;
      const tick = () => {
        if (i >= values.length) return resolve();
        const t0 = performance.now();
        input.value = String(values[i]);
        input.dispatchEvent(new Event('input'));
        void document.body.offsetHeight;
        work.push(performance.now() - t0);
        i++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    return work;
  })()`);
}

export async function inspectorSideView(
  host: Awaited<ReturnType<typeof startPanelHost>>,
  runsDir: string,
): Promise<SideViewFigures> {
  const runDir = writeRun(runsDir, 'bench', 'inspector-side-view', 'generation', {});
  writeSamples(runDir, slices, cells);
  const init = await inspectorInit(runDir);
  const page = await host.open('inspector', { width: 1400, height: 1200 });
  try {
    await deliver(page, init);
    await deliver(page, await inspectorSample(runDir, init.samples, 0));
    // A function, not a string: the page's policy (no unsafe-eval) refuses a string to evaluate.
    await page.waitForFunction(
      (max) =>
        (
          globalThis as unknown as { document: { querySelector(s: string): { max: string } | null } }
        ).document.querySelector('input.slice-slider')?.max === max,
      String(slices - 1),
    );
    const sliceSteps = Array.from({ length: frames }, (_, i) => (i * 7) % slices);
    const rowSteps = Array.from({ length: frames }, (_, i) => (i * 5) % cells);
    // Warm both paths first, so that neither measured drag pays for compiling the code.
    await drag(page, 'input.slice-slider', sliceSteps.slice(0, 10));
    await drag(page, '.side-view input', rowSteps.slice(0, 10));
    const slice: number[] = [];
    const row: number[] = [];
    // Alternating halves, so that both meet the same load on a shared machine.
    for (const half of [0, 1]) {
      const part = (steps: number[]) => steps.slice((half * frames) / 2, ((half + 1) * frames) / 2);
      slice.push(...(await drag(page, 'input.slice-slider', part(sliceSteps))));
      row.push(...(await drag(page, '.side-view input', part(rowSteps))));
    }
    return { slice, row, slices, cells, loadAverage: loadavg()[0] };
  } finally {
    await page.close();
  }
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** The lines for a person and the fields of bench/panels' JSON line. */
export function inspectorSideViewReport(f: SideViewFigures): { lines: string[]; json: Record<string, unknown> } {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const slice = quantile(f.slice, 0.95);
  const row = quantile(f.row, 0.95);
  return {
    lines: [
      `Inspector with the side view, ${f.cells}×${f.cells} × ${f.slices} slices, one step per frame (${f.slice.length} frames each): slice-slider drag (cuts kept, marker moved) work per frame p95 ${ms(slice)} (median ${ms(quantile(f.slice, 0.5))}); row-slider drag (both cuts made and painted again each frame: the side view's own cost, which a slice step would add without kept cuts) p95 ${ms(row)} (median ${ms(quantile(f.row, 0.5))}). Goal < 16 ms: ${slice < 16 ? 'met' : 'NOT met'}. Load average ${f.loadAverage.toFixed(1)} on ${cpus().length} cores.`,
    ],
    json: {
      inspector_side_view_slice_frame_p95_ms: +slice.toFixed(2),
      inspector_side_view_slice_frame_median_ms: +quantile(f.slice, 0.5).toFixed(2),
      inspector_side_view_row_frame_p95_ms: +row.toFixed(2),
      inspector_side_view_row_frame_median_ms: +quantile(f.row, 0.5).toFixed(2),
      inspector_side_view_goal_met: slice < 16,
    },
  };
}
