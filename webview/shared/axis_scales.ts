// The scales a chart axis can have: linear, logarithmic, or symmetric-log. A log axis cannot show a
// value ≤ 0 (the regression task's NLL is negative, and an epoch axis starts at 0), so the chart
// counts what it leaves out and says so; symlog (uPlot's arcsinh distribution) is linear near zero
// and logarithmic beyond, and shows every value. Tick labels on log and symlog axes stand at the
// decades, as a reader of a loss curve over three decades of steps expects.
import uPlot from 'uplot';

export type AxisScale = 'linear' | 'log' | 'symlog';

export const axisScaleChoices: [AxisScale, string][] = [
  ['linear', 'Linear'],
  ['log', 'Log'],
  ['symlog', 'Symlog'],
];

/** Whether a value kept from an older page state is a scale. */
export function isAxisScale(value: unknown): value is AxisScale {
  return value === 'linear' || value === 'log' || value === 'symlog';
}

/**
 * The width of symlog's linear zone around zero: the power of ten at or below the smallest non-zero
 * |value| that a tenth of the values reach, so that the bulk of a curve lies in the logarithmic part
 * and a few values near zero do not squash it. 1 when there is nothing to go by.
 */
export function symlogLinearZone(columns: ArrayLike<number>[]): number {
  const magnitudes: number[] = [];
  for (const column of columns)
    for (let i = 0; i < column.length; i++) {
      const a = Math.abs(column[i]);
      if (a > 0 && a < Infinity) magnitudes.push(a);
    }
  if (magnitudes.length === 0) return 1;
  magnitudes.sort((a, b) => a - b);
  const tenth = magnitudes[Math.floor(magnitudes.length / 10)];
  return 10 ** Math.floor(Math.log10(tenth));
}

/**
 * uPlot's scale options for an axis of a scale kind; `linearZone` is symlog's (see symlogLinearZone).
 * The range is the user's while `userRange()` gives one (a zoom, kept while new data arrive); else x
 * spans the data exactly, and y fits the data as uPlot does: padded on a linear axis, widened to
 * whole decades on a log or symlog one.
 */
export function scaleOptions(
  kind: AxisScale,
  axis: 'x' | 'y',
  linearZone = 1,
  userRange: () => { min: number; max: number } | null = () => null,
): uPlot.Scale {
  const fit = (min: number, max: number): uPlot.Range.MinMax => {
    if (axis === 'x' && min !== max) return [min, max];
    if (kind === 'log') return uPlot.rangeLog(min, max, 10, true);
    if (kind === 'symlog') return uPlot.rangeAsinh(min, max, 10, true);
    return uPlot.rangeNum(min, max, 0.1, true);
  };
  const range: uPlot.Scale.Range = (_u, min, max) => {
    const user = userRange();
    if (user) return [user.min, user.max];
    return min === null || max === null ? [min, max] : fit(min, max);
  };
  if (kind === 'log') return { distr: 3, log: 10, range };
  if (kind === 'symlog') return { distr: 4, log: 10, asinh: linearZone, range };
  return { range };
}

/** How many values of the columns a log axis leaves out (finite and ≤ 0). */
export function countNonPositive(columns: ArrayLike<number>[]): number {
  let n = 0;
  for (const column of columns)
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      if (v <= 0) n++;
    }
  return n;
}

function isDecade(v: number): boolean {
  if (v === 0) return true;
  const e = Math.log10(Math.abs(v));
  return Math.abs(e - Math.round(e)) < 1e-9;
}

/**
 * Tick labels of a log or symlog axis: the decades only, when at least two are in view (the ticks
 * between them stay as unlabelled grid lines); with fewer, every tick keeps its label. uPlot's
 * symlog ticks can lie past the ends of the range, where a label would stand beside no plot.
 */
export function logTickLabels(
  splits: number[],
  format: (v: number) => string,
  range: { min?: number; max?: number } = {},
): string[] {
  const lo = range.min ?? -Infinity;
  const hi = range.max ?? Infinity;
  const slack = 1e-9 * Math.max(Math.abs(lo), Math.abs(hi), 1e-300);
  const inView = (v: number) => v >= lo - slack && v <= hi + slack;
  const decades = splits.filter((v) => v !== null && inView(v) && isDecade(v)).length;
  return splits.map((v) => (v === null || !inView(v) ? '' : decades < 2 || isDecade(v) ? format(v) : ''));
}

/** A sentence about what a log axis leaves out, or null when it leaves out nothing. */
export function hiddenByLogNote(axis: 'x' | 'y', hidden: number, total: number): string | null {
  if (hidden === 0) return null;
  const values = `${hidden} of ${total} value${total === 1 ? '' : 's'}`;
  return axis === 'y'
    ? `Log y: ${values} ≤ 0 not drawn; choose Symlog to see them.`
    : `Log x: ${values} at x ≤ 0 not drawn.`;
}
