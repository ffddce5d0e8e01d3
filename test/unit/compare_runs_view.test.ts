// The compare page's pure parts for many runs: palette slots that never move a run's colour, names
// from the fields that differ, config fields a run never reads, and the metrics table's columns,
// best-so-far values and exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignSlots, runPalette, styleOfSlot } from '../../webview/compare/run_palette';
import { runNames, shortFieldNames } from '../../webview/compare/run_names';
import { fieldUsed } from '../../webview/compare/config_relevance';
import { configFields } from '../../webview/compare/config_diff';
import {
  bestSoFar,
  defaultTableMetrics,
  runTableCsv,
  runTableMarkdown,
  sortRows,
  tableColumns,
  type MetricKey,
  type TableRow,
} from '../../webview/compare/run_table';
import { recordsToColumns } from '../../webview/shared/metric_table';
import type { CompareRun } from '../../webview/shared/panel_protocol';

test('palette slots: kept by the runs that had them, the lowest free ones for new runs; dashes past the palette', () => {
  const first = assignSlots({}, ['a', 'b', 'c']);
  assert.deepEqual(first, { a: 0, b: 1, c: 2 });
  // b removed, d and e added before the others: a and c keep theirs, d takes b's freed slot.
  assert.deepEqual(assignSlots(first, ['d', 'a', 'e', 'c']), { a: 0, c: 2, d: 1, e: 3 });
  // A slot claimed twice (damaged state) goes to the first claimant only.
  assert.deepEqual(assignSlots({ a: 0, b: 0 }, ['a', 'b']), { a: 0, b: 1 });
  const n = runPalette.length;
  assert.equal(n, 20);
  assert.deepEqual(styleOfSlot(3), { color: runPalette[3], dash: [] });
  assert.equal(styleOfSlot(n + 3).color, runPalette[3]);
  assert.ok(styleOfSlot(n + 3).dash.length > 0);
  const styles = new Set(Array.from({ length: 5 * n }, (_, k) => JSON.stringify(styleOfSlot(k))));
  assert.equal(styles.size, 5 * n, 'colour and dash together stay unique for 100 runs');
});

function run(id: string, config: unknown, experiment = 'exp'): CompareRun {
  return {
    run: {
      runDir: `/runs/${experiment}/${id}`,
      name: `${experiment}/${id}`,
      record: { id, experiment, task: 'regression', status: 'completed', createdAt: '', version: '0.1.0' },
    },
    config,
    columns: recordsToColumns([]),
    problems: [],
  };
}

test('run names: experiment and the fields that differ, short and unique', () => {
  assert.deepEqual(
    Object.fromEntries(shortFieldNames(['training.lr', 'training.phases.0.lr', 'training.seed', 'a.betas.0'])),
    {
      'training.lr': 'training.lr',
      'training.phases.0.lr': 'phases.0.lr',
      'training.seed': 'seed',
      'a.betas.0': 'betas.0',
    },
  );
  const names = runNames([
    run('r1', { name: 'x', training: { lr: 0.1, seed: 1 }, data: { source: 'files', files: { path: 'a' } } }),
    run('r2', { name: 'y', training: { lr: 0.2, seed: 1 }, data: { source: 'files', files: { path: 'a' } } }),
    run('r3', { name: 'x', training: { lr: 0.1, seed: 1 }, data: { source: 'files', files: { path: 'a' } } }),
    run('r4', null),
  ]);
  // r1 and r3 are the same setup: the run id tells them apart. The experiment name is not a field to name.
  assert.deepEqual(names, ['exp · lr=0.1 · r1', 'exp · lr=0.2', 'exp · lr=0.1 · r3', 'exp/r4']);
  const many = runNames([
    run('a', { a: 1, b: 'long-value-that-goes-on-and-on-and-on', c: 1, d: 1, e: 1 }),
    run('b', { a: 2, b: 'x', c: 2, d: 2, e: 2 }),
  ]);
  assert.deepEqual(many, ['exp · a=1 b=long-value-that-goes-on… c=1 +2 more', 'exp · a=2 b=x c=2 +2 more']);
  assert.deepEqual(runNames([run('a', { lr: 1 }), run('b', { lr: 1 })]), ['exp/a', 'exp/b']);
});

