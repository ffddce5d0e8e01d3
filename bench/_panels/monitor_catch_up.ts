// bench/panels, catching up a hidden monitor: VS Code drops a monitor page hidden behind another tab
// (the panels do not keep their context while hidden), so when the tab is shown again the page loads
// afresh, the host reads the whole metrics.jsonl with the extension's own reader (run_data.ts
// monitorInit) and posts it, and the page draws it. The run had 10k training steps when the monitor
// was hidden and wrote 10k more while it was: catch-up is the host's read plus the page's first paint
// with all 20k points, from posting the message to the last chart's draw. References measured in the
// same run, on the same page and browser: the first paint of the 10k points the monitor showed before
// it was hidden, and a page that stayed alive and received the 10k missed records as one live append
// (what the follower posts after reading a window), from posting it to the last draw.
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { monitorAppend, monitorInit } from '../../extension/panels/run_data';
import { stash, type startPanelHost } from '../../test/browser/panel_host';
import { trainingRecords, writeMetrics, writeRun } from '../../test/browser/run_fixtures';

type Host = Awaited<ReturnType<typeof startPanelHost>>;

export interface CatchUpFigures {
  /** Host: monitorInit of the 20k-step file, ms per round. */
  hostRead: number[];
  /** Page: first paint of the 20k steps, ms per round. */
  paint: number[];
  /** Reference: first paint of the 10k steps shown before hiding, ms per round. */
  paintBefore: number[];
  /** Reference: a live page drawing the 10k missed records posted as one append, ms per round. */
  liveAppend: number[];
  missed: number;
}

const shownBefore = 10_000;
const missed = 10_000;
const rounds = 3;

/** Posts window[name] and resolves with the ms until the loss chart holds `points` and the last draw mark after it. */
function postAndDraw(page: Page, name: string, points: number): Promise<number> {
  return page.evaluate(`new Promise((resolve) => {
    window.l3mBenchmark = true;
    performance.clearMarks();
    const t0 = performance.now();
    window.postMessage(window.${name}, '*');
    const check = () => {
      const loss = window.l3mPanel.charts().find((c) => c.metric === 'loss');
      if (loss && loss.points >= ${points} && performance.getEntriesByName('l3m-chart-draw').length > 0) {
        setTimeout(() => {
          const draws = performance.getEntriesByName('l3m-chart-draw');
          resolve(draws[draws.length - 1].startTime - t0);
        });
      } else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  })`);
}

export async function monitorCatchUp(host: Host, runsDir: string): Promise<CatchUpFigures> {
  const all = trainingRecords(shownBefore + missed, 100);
  const beforeDir = writeRun(runsDir, 'bench', 'catch-up-before', 'generation', {}, 'running');
  const afterDir = writeRun(runsDir, 'bench', 'catch-up-after', 'generation', {}, 'running');
  const cut = all.findIndex((r) => r.step > shownBefore);
  writeMetrics(beforeDir, all.slice(0, cut));
  writeMetrics(afterDir, all);
  const figures: CatchUpFigures = { hostRead: [], paint: [], paintBefore: [], liveAppend: [], missed };
  const before = (await monitorInit(beforeDir)).message;
  const append = await monitorAppend(beforeDir, all.slice(cut), []);
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const { message } = await monitorInit(afterDir);
    figures.hostRead.push(performance.now() - t0);
    const shown = await host.open('monitor', { width: 1400, height: 900 });
    await stash(shown, '__catchUp', message);
    figures.paint.push(await postAndDraw(shown, '__catchUp', shownBefore + missed));
    await shown.close();

    const live = await host.open('monitor', { width: 1400, height: 900 });
    await stash(live, '__before', before);
    figures.paintBefore.push(await postAndDraw(live, '__before', shownBefore));
    await stash(live, '__missed', append);
    figures.liveAppend.push(await postAndDraw(live, '__missed', shownBefore + missed));
    await live.close();
  }
  return figures;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function monitorCatchUpReport(f: CatchUpFigures): { lines: string[]; json: Record<string, unknown> } {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const catchUp = f.hostRead.map((read, i) => read + f.paint[i]);
  const total = median(catchUp);
  return {
    lines: [
      `Monitor catch-up after being hidden while the run wrote ${f.missed.toLocaleString('en-US')} steps (20k in all): host read ${ms(median(f.hostRead))} + first paint ${ms(median(f.paint))} = ${ms(total)} (runs ${catchUp.map(ms).join(', ')}). Goal < 200 ms: ${total < 200 ? 'met' : 'NOT met'}.`,
      `References, same run: first paint of the 10k steps shown before hiding ${ms(median(f.paintBefore))}; a page kept alive drawing the 10k missed steps as one append ${ms(median(f.liveAppend))}.`,
    ],
    json: {
      monitor_catch_up_missed_points: f.missed,
      monitor_catch_up_ms: +total.toFixed(2),
      monitor_catch_up_host_read_ms: +median(f.hostRead).toFixed(2),
      monitor_catch_up_paint_ms: +median(f.paint).toFixed(2),
      monitor_catch_up_reference_paint_10k_ms: +median(f.paintBefore).toFixed(2),
      monitor_catch_up_reference_live_append_ms: +median(f.liveAppend).toFixed(2),
      monitor_catch_up_goal_met: total < 200,
    },
  };
}
