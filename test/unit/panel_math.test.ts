// Pure maths of the panels: exponential smoothing (TensorBoard's debiased form), curve alignment,
// final/best values, the 2D power spectrum (a pure mode lands in its annulus with the right power;
// the FFT and direct-DFT paths agree), colour ranges, and the config difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smoothExponential, smoothInto } from '../../webview/shared/smoothing';
import {
  Curve,
  SmoothedCurve,
  alignCurves,
  columnMetricNames,
  finalAndBest,
  metricNames,
  splitCurves,
  undefinedMetricReason,
} from '../../webview/shared/metric_series';
import { recordsToColumns } from '../../webview/shared/metric_table';
import { toColumn } from '../../webview/shared/columns';
import type { MetricRecord } from '../../webview/shared/panel_protocol';
import { decimate, mergeGroups } from '../../webview/shared/decimate';
import { powerSpectrum2d } from '../../webview/shared/power_spectrum';
import { colorRangeFor, finiteRange, paintSlice } from '../../webview/shared/colormaps';
import { configDifferences, flattenConfig } from '../../webview/compare/config_diff';

const gapsAsNull = (column: ArrayLike<number>) => Array.from(column, (v) => (Number.isNaN(v) ? null : v));

test('smoothing: weight 0 is the identity; debiased EMA by hand; gaps stay gaps', () => {
  assert.deepEqual(gapsAsNull(smoothExponential([1, 2, NaN, 4], 0)), [1, 2, null, 4]);
  const s = smoothExponential([1, 3, NaN, 5], 0.5);
  // last = 0.5, 0.5/(1-0.5) = 1; last = 0.25+1.5 = 1.75, /(1-0.25) = 2.3333; gap; last = 0.875+2.5 = 3.375, /(1-0.125) = 3.857
  assert.equal(s[0], 1);
  assert.ok(Math.abs(s[1] - 7 / 3) < 1e-12);
  assert.ok(Number.isNaN(s[2]));
  assert.ok(Math.abs(s[3] - 3.375 / 0.875) < 1e-12);
  assert.deepEqual(gapsAsNull(smoothExponential([NaN, 2, Infinity], 0.9)), [null, 2, null]);
  // Continuing from the returned state equals smoothing the whole curve at once.
  const values = Float64Array.from({ length: 40 }, (_, i) => (i % 9 === 4 ? NaN : Math.sin(i)));
  const parts = new Float64Array(40);
  const state = smoothInto(values, 0.8, parts, 0, 17);
  smoothInto(values, 0.8, parts, 17, 40, state);
  assert.deepEqual(gapsAsNull(parts), gapsAsNull(smoothExponential(values, 0.8)));
});

test('curves: aligned on the union of x with gaps; out-of-order steps are sorted; final and best', () => {
  const a = new Curve(2);
  const b = new Curve();
  for (const [x, y] of [
    [1, 5],
    [2, 4],
    [3, 3],
  ])
    a.push(x, y);
  for (const [x, y] of [
    [2, 9],
    [4, 7],
  ])
    b.push(x, y);
  const aligned = alignCurves([a, b]);
  assert.deepEqual([...aligned.x], [1, 2, 3, 4]);
  assert.deepEqual(aligned.ys.map(gapsAsNull), [
    [5, 4, 3, null],
    [null, 9, null, 7],
  ]);
  const resumed = new Curve();
  for (const [x, y] of [
    [1, 1],
    [3, 3],
    [2, 2],
  ])
    resumed.push(x, y);
  assert.deepEqual([...alignCurves([resumed]).x], [1, 2, 3]);
  assert.deepEqual([...alignCurves([resumed]).ys[0]], [1, 2, 3]);
  const withNaN = new Curve();
  withNaN.push(1, 2);
  withNaN.push(2, null);
  withNaN.push(3, 1.5);
  assert.equal(withNaN.nonFinite, 1);
  assert.equal(withNaN.firstNonFiniteX, 2);
  assert.deepEqual(finalAndBest(withNaN, 'loss'), { final: 1.5, best: 1.5 });
  assert.deepEqual(finalAndBest(a, 'r2_omegaM'), { final: 3, best: 5 });
  assert.deepEqual(
    metricNames([{ step: 1, epoch: 0, wall_time: 0, split: 'train', grad_norm: 1, r2_x: 0.5, loss: 2, lr: 1 }]),
    ['loss', 'lr', 'grad_norm', 'r2_x'],
  );
});