test('config fields a run never reads do not differ; all fields on request', () => {
  const steps = {
    task: 'generation',
    training: { unit: 'steps', steps: 100, epochs: 3 },
    data: { source: 'simulator', simulator: { count: 10 } },
  };
  const epochs = {
    task: 'generation',
    training: { unit: 'epochs', steps: 500, epochs: 3 },
    data: { source: 'files', simulator: { count: 99 } },
  };
  assert.equal(fieldUsed(steps, 'training.steps'), true);
  assert.equal(fieldUsed(epochs, 'training.steps'), false);
  assert.equal(fieldUsed(steps, 'training.epochs'), false);
  assert.equal(fieldUsed(epochs, 'data.simulator.count'), false);
  assert.equal(fieldUsed({ training: {} }, 'training.steps'), true, 'no unit given: counted as used');
  assert.equal(fieldUsed({ task: 'regression', backbone: { finetune: 'frozen' } }, 'backbone.lora.rank'), false);
  assert.equal(fieldUsed({ task: 'regression' }, 'data.sublightcone.length'), false);
  assert.equal(
    fieldUsed({ task: 'generation', evaluation: { next_patch_mse: false } }, 'evaluation.next_patch_lightcones'),
    false,
  );
  assert.deepEqual(
    configFields([steps, epochs]).map((f) => f.path),
    ['data.source', 'training.unit'],
    'steps (read by one run), epochs (the same where read) and the simulator count (read by one) do not differ',
  );
  const all = configFields([steps, epochs], true);
  assert.deepEqual(
    all.map((f) => [f.path, f.differs, f.used]),
    [
      ['data.simulator.count', false, [true, false]],
      ['data.source', true, [true, true]],
      ['task', false, [true, true]],
      ['training.epochs', false, [false, true]],
      ['training.steps', false, [true, false]],
      ['training.unit', true, [true, true]],
    ],
  );
});

test('metrics table: best so far with its step, default columns, columns per declared best, sort and exports', () => {
  assert.deepEqual(bestSoFar([1, 2, 3, 4], [3, 1, 1, NaN], 'min'), { final: 1, best: 1, bestStep: 2 });
  assert.deepEqual(bestSoFar([10, 20, 30], [0.1, 0.5, 0.3], 'max'), { final: 0.3, best: 0.5, bestStep: 20 });
  assert.deepEqual(bestSoFar([1, 2], [5, 6], 'none'), { final: 6, best: null, bestStep: null });
  assert.deepEqual(bestSoFar([], [], 'min'), { final: null, best: null, bestStep: null });
  const key = (metric: string, split: string): MetricKey => ({ key: `${metric} · ${split}`, metric, split });
  const keys = [
    key('loss', 'train'),
    key('lr', 'train'),
    key('grad_norm_all', 'train'),
    key('loss', 'val'),
    key('l1_zeta', 'val'),
    key('next_patch_mse', 'test'),
    key('baseline_mean_patch_mse', 'test'),
    key('coverage68_zeta', 'test'),
  ];
  assert.deepEqual(defaultTableMetrics(keys), ['loss · train', 'loss · val', 'next_patch_mse · test']);
  assert.deepEqual(defaultTableMetrics([key('foo', 'train'), key('bar', 'val')]), ['foo · train', 'bar · val']);
  const columns = tableColumns([key('loss', 'val'), key('lr', 'train'), key('next_patch_mse', 'test')]);
  assert.deepEqual(
    columns.map((c) => c.header),
    [
      'run',
      'status',
      'loss · val final',
      'loss · val best',
      'loss · val best step',
      'lr · train final',
      'next_patch_mse · test',
    ],
  );
  const row = (name: string, best: number | null, note: string | null = null): TableRow => ({
    runDir: `/r/${name}`,
    name,
    id: `exp/${name}`,
    status: 'completed',
    note,
    values: new Map([
      ['loss · val', { final: best === null ? null : best + 1, best, bestStep: best === null ? null : 7 }],
      ['lr · train', { final: 0.001, best: null, bestStep: null }],
      ['next_patch_mse · test', { final: 0.123456789, best: 0.123456789, bestStep: 40 }],
    ]),
  });
  const rows = [row('b, "quoted"', 0.5), row('none', null, 'no metrics logged yet'), row('a|pipe', 0.25)];
  const sorted = sortRows(rows, columns, { column: 'loss · val best', descending: false });
  assert.deepEqual(
    sorted.map((r) => r.name),
    ['a|pipe', 'b, "quoted"', 'none'],
  );
  assert.deepEqual(
    sortRows(rows, columns, { column: 'loss · val best', descending: true }).map((r) => r.name),
    ['b, "quoted"', 'a|pipe', 'none'],
    'empty cells last either way',
  );
  assert.equal(
    runTableCsv(columns, sorted),
    [
      'run,run_id,status,loss · val final,loss · val best,loss · val best step,lr · train final,next_patch_mse · test,note',
      'a|pipe,exp/a|pipe,completed,1.25,0.25,7,0.001,0.123456789,',
      '"b, ""quoted""","exp/b, ""quoted""",completed,1.5,0.5,7,0.001,0.123456789,',
      'none,exp/none,completed,,,,0.001,0.123456789,no metrics logged yet',
    ].join('\n') + '\n',
  );
  assert.equal(
    runTableMarkdown(columns, sorted),
    [
      '| run | status | loss · val final | loss · val best | loss · val best step | lr · train final | next_patch_mse · test |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
      '| a\\|pipe | completed | 1.25 | 0.25 | 7 | 0.001 | 0.1235 |',
      '| b, "quoted" | completed | 1.5 | 0.5 | 7 | 0.001 | 0.1235 |',
      '| none | completed | – | – | – | 0.001 | 0.1235 |',
    ].join('\n') + '\n',
  );
});
