// Group statistics against values computed by hand: alignment of ragged step grids (interpolation
// inside a run's own range only, never beyond), mean and sample σ per step with n, NaN values
// skipped and counted, n = 1 groups whose σ is undefined, final and best per run in the metric's
// direction, the ratio of means with its propagated standard error, and the table as Markdown and CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alignedStats,
  finalAndBest,
  formatMeanSd,
  formatNumber,
  formatSummary,
  groupBy,
  groupTable,
  metricBest,
  metricDirection,
  metricHasBest,
  ratioOfMeans,
  summarize,
  tableToCsv,
  tableToMarkdown,
} from '../../sidecar/protocol/group_stats';

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);
}

test('aligned stats: union of ragged step grids, interpolation inside each run, n and NaN per step', () => {
  const stats = alignedStats([
    { x: [0, 10, 20], y: [1, 2, 3] },
    { x: [0, 5, 20], y: [3, 4, 5] },
    // Starts late and ends early; its value at step 10 is NaN.
    { x: [5, 10], y: [6, NaN] },
  ]);
  assert.deepEqual([...stats.x], [0, 5, 10, 20]);
  assert.deepEqual([...stats.n], [2, 3, 2, 2]);
  assert.deepEqual([...stats.nan], [0, 0, 1, 0]);
  // Step 0: 1 and 3 (the third run has not started).
  close(stats.mean[0], 2, 'mean at 0');
  close(stats.sd[0], Math.SQRT2, 'σ at 0');
  // Step 5: the first run interpolated between (0, 1) and (10, 2) = 1.5; then 4 and 6.
  // mean = 11.5 / 3; squares 5.4444 + 0.0278 + 4.6944 = 10.1667; σ = sqrt(10.1667 / 2) = 2.25462.
  close(stats.mean[1], 11.5 / 3, 'mean at 5');
  close(stats.sd[1], Math.sqrt(((1.5 - 11.5 / 3) ** 2 + (4 - 11.5 / 3) ** 2 + (6 - 11.5 / 3) ** 2) / 2), 'σ at 5');
  assert.ok(Math.abs(stats.sd[1] - 2.25462) < 1e-5);
  // Step 10: 2 and the second run between (5, 4) and (20, 5) = 4 + 5/15; the NaN is skipped.
  close(stats.mean[2], (2 + 4 + 1 / 3) / 2, 'mean at 10');
  close(stats.sd[2], (4 + 1 / 3 - 2) / Math.SQRT2, 'σ at 10');
  // Step 20: 3 and 5; the third run ended at 10 and is not extrapolated.
  close(stats.mean[3], 4, 'mean at 20');
  close(stats.sd[3], Math.SQRT2, 'σ at 20');
});

test('aligned stats: an interpolation next to a NaN is skipped and counted; one run gives no σ; duplicate steps keep the last', () => {
  const stats = alignedStats([
    { x: [0, 20], y: [NaN, 10] },
    { x: [0, 10, 10, 20], y: [1, 99, 2, 3] },
  ]);
  assert.deepEqual([...stats.x], [0, 10, 20]);
  assert.deepEqual([...stats.n], [1, 1, 2]);
  assert.deepEqual([...stats.nan], [1, 1, 0]);
  // Step 10 of the second run was written twice (a resume); the last line, 2, counts.
  assert.deepEqual([...stats.mean], [1, 2, 6.5]);
  assert.ok(Number.isNaN(stats.sd[0]) && Number.isNaN(stats.sd[1]));
  close(stats.sd[2], Math.sqrt(((10 - 6.5) ** 2 + (3 - 6.5) ** 2) / 1), 'σ at 20');
  // Unsorted input and non-finite steps are handled like sorted input.
  const shuffled = alignedStats([{ x: [20, NaN, 0], y: [3, 7, 1] }]);
  assert.deepEqual([...shuffled.x], [0, 20]);
  assert.deepEqual([...shuffled.mean], [1, 3]);
  const empty = alignedStats([]);
  assert.equal(empty.x.length, 0);
});

test('summaries: NaN skipped and counted; σ undefined for n = 1; nothing for n = 0', () => {
  const s = summarize([1, 2, NaN, 4]);
  assert.equal(s.n, 3);
  assert.equal(s.nan, 1);
  close(s.mean, 7 / 3, 'mean');
  close(s.sd, Math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2), 'σ');
  assert.ok(Math.abs(s.sd - 1.527525) < 1e-6);
  const one = summarize([5]);
  assert.deepEqual({ mean: one.mean, n: one.n, nan: one.nan }, { mean: 5, n: 1, nan: 0 });
  assert.ok(Number.isNaN(one.sd));
  const none = summarize([NaN, Infinity]);
  assert.deepEqual({ n: none.n, nan: none.nan }, { n: 0, nan: 2 });
  assert.ok(Number.isNaN(none.mean));
});

