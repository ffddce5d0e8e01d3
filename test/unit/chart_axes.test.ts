// The charts' pure parts: symlog's linear zone, decade tick labels, the note of what a log axis
// leaves out, the scales' ranges, best so far in a metric's direction, and metric titles in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type uPlot from 'uplot';
import {
  countNonPositive,
  hiddenByLogNote,
  logTickLabels,
  scaleOptions,
  symlogLinearZone,
} from '../../webview/shared/axis_scales';
import { bestPoint, bestText, type CurveBest } from '../../webview/shared/best_so_far';
import { chartKeyTitle, metricSplitTitle, metricTitle, xAxisTitle } from '../../webview/shared/metric_labels';

test('symlog linear zone: the decade at or below the 10th percentile of the non-zero magnitudes', () => {
  const check = (columns: number[][], expected: number) =>
    assert.equal(symlogLinearZone(columns.map((c) => Float64Array.from(c))), expected, JSON.stringify(columns));
  check([[-3, -2, -1, 0, 0.5, 1, 2, 3, 4, 5]], 0.1);
  check([[0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02]], 0.001);
  check([[NaN, 0, -0]], 1);
  check([], 1);
  check(
    [
      [250, 300],
      [-700, NaN, 1200],
    ],
    100,
  );
});

test('log tick labels stand at the decades in view, or on every tick when fewer than two decades show', () => {
  const f = (v: number) => String(v);
  assert.deepEqual(logTickLabels([1, 2, 5, 10, 20, 50, 100], f), ['1', '', '', '10', '', '', '100']);
  assert.deepEqual(logTickLabels([0.2, 0.5, 1, 2, 5], f), ['0.2', '0.5', '1', '2', '5']);
  assert.deepEqual(logTickLabels([-10, -1, 0, 1, 10], f), ['-10', '-1', '0', '1', '10']);
  // A tick past the end of the range gets no label (uPlot's symlog ticks can lie there).
  assert.deepEqual(logTickLabels([-0.1, 0.1, 1, 10], f, { min: 0.1, max: 10 }), ['', '0.1', '1', '10']);
});

test('a log axis counts what it leaves out and says so', () => {
  assert.equal(countNonPositive([Float64Array.from([1, 0, -2, NaN, 3]), Float64Array.from([-1])]), 3);
  assert.equal(hiddenByLogNote('y', 0, 10), null);
  assert.equal(hiddenByLogNote('y', 3, 10), 'Log y: 3 of 10 values ≤ 0 not drawn; choose Symlog to see them.');
  assert.equal(hiddenByLogNote('x', 1, 1), 'Log x: 1 of 1 value at x ≤ 0 not drawn.');
});

test('scales: the user’s range when zoomed; else x exact, y padded or widened to decades', () => {
  const range = (s: uPlot.Scale, min: number, max: number) =>
    (s.range as (u: unknown, min: number, max: number, key: string) => [number, number])(null, min, max, 'y');
  assert.deepEqual(scaleOptions('log', 'x').distr, 3);
  assert.deepEqual(scaleOptions('symlog', 'y', 0.1).asinh, 0.1);
  assert.deepEqual(range(scaleOptions('log', 'x'), 1, 1200), [1, 1200]);
  assert.deepEqual(range(scaleOptions('log', 'y'), 0.25, 2.3), [0.1, 10]);
  assert.deepEqual(range(scaleOptions('symlog', 'y'), -3, 2.9), [-10, 10]);
  assert.deepEqual(range(scaleOptions('log', 'y'), 1e-3, 1e-3), [1e-4, 1e-2], 'a flat curve gets a decade each way');
  const [lo, hi] = range(scaleOptions('linear', 'y'), 0, 1);
  assert.ok(lo <= 0 && hi >= 1 && hi - lo < 1.5, `linear y padded a little: [${lo}, ${hi}]`);
  const zoomed = scaleOptions('log', 'y', 1, () => ({ min: 0.3, max: 0.7 }));
  assert.deepEqual(range(zoomed, 0.25, 2.3), [0.3, 0.7]);
});

test('best so far: the first extreme finite value in the metric’s direction', () => {
  const x = [10, 20, 30, 40, 50];
  assert.deepEqual(bestPoint(x, [3, 1, NaN, 1, 2], 'min'), { x: 20, y: 1 });
  assert.deepEqual(bestPoint(x, [0.1, 0.5, 0.9, 0.9, Infinity], 'max'), { x: 30, y: 0.9 });
  assert.equal(bestPoint(x, [NaN, NaN, NaN, NaN, NaN], 'min'), null);
  // A scan continued from an earlier one over a prefix finds what a whole scan finds.
  const y = [3, 1, NaN, 0.5, 2];
  assert.deepEqual(bestPoint(x, y, 'min', 3, bestPoint(x.slice(0, 3), y.slice(0, 3), 'min')), bestPoint(x, y, 'min'));
  assert.deepEqual(bestPoint(x, [3, 1, 4, 1, 5], 'min', 2, { x: 20, y: 1 }), { x: 20, y: 1 }, 'a tie keeps the first');
  const best = (label: string, y: number, at: number): CurveBest => ({
    label,
    color: '#000',
    series: 1,
    point: { x: at, y },
  });
  const text = (bests: CurveBest[]) => bestText(bests, 'min', 'step', String, String);
  assert.equal(
    text([best('train', 0.3, 90), best('val', 0.35, 100)]),
    'Best (min): train 0.3 at step 90 · val 0.35 at step 100',
  );
  assert.equal(text([]), '');
  const many = [1, 2, 3, 4, 5].map((k) => best(`run ${k}`, k === 4 ? 0.1 : k, 10 * k));
  assert.equal(text(many), "Best (min): run 4 0.1 at step 40 (best of 5 curves; each curve's best is ringed)");
});

test('metric titles are words with units; an unknown key keeps its name', () => {
  assert.equal(metricTitle('steps_per_s'), 'Throughput (steps/s)');
  assert.equal(metricSplitTitle('steps_per_s', 'train'), 'Throughput (steps/s) · train');
  assert.equal(chartKeyTitle('steps_per_s · train'), 'Throughput (steps/s) · train');
  assert.equal(chartKeyTitle('r2_omegaM · val'), 'R² omegaM · val');
  assert.equal(metricTitle('grad_norm_lora'), 'Gradient norm (lora)');
  assert.equal(metricTitle('coverage95_zeta'), '95 % coverage zeta');
  assert.equal(metricTitle('nll'), 'NLL (nats)');
  assert.equal(metricTitle('my_metric'), 'my_metric');
  assert.equal(metricTitle('r2_'), 'r2_');
  assert.equal(xAxisTitle('wall_time'), 'wall time (s)');
});