test('split curves: typed columns → one curve per split, null values as counted gaps, metric names ordered', () => {
  const records: MetricRecord[] = [
    { step: 1, epoch: 0, wall_time: 0.5, split: 'train', loss: 3, lr: 0.1 },
    { step: 2, epoch: 0, wall_time: 1, split: 'train', loss: null, lr: 0.1 },
    { step: 2, epoch: 0, wall_time: 1.1, split: 'val', loss: 2.5 },
    { step: 3, epoch: 1, wall_time: 1.5, split: 'train', loss: 1, lr: 0.05 },
  ];
  const batches = [recordsToColumns(records.slice(0, 2)), recordsToColumns(records.slice(2))];
  assert.deepEqual(columnMetricNames(batches), ['loss', 'lr']);
  const loss = splitCurves(batches, 'loss', 'wall_time');
  assert.deepEqual([...loss.keys()], ['train', 'val']);
  const train = loss.get('train') as Curve;
  assert.deepEqual([...train.xs], [0.5, 1, 1.5]);
  assert.deepEqual(gapsAsNull(train.ys), [3, null, 1]);
  assert.equal(train.nonFinite, 1);
  assert.deepEqual([...(loss.get('val') as Curve).ys], [2.5]);
  assert.deepEqual([...splitCurves(batches, 'lr', 'step').keys()], ['train']);
});

test('split curves: a batch that goes back in step (a resume) is sorted on demand, and the first non-finite x is kept', () => {
  const records: MetricRecord[] = [
    { step: 1, epoch: 0, wall_time: 1, split: 'train', loss: 3 },
    { step: 3, epoch: 0, wall_time: 2, split: 'train', loss: null },
    { step: 2, epoch: 0, wall_time: 3, split: 'train', loss: 2 },
    { step: 4, epoch: 0, wall_time: 4, split: 'train', loss: null },
  ];
  const train = splitCurves([recordsToColumns(records)], 'loss', 'step').get('train') as Curve;
  assert.equal(train.isSorted, false);
  assert.equal(train.nonFinite, 2);
  assert.equal(train.firstNonFiniteX, 3);
  train.ensureSorted();
  assert.deepEqual([...train.xs], [1, 2, 3, 4]);
  assert.deepEqual(gapsAsNull(train.ys), [3, 2, null, null]);
  assert.equal(splitCurves([recordsToColumns(records.slice(0, 2))], 'loss', 'step').get('train')?.isSorted, true);
});

function mode(rows: number, cols: number, kr: number, kc: number, amplitude: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      out[r * cols + c] = amplitude * Math.cos(2 * Math.PI * ((kr * r) / rows + (kc * c) / cols));
  return out;
}

test('power spectrum: a pure cosine puts all power in its annulus (A²/4 per ± mode)', () => {
  for (const n of [32, 20]) {
    // fft.js path and direct-DFT path
    const ps = powerSpectrum2d(mode(n, n, 0, 3, 2), 0, n, n);
    assert.deepEqual(ps.k.length, n / 2);
    // |δ̃(k)|²/N² for A cos: two modes each (A/2)² = 1; the |k| = 3 annulus holds 2 of its cells with power 1.
    const cells = [...Array(n).keys()]
      .flatMap((r) =>
        [...Array(n).keys()].map((c) => Math.round(Math.hypot(r <= n / 2 ? r : r - n, c <= n / 2 ? c : c - n))),
      )
      .filter((b) => b === 3).length;
    assert.ok(Math.abs((ps.power[2] as number) - 2 / cells) < 1e-6, `n=${n}: ${ps.power[2]} vs ${2 / cells}`);
    for (const [i, p] of ps.power.entries()) if (i !== 2) assert.ok((p ?? 0) < 1e-9, `n=${n} bin ${i + 1}: ${p}`);
  }
  const bad = new Float32Array(16).fill(1);
  bad[3] = NaN;
  assert.deepEqual(powerSpectrum2d(bad, 0, 4, 4).power, [null, null]);
});