test('directions: one declaration; final is the last value, NaN included; best in the direction', () => {
  assert.equal(metricDirection('loss'), 'min');
  assert.equal(metricDirection('nll'), 'min');
  assert.equal(metricDirection('next_patch_mse'), 'min');
  assert.equal(metricDirection('next_patch_crps'), 'min');
  assert.equal(metricDirection('r2_zeta'), 'max');
  const declared = (names: string[]) => Object.fromEntries(names.map((n) => [n, metricBest(n)]));
  assert.deepEqual(
    declared(['loss', 'loss_head', 'cfm_loss', 'nll', 'l1_zeta', 'next_patch_mse', 'baseline_mean_patch_crps']),
    {
      loss: 'min',
      loss_head: 'min',
      cfm_loss: 'min',
      nll: 'min',
      l1_zeta: 'min',
      next_patch_mse: 'min',
      baseline_mean_patch_crps: 'min',
    },
  );
  assert.deepEqual(declared(['r2_zeta', 'accuracy']), { r2_zeta: 'max', accuracy: 'max' });
  // No best where ranking by it means nothing: schedule, optimiser, machine, counts, spreads, calibration, the unknown.
  const none = [
    'lr',
    'steps_per_s',
    'grad_norm_all',
    'grad_norm_head',
    'windows',
    'next_patch_mse_std',
    'coverage68_zeta',
    'coverage95_E0',
    'rss_mb',
  ];
  assert.deepEqual(declared(none), Object.fromEntries(none.map((n) => [n, 'none'])));
  assert.equal(metricHasBest('lr'), false);
  assert.equal(metricHasBest('grad_norm_all'), false);
  assert.equal(metricHasBest('loss'), true);
  assert.deepEqual(finalAndBest({ x: [1, 2, 3], y: [3, 1, 2] }, 'min'), { final: 2, best: 1 });
  assert.deepEqual(finalAndBest({ x: [1, 2, 3], y: [0.1, 0.5, 0.3] }, 'max'), { final: 0.3, best: 0.5 });
  // A run that diverged ends in NaN: its final is NaN (skipped in the group), its best stays finite.
  const diverged = finalAndBest({ x: [1, 2, 3], y: [2, 1, NaN] }, 'min');
  assert.ok(Number.isNaN(diverged.final));
  assert.equal(diverged.best, 1);
});

test('ratio of means: standard error by first-order propagation; undefined without σ', () => {
  // r = 2/4 = 0.5; σ_r = sqrt(0.5²/4 + 0.5²·1²/4) / 4 = sqrt(0.125) / 4 = 0.0883883
  const r = ratioOfMeans({ mean: 2, sd: 0.5, n: 4, nan: 0 }, { mean: 4, sd: 1, n: 4, nan: 0 });
  close(r.ratio, 0.5, 'ratio');
  close(r.sd, Math.sqrt(0.125) / 4, 'σ of the ratio');
  // The same as |r|·sqrt((σa/μa)²/na + (σb/μb)²/nb).
  close(r.sd, 0.5 * Math.sqrt(0.25 ** 2 / 4 + 0.25 ** 2 / 4), 'relative form');
  const single = ratioOfMeans({ mean: 3, sd: NaN, n: 1, nan: 0 }, { mean: 4, sd: 1, n: 4, nan: 0 });
  close(single.ratio, 0.75, 'ratio with n = 1');
  assert.ok(Number.isNaN(single.sd));
  assert.ok(Number.isNaN(ratioOfMeans({ mean: 1, sd: 1, n: 2, nan: 0 }, { mean: 0, sd: 1, n: 2, nan: 0 }).ratio));
});

test('formatting: σ to two significant digits, the mean to the same place, a shared exponent for small values', () => {
  assert.equal(formatMeanSd(0.0123, 0.00114), '0.0123 ± 0.0011');
  assert.equal(formatMeanSd(1234.5, 56.7), '1235 ± 57');
  assert.equal(formatMeanSd(2.5e-5, 3.1e-6), '(2.50 ± 0.31)e-5');
  assert.equal(formatMeanSd(123456, 789), '(1.2346 ± 0.0079)e5');
  assert.equal(formatMeanSd(0.5, 1e-9), '0.500000 ± 1e-9');
  assert.equal(formatNumber(0.000012346), '1.235e-5');
  assert.equal(formatNumber(0.5), '0.5');
  assert.equal(formatSummary({ mean: 0.0123, sd: 0.00114, n: 3, nan: 0 }), '0.0123 ± 0.0011 (n = 3)');
  assert.equal(formatSummary({ mean: 0.25, sd: NaN, n: 1, nan: 0 }), '0.25 (n = 1, σ undefined)');
  assert.equal(formatSummary({ mean: 1, sd: 0.5, n: 2, nan: 1 }), '1.00 ± 0.50 (n = 2, 1 NaN skipped)');
  assert.equal(formatSummary({ mean: NaN, sd: NaN, n: 0, nan: 2 }), '– (n = 0, 2 NaN skipped)');
});

