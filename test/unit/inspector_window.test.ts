// The inspector's intensity window, display transforms, window dragging and synced zoom, as pure
// functions: percentiles against NumPy's values for the same input, the windows a drag gives, and the
// point under the pointer staying put while zooming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dragWindow,
  inverseTransformFunction,
  mergeSorted,
  percentileOfSorted,
  percentileWindow,
  sortedFinite,
  transformFunction,
} from '../../webview/inspector/intensity_window';
import { SliceWindows } from '../../webview/inspector/slice_windows';
import { maxZoom, panBy, zoomAbout } from '../../webview/inspector/zoom_math';

test('percentiles interpolate between ranks as np.percentile does, over the finite values only', () => {
  // np.percentile([1, 2, 3, 4, 10], [1, 25, 50, 99]) = [1.04, 2, 3, 9.76]
  const sorted = sortedFinite([10, NaN, 3, 1, Infinity, 4, 2]);
  assert.deepEqual([...sorted], [1, 2, 3, 4, 10]);
  const at = (p: number) => +percentileOfSorted(sorted, p).toFixed(10);
  assert.deepEqual([at(1), at(25), at(50), at(99)], [1.04, 2, 3, 9.76]);
  assert.ok(Number.isNaN(percentileOfSorted(new Float32Array(0), 50)));
  assert.deepEqual([...mergeSorted(new Float32Array([1, 4, 9]), new Float32Array([2, 3, 10]))], [1, 2, 3, 4, 9, 10]);
});

test('the default window ignores single outliers and is symmetric about zero when asked', () => {
  // 998 values from −9 to −1 and one outlier each side: 1–99 % keeps to the typical values.
  const values = Array.from({ length: 998 }, (_, i) => -9 + (8 * i) / 997);
  values.push(211.6, -211.6);
  const sorted = sortedFinite(values);
  const lo = percentileOfSorted(sorted, 1);
  const hi = percentileOfSorted(sorted, 99);
  assert.ok(lo > -9 && hi < -1, `[${lo}, ${hi}]`);
  assert.deepEqual(percentileWindow(sorted, { lo: 1, hi: 99 }, true), { lo: -Math.abs(lo), hi: Math.abs(lo) });
  assert.deepEqual(percentileWindow(sorted, { lo: 1, hi: 99 }, false), { lo, hi });
  assert.deepEqual(percentileWindow(sorted, { lo: 0, hi: 100 }, false), {
    lo: Math.fround(-211.6),
    hi: Math.fround(211.6),
  });
  // A constant slice still gets a window of some width; no finite value gets none.
  assert.deepEqual(percentileWindow(sortedFinite([2, 2, 2]), { lo: 1, hi: 99 }, false), { lo: 1, hi: 3 });
  assert.equal(percentileWindow(sortedFinite([NaN]), { lo: 1, hi: 99 }, true), null);
});

test('display transforms invert, and symmetric-log is linear near zero', () => {
  const window = { lo: -50, hi: 50 };
  for (const t of ['linear', 'symlog', 'sgn-ln'] as const) {
    const f = transformFunction(t, window);
    const g = inverseTransformFunction(t, window);
    for (const v of [-50, -3.2, 0, 0.01, 7, 50]) assert.ok(Math.abs(g(f(v)) - v) < 1e-9, `${t}: ${v} → ${g(f(v))}`);
  }
  const symlog = transformFunction('symlog', window);
  // Linear threshold 0.5 mK (1 % of 50): log10(1 + |x|/0.5) grows about linearly below it, by decades above.
  assert.ok(Math.abs(symlog(0.005) / symlog(0.01) - 0.5) < 0.01);
  assert.ok(Math.abs(symlog(50) - Math.log10(101)) < 1e-12);
  assert.equal(transformFunction('sgn-ln', window)(-Math.E + 1), -1);
});

test('dragging a colour bar end sets the window to the value under the pointer, on the bar’s own scale', () => {
  const start = { lo: -8, hi: 8 };
  // Symmetric: the high end dragged to three quarters of the bar gives ±4, the low end to a quarter too.
  assert.deepEqual(dragWindow(start, 'linear', 'hi', 0.75, true), { lo: -4, hi: 4 });
  assert.deepEqual(dragWindow(start, 'linear', 'lo', 0.25, true), { lo: -4, hi: 4 });
  // Past the bar's end the window widens.
  assert.deepEqual(dragWindow(start, 'linear', 'hi', 1.5, true), { lo: -16, hi: 16 });
  // Not symmetric: only the dragged end moves, and the ends never cross.
  assert.deepEqual(dragWindow({ lo: 0, hi: 10 }, 'linear', 'lo', 0.2, false), { lo: 2, hi: 10 });
  const crossed = dragWindow({ lo: 0, hi: 10 }, 'linear', 'lo', 1.4, false);
  assert.ok(crossed.lo < crossed.hi, JSON.stringify(crossed));
  // Under sgn·ln(1+|x|) the bar's middle of [0, e² − 1] is e − 1, not half the range.
  const e = dragWindow({ lo: 0, hi: Math.E ** 2 - 1 }, 'sgn-ln', 'hi', 0.5, false);
  assert.ok(Math.abs(e.hi - (Math.E - 1)) < 1e-9, String(e.hi));
});

test('slice windows: shared by true and generated, dragged windows kept until reset or new data', () => {
  const windows = new SliceWindows();
  windows.setData({ truth: [-1, 0, 1, 2], generated: [-4, 0, 4, 8], difference: [0.5, -0.5] });
  assert.equal(windows.keyFor('truth', true), 'shared');
  assert.equal(windows.keyFor('difference', true), 'difference');
  assert.equal(windows.keyFor('generated', false), 'generated');
  windows.percentiles = { lo: 0, hi: 100 };
  assert.deepEqual(windows.window('shared', false), { lo: -4, hi: 8 });
  assert.deepEqual(windows.window('truth', true), { lo: -2, hi: 2 });
  windows.drag('shared', { lo: -1, hi: 1 });
  assert.deepEqual(windows.window('shared', false), { lo: -1, hi: 1 });
  assert.deepEqual(windows.window('truth', false), { lo: -1, hi: 2 }, 'a dragged shared window leaves the others');
  windows.reset();
  assert.deepEqual(windows.window('shared', false), { lo: -4, hi: 8 });
  windows.drag('truth', { lo: 0, hi: 1 });
  windows.setData({ truth: [5, 6] });
  assert.equal(windows.isDragged, false, 'new data drops dragged windows');
  assert.equal(windows.keyFor('truth', true), 'truth', 'no shared window without generated slices');
});

test('zoom keeps the point under the pointer, stays inside the slice, and pans by the drag over the magnification', () => {
  const whole = { scale: 1, x: 0, y: 0 };
  const z = zoomAbout(whole, 0.25, 0.5, 2);
  assert.deepEqual(z, { scale: 2, x: 0.125, y: 0.25 });
  // The slice point under the pointer: x + px / scale, before and after.
  assert.equal(z.x + 0.25 / z.scale, 0.25);
  assert.deepEqual(zoomAbout(z, 0.25, 0.5, 0.5), whole);
  assert.equal(zoomAbout(whole, 0.5, 0.5, 1e6).scale, maxZoom);
  assert.deepEqual(zoomAbout(whole, 0.5, 0.5, 0.5), whole, 'never smaller than the whole slice');
  assert.deepEqual(panBy(z, -0.1, 0.2), { scale: 2, x: 0.175, y: 0.15 });
  assert.deepEqual(panBy(z, -5, 5), { scale: 2, x: 0.5, y: 0 }, 'a pan stops at the slice edges');
});