test('power spectrum: matches a naive 2D DFT on both the fft.js (16) and the direct (18) path', () => {
  for (const [rows, cols] of [
    [16, 16],
    [18, 18],
    [16, 8],
  ]) {
    const n = rows * cols;
    const field = new Float32Array(n).map((_, i) => Math.sin(i * 0.37) + 0.5 * Math.cos(i * 1.3));
    let mean = 0;
    for (const v of field) mean += v / n;
    const bins = Math.floor(Math.min(rows, cols) / 2);
    const sum = new Array(bins + 1).fill(0);
    const count = new Array(bins + 1).fill(0);
    for (let u = 0; u < rows; u++)
      for (let v = 0; v < cols; v++) {
        let re = 0;
        let im = 0;
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++) {
            const phase = -2 * Math.PI * ((u * r) / rows + (v * c) / cols);
            re += (field[r * cols + c] - mean) * Math.cos(phase);
            im += (field[r * cols + c] - mean) * Math.sin(phase);
          }
        const b = Math.round(Math.hypot(u <= rows / 2 ? u : u - rows, v <= cols / 2 ? v : v - cols));
        if (b >= 1 && b <= bins) {
          sum[b] += (re * re + im * im) / (n * n);
          count[b]++;
        }
      }
    const ps = powerSpectrum2d(field, 0, rows, cols);
    ps.power.forEach((p, i) => {
      const expected = sum[i + 1] / count[i + 1];
      assert.ok(
        Math.abs((p as number) - expected) <= 1e-6 * expected + 1e-12,
        `${rows}×${cols} k=${i + 1}: ${p} vs ${expected}`,
      );
    });
  }
});

test('colour ranges: diverging is symmetric about zero; non-finite pixels are magenta', () => {
  assert.deepEqual(finiteRange([3, -1, NaN, 2]), { lo: -1, hi: 3 });
  assert.equal(finiteRange([NaN]), null);
  assert.deepEqual(colorRangeFor({ lo: -1, hi: 3 }, 'diverging'), { lo: -3, hi: 3 });
  assert.deepEqual(colorRangeFor({ lo: -1, hi: 3 }, 'sequential'), { lo: -1, hi: 3 });
  const out = new Uint8ClampedArray(8);
  paintSlice(new Float32Array([0, NaN]), 0, 1, 2, { lo: -1, hi: 1 }, 'diverging', out);
  assert.ok(
    [...out.slice(0, 3)].every((v) => v >= 245),
    'zero is (near) white',
  ); // 256 entries have no exact centre
  assert.deepEqual([...out.slice(4, 8)], [255, 0, 255, 255]);
});

test('config difference: exactly the differing paths, absent fields included, unreadable ignored', () => {
  assert.deepEqual(
    [...flattenConfig({ a: { b: [1, { c: 2 }] }, e: {} })],
    [
      ['a.b.0', '1'],
      ['a.b.1.c', '2'],
      ['e', '{}'],
    ],
  );
  const diffs = configDifferences([
    { lr: 1, model: { rank: 8 }, same: 'x' },
    { lr: 2, model: { rank: 8 }, same: 'x', extra: true },
    null,
  ]);
  assert.deepEqual(
    diffs.map(({ path, values }) => ({ path, values })),
    [
      { path: 'extra', values: [undefined, 'true', undefined] },
      { path: 'lr', values: ['1', '2', undefined] },
    ],
  );
  // The unreadable config reads no field; every field differs among the two that do.
  assert.deepEqual(
    diffs.map((d) => [d.used, d.differs]),
    [
      [[true, true, false], true],
      [[true, true, false], true],
    ],
  );
  assert.deepEqual(configDifferences([{ a: 1 }]), []);
});

