// Best so far on a chart: for a metric with a direction (its minimum for a loss, its maximum for R²
// or coverage; group_stats.ts declares which), each curve's best raw value and the x where it was
// first reached, marked on the plot with a ring and written under the chart. The raw values count,
// not the smoothed curve drawn over them: the best checkpoint is chosen on raw values too.
import type uPlot from 'uplot';
import type { MetricDirection } from '../../sidecar/protocol/group_stats';

export interface BestPoint {
  x: number;
  y: number;
}

export interface CurveBest {
  /** The curve's name in the text (a split, a run). */
  label: string;
  color: string;
  /** 1-based uPlot series index whose visibility the marker follows. */
  series: number;
  point: BestPoint;
}

/**
 * The best finite value of y in the direction and the first x where it occurs; null when there is
 * none. `from` and `start` continue an earlier scan of y[0, from) that found `start`.
 */
export function bestPoint(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  direction: MetricDirection,
  from = 0,
  start: BestPoint | null = null,
): BestPoint | null {
  // The best index is tracked and the point made once at the end: a falling loss improves at
  // thousands of steps, and an object per improvement is garbage on the compare page's first paint.
  let at = -1;
  let bestY = start?.y ?? NaN;
  const min = direction === 'min';
  for (let i = from; i < y.length; i++) {
    const v = y[i];
    if (!(v - v === 0)) continue;
    if ((at < 0 && start === null) || (min ? v < bestY : v > bestY)) {
      at = i;
      bestY = v;
    }
  }
  return at < 0 ? start : { x: x[at], y: bestY };
}

/** Curves listed one by one up to this many; past it the text names the overall best only. */
const listedCurves = 4;

/** The line under a chart: "Best (min): train 0.31 at step 240 · val 0.35 at step 250". */
export function bestText(
  bests: CurveBest[],
  direction: MetricDirection,
  xLabel: string,
  format: (v: number) => string,
  formatX: (x: number) => string,
): string {
  if (bests.length === 0) return '';
  const one = (b: CurveBest) => `${b.label} ${format(b.point.y)} at ${xLabel} ${formatX(b.point.x)}`;
  const head = `Best (${direction}):`;
  if (bests.length <= listedCurves) return `${head} ${bests.map(one).join(' · ')}`;
  const overall = bests.reduce((a, b) =>
    (direction === 'min' ? b.point.y < a.point.y : b.point.y > a.point.y) ? b : a,
  );
  return `${head} ${one(overall)} (best of ${bests.length} curves; each curve's best is ringed)`;
}

/** Draws a ring at each shown curve's best point that lies in view. */
export function bestMarkers(bests: () => CurveBest[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          // Canvas pixels per CSS pixel (uPlot draws at the device pixel ratio).
          const ratio = u.bbox.width / Math.max(1, u.over.clientWidth) || 1;
          ctx.save();
          ctx.beginPath();
          ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
          ctx.clip();
          ctx.lineWidth = 2 * ratio;
          for (const b of bests()) {
            if (!u.series[b.series]?.show) continue;
            const cx = u.valToPos(b.point.x, 'x', true);
            const cy = u.valToPos(b.point.y, 'y', true);
            if (!Number.isFinite(cx) || !Number.isFinite(cy)) continue;
            ctx.strokeStyle = b.color;
            ctx.beginPath();
            ctx.arc(cx, cy, 5 * ratio, 0, 2 * Math.PI);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  };
}