test('the group table: groups in first-appearance order, final and best, ratios, Markdown and CSV', () => {
  const runs = [
    { group: 'full', y: [4, 2, 3] },
    { group: 'lora', y: [5, 4, 6] },
    { group: 'full', y: [5, 1, 1] },
    { group: 'frozen', y: [9, 8, 7] },
    { group: 'lora', y: [6, 5, 5] },
  ];
  const groups = groupBy(runs, (r) => r.group).map((g) => ({
    group: g.key,
    runs: g.items.map((r) => ({ x: [1, 2, 3], y: r.y })),
  }));
  assert.deepEqual(
    groups.map((g) => g.group),
    ['full', 'lora', 'frozen'],
  );
  const table = groupTable(groups, 'loss · val', 'loss', 'full');
  const [full, lora, frozen] = table.rows;
  // full: finals 3, 1 → 2 ± √2; bests 2, 1 → 1.5 ± √0.5. lora: finals 6, 5 → 5.5 ± √0.5; bests 4, 5 → 4.5 ± √0.5.
  close(full.final.mean, 2, 'full final');
  close(full.final.sd, Math.SQRT2, 'full final σ');
  close(full.best.mean, 1.5, 'full best');
  close(lora.final.mean, 5.5, 'lora final');
  close(lora.best.mean, 4.5, 'lora best');
  assert.equal(frozen.final.n, 1);
  // lora ÷ full, final: r = 2.75, σ_r = sqrt(0.5/2 + 2.75²·2/2) / 2 = 1.420794; best: r = 3,
  // σ_r = sqrt(0.5/2 + 3²·0.5/2) / 1.5 = 1.054093.
  assert.ok(lora.finalRatio);
  close(lora.finalRatio.ratio, 2.75, 'lora final ratio');
  close(lora.finalRatio.sd, Math.sqrt(0.5 / 2 + 2.75 ** 2) / 2, 'lora final ratio σ');
  assert.ok(frozen.finalRatio && Number.isNaN(frozen.finalRatio.sd));
  assert.equal(full.finalRatio, null);

  assert.equal(
    tableToMarkdown(table),
    [
      '| group | runs | loss · val final | loss · val best | final ÷ full | best ÷ full |',
      '| --- | ---: | --- | --- | --- | --- |',
      '| full | 2 | 2.0 ± 1.4 (n = 2) | 1.50 ± 0.71 (n = 2) | 1 (reference) | 1 (reference) |',
      '| lora | 2 | 5.50 ± 0.71 (n = 2) | 4.50 ± 0.71 (n = 2) | 2.8 ± 1.4 | 3.0 ± 1.1 |',
      '| frozen | 1 | 7 (n = 1, σ undefined) | 7 (n = 1, σ undefined) | 3.5 (σ undefined) | 4.667 (σ undefined) |',
      '',
      'mean ± sample σ over each group’s runs (n runs with a finite value); ratio ± standard error of the ratio of means (first-order propagation).',
      '',
    ].join('\n'),
  );
  const csv = tableToCsv(table).trimEnd().split('\n');
  assert.equal(
    csv[0],
    'metric,group,runs,final_mean,final_sd,final_n,final_nan,best_mean,best_sd,best_n,best_nan,reference,final_ratio,final_ratio_sd,best_ratio,best_ratio_sd',
  );
  assert.equal(csv[1], `loss · val,full,2,2,${Math.SQRT2},2,0,1.5,${Math.sqrt(0.5)},2,0,full,1,0,1,0`);
  const frozenCells = csv[3].split(',');
  // n = 1: σ and the ratio's σ are empty cells, not zeros.
  assert.deepEqual(frozenCells.slice(3, 7), ['7', '', '1', '0']);
  assert.equal(frozenCells[13], '');
  // A metric without a best has no best columns; a group name with a comma or pipe is quoted or escaped.
  const lr = groupTable([{ group: 'a, b | c', runs: [{ x: [1], y: [0.1] }] }], 'lr · train', 'lr', null);
  assert.equal(
    tableToCsv(lr).split('\n')[0],
    'metric,group,runs,final_mean,final_sd,final_n,final_nan,reference,final_ratio,final_ratio_sd',
  );
  assert.match(tableToCsv(lr).split('\n')[1], /^lr · train,"a, b \| c",1,0\.1,/);
  assert.match(tableToMarkdown(lr), /\| a, b \\\| c \| 1 \| 0\.1 \(n = 1, σ undefined\) \|/);
});