test('smoothed curve: appending in place gives what smoothing the whole curve gives; a resume re-sorts', () => {
  const train = new Curve(4);
  const smoothed = new SmoothedCurve(train, 0.7);
  for (let step = 1; step <= 3000; step++) {
    train.push(step, step === 77 ? null : Math.sin(step) + 2);
    if (step % 7 === 0) smoothed.update();
  }
  const group = smoothed.group();
  assert.equal(group.x.length, 3000);
  assert.deepEqual(gapsAsNull(group.ys[0]), gapsAsNull(train.ys));
  const whole = smoothExponential(train.ys, 0.7);
  whole.forEach((v, k) =>
    assert.ok(Number.isNaN(v) ? Number.isNaN(group.ys[1][k]) : Math.abs(v - group.ys[1][k]) < 1e-12, `at ${k}`),
  );
  // A point before the end (a resume rewinding) re-sorts and smooths again.
  train.push(10.5, 9);
  const resumed = smoothed.group();
  assert.equal(resumed.x.length, 3001);
  assert.equal(resumed.x[10], 10.5);
  assert.equal(resumed.ys[0][10], 9);
  assert.deepEqual(gapsAsNull(resumed.ys[1]), gapsAsNull(smoothExponential(resumed.ys[0], 0.7)));
  smoothed.setWeight(0);
  assert.deepEqual(gapsAsNull(smoothed.group().ys[1]), gapsAsNull(resumed.ys[0]));
});

test('decimation: small data passes through with null gaps; large data keeps each series envelope and the x extent', () => {
  const small = { x: Float64Array.of(1, 2, 3), ys: [Float64Array.of(1, -1, NaN)] };
  assert.deepEqual(decimate([small], null, 100, false), [
    [1, 2, 3],
    [1, -1, null],
  ]);
  assert.deepEqual(decimate([small], null, 100, true), [
    [1, 2, 3],
    [1, null, null],
  ]);
  const n = 50_000;
  const x = Float64Array.from({ length: n }, (_, i) => i);
  const y = x.map((i) => Math.sin(i / 300) + (i === 12_345 ? 5 : 0) + (i === 20_000 ? NaN : 0));
  const sparse = x.map((i) => (i % 1000 === 0 ? i : NaN));
  const view = decimate([{ x, ys: [y, sparse] }], null, 500, false);
  assert.ok(view[0].length <= 2 * 500 + 2 * 2 * 64, `${view[0].length} points`);
  assert.equal(view[0][0], 0);
  assert.equal(view[0][view[0].length - 1], n - 1);
  assert.ok(
    view.slice(1).every((col) => col.every((v) => v === null || Number.isFinite(v))),
    'uPlot gets null for gaps, never NaN',
  );
  assert.equal(
    Math.max(...view[1].filter((v): v is number => v !== null)),
    Math.max(...[...y].filter((v) => !Number.isNaN(v))),
    'the spike survives',
  );
  assert.equal(view[2].filter((v) => v !== null).length, 50, 'every sparse point survives');
  // Zoomed: full resolution inside the range.
  const zoomed = decimate([{ x, ys: [y, sparse] }], { min: 1000, max: 1400 }, 500, false);
  assert.ok(zoomed[0].includes(1200) && zoomed[0].includes(1201));
});

