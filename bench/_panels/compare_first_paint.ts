// bench/panels, compare: time to first paint of the compare page with 20 runs of 10k training steps
// each (four charts: train loss, learning rate and throughput, validation loss; every run a raw and a
// smoothed curve in each, plus the legend, the metrics table with best-so-far values and the config
// table), from posting compare/runs (the message as the extension builds it, from real run folders)
// to the last chart's draw. Goal < 200 ms. The reference, measured in the same run on the same page
// and browser: 2 runs of 10k steps, so the figure shows what 18 more runs cost. With a baseline
// bundle (bench/panels `--compare --against <commit>`: that commit's compare page, built from git),
// the 20 runs are timed on it too, round for round alternating with the current page, so that both
// figures see the same load on a shared machine.
import type { Page } from 'playwright-core';
import { compareRun } from '../../extension/panels/run_data';
import type { PanelHost } from '../../test/browser/panel_host';
import type { HostMessage } from '../../webview/shared/panel_protocol';
import { stash } from '../../test/browser/panel_host';
import { trainingRecords, writeMetrics, writeRun } from '../../test/browser/run_fixtures';

const steps = 10_000;

/** ms after posting: the last chart draw, and the render's start, its charts set, its end (tables and legend done). */
interface Paint {
  paint: number;
  start: number;
  charts: number;
  end: number;
}
const rounds = 3;

/** First paint in ms: post the stashed compare/runs, wait until every chart holds its runs, read the last draw mark. */
function firstPaint(page: Page, runs: number): Promise<Paint> {
  return page.evaluate<Paint>(`new Promise((resolve) => {
    window.l3mBenchmark = true;
    performance.clearMarks();
    const t0 = performance.now();
    window.postMessage(window.__benchCompare, '*');
    const check = () => {
      const charts = window.l3mPanel.charts();
      const ready = charts.length === 4 && charts.every((c) => c.uplot && c.uplot.series.length === 1 + 2 * ${runs} && c.uplot.data[0].length > 0);
      if (ready && performance.getEntriesByName('l3m-chart-draw').length >= 4) {
        setTimeout(() => {
          const draws = performance.getEntriesByName('l3m-chart-draw');
          const at = (name) => (performance.getEntriesByName(name)[0]?.startTime ?? NaN) - t0;
          resolve({ paint: draws[draws.length - 1].startTime - t0, start: at('l3m-render-start'), charts: at('l3m-charts-set'), end: at('l3m-render-end') });
        });
      } else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  })`);
}

/** The compare/runs message for `count` runs of `steps` steps, from real run folders. */
async function runsMessage(runsDir: string, count: number): Promise<HostMessage> {
  const runDirs = Array.from({ length: count }, (_, i) => {
    const runDir = writeRun(
      runsDir,
      `compare-${count}`,
      `20261201-12${String(i).padStart(4, '0')}-ee00`,
      'regression',
      {
        task: 'regression',
        training: { unit: 'steps', steps, lr: 0.001 * (1 + (i % 5)), seed: i },
      },
    );
    writeMetrics(runDir, trainingRecords(steps, 100, i + 1, 1 + i / 50));
    return runDir;
  });
  return { type: 'compare/runs' as const, runs: await Promise.all(runDirs.map(compareRun)) };
}

async function paintOnce(host: PanelHost, message: HostMessage, count: number, bundle?: string): Promise<Paint> {
  const page = await host.open('compare', { width: 1400, height: 900, bundle });
  try {
    await stash(page, '__benchCompare', message);
    return await firstPaint(page, count);
  } finally {
    await page.close();
  }
}

export interface CompareFirstPaint {
  /** Per round, ms. */
  twenty: Paint[];
  two: Paint[];
  /** The baseline bundle's 20-run paints, and its commit; absent without one. */
  baseline?: { commit: string; twenty: Paint[] };
}

/** `baseline`: a bundle under dist/webview/ (without .js) with another commit's compare page, and that commit. */
export async function compareFirstPaint(
  host: PanelHost,
  runsDir: string,
  baseline?: { bundle: string; commit: string },
): Promise<CompareFirstPaint> {
  const twentyRuns = await runsMessage(runsDir, 20);
  const twoRuns = await runsMessage(runsDir, 2);
  const figures: CompareFirstPaint = { twenty: [], two: [] };
  const before: Paint[] = [];
  for (let round = 0; round < rounds; round++) {
    if (baseline) before.push(await paintOnce(host, twentyRuns, 20, baseline.bundle));
    figures.twenty.push(await paintOnce(host, twentyRuns, 20));
  }
  for (let round = 0; round < rounds; round++) figures.two.push(await paintOnce(host, twoRuns, 2));
  if (baseline) figures.baseline = { commit: baseline.commit, twenty: before };
  return figures;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function compareFirstPaintReport(figures: CompareFirstPaint): {
  lines: string[];
  json: Record<string, unknown>;
} {
  const of = (paints: Paint[], key: keyof Paint) => median(paints.map((p) => p[key]));
  const twenty = of(figures.twenty, 'paint');
  const two = of(figures.two, 'paint');
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const split = (paints: Paint[]) =>
    `message to render ${ms(of(paints, 'start'))}, charts set up ${ms(of(paints, 'charts') - of(paints, 'start'))}, legend and tables ${ms(of(paints, 'end') - of(paints, 'charts'))}, then the draws`;
  return {
    lines: [
      ...(figures.baseline
        ? [
            `Baseline, the compare page of ${figures.baseline.commit} on the same 20 runs, rounds alternating with the current page: median ${ms(of(figures.baseline.twenty, 'paint'))} (runs ${figures.baseline.twenty.map((p) => ms(p.paint)).join(', ')}; ${split(figures.baseline.twenty)}); now ${(of(figures.baseline.twenty, 'paint') / twenty).toFixed(2)}× faster.`,
          ]
        : []),
      `Compare first paint, 20 runs × ${steps / 1000}k steps (4 charts, raw + smoothed per run): median ${ms(twenty)} (runs ${figures.twenty.map((p) => ms(p.paint)).join(', ')}; ${split(figures.twenty)}); reference 2 runs × ${steps / 1000}k: ${ms(two)} (${split(figures.two)}); ratio ${(twenty / two).toFixed(1)}×. Goal < 200 ms: ${twenty < 200 ? 'met' : 'NOT met'}.`,
    ],
    json: {
      compare_first_paint_20x10k_ms: +twenty.toFixed(2),
      compare_first_paint_2x10k_ms: +two.toFixed(2),
      compare_render_20x10k_ms: +(of(figures.twenty, 'end') - of(figures.twenty, 'start')).toFixed(2),
      compare_first_paint_goal_met: twenty < 200,
      ...(figures.baseline
        ? {
            compare_first_paint_20x10k_baseline_ms: +of(figures.baseline.twenty, 'paint').toFixed(2),
            compare_baseline_commit: figures.baseline.commit,
          }
        : {}),
    },
  };
}