test('decimation of runs logged at the same steps: the columns side by side on the one x, each bucket its own min and max', () => {
  const n = 10_000;
  const x = Float64Array.from({ length: n }, (_, i) => i);
  const runs = [1, 2, 3].map((scale) => ({
    x,
    ys: [Float64Array.from(x, (i) => scale * (i % 10)), Float64Array.from(x, (i) => (i === 5 ? NaN : scale))],
  }));
  const view = decimate(runs, null, 1000, false);
  // 1000 buckets of 10 steps, the first and last step of each: [0, 9, 10, 19, …].
  assert.equal(view.length, 1 + 2 * runs.length);
  assert.deepEqual(view[0].slice(0, 4), [0, 9, 10, 19]);
  assert.equal(view[0].length, 2000);
  for (const [r, scale] of [1, 2, 3].entries()) {
    assert.deepEqual(view[1 + 2 * r].slice(0, 4), [0, 9 * scale, 0, 9 * scale], `run ${r + 1}: min then max`);
    assert.deepEqual(view[2 + 2 * r].slice(0, 2), [scale, scale], `run ${r + 1}: a gap inside a bucket is skipped`);
  }
  // The same runs on x shifted by half a step no longer share x: merged, null where a run has no point.
  const shifted = { x: x.map((v) => v + 0.5), ys: runs[0].ys };
  const merged = decimate([runs[0], shifted], null, 1000, false);
  assert.deepEqual(merged[0].slice(0, 3), [0, 0.5, 9]);
  assert.deepEqual(merged[1].slice(0, 3), [0, null, 9]);
  assert.deepEqual(merged[3].slice(0, 3), [null, 0, null]);
});

test('decimation by group: a dense and a sparse curve on their own x, merged after decimation', () => {
  const n = 40_000;
  const train = {
    x: Float64Array.from({ length: n }, (_, i) => i + 1),
    ys: [Float64Array.from({ length: n }, (_, i) => 1 / (i + 1))],
  };
  const val = {
    x: Float64Array.from({ length: 40 }, (_, i) => (i + 1) * 1000 + 0.5),
    ys: [Float64Array.from({ length: 40 }, (_, i) => i)],
  };
  const view = decimate([train, val], null, 400, false);
  assert.equal(view.length, 3);
  assert.ok(view[0].length < 2 * 400 + 4 * 64 + 40, `${view[0].length} rows`);
  assert.ok(
    view[0].every((v, i) => i === 0 || v > view[0][i - 1]),
    'x strictly increasing',
  );
  assert.deepEqual(
    view[2].filter((v) => v !== null),
    Array.from({ length: 40 }, (_, i) => i),
    'every validation point, in order',
  );
  assert.equal(view[0][0], 1, 'starts at the first train point');
  assert.equal(
    Math.max(...view[1].filter((v): v is number => v !== null)),
    1,
    'the first (largest) train value survives',
  );
  // Small groups merge to the union of x, null where a group has no point.
  assert.deepEqual(
    mergeGroups([
      { x: [1, 3], ys: [[10, 30]] },
      { x: [2, 3], ys: [[NaN, 3]] },
    ]),
    [
      [1, 2, 3],
      [10, null, 30],
      [null, null, 3],
    ],
  );
});

test('chart columns: plain arrays with null become NaN columns; typed columns pass as they are', () => {
  const typed = Float64Array.of(1, NaN);
  assert.equal(toColumn(typed), typed);
  assert.deepEqual(gapsAsNull(toColumn([1, null, 3])), [1, null, 3]);
});

test('a NaN R² is explained only for the test split of one lightcone', () => {
  const check = (metric: string, split: string, testLightcones: number | null, expected: string | null) =>
    assert.equal(
      undefinedMetricReason(metric, split, testLightcones),
      expected,
      `${metric} ${split} ${testLightcones}`,
    );
  check('r2_omegaM', 'test', 1, 'undefined with one test lightcone');
  check('r2_omegaM', 'test', 2, null);
  check('r2_omegaM', 'test', null, null);
  check('r2_omegaM', 'val', 1, null);
  check('loss', 'test', 1, null);
  check('coverage68_omegaM', 'test', 1, null);
});
