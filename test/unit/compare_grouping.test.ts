// Which group each compared run falls in: sweep groups from run.json, or the value of a config field
// that differs (a string without its quotes, an absent field named as such, an unreadable config
// apart); the choices offered, the default, and the table's default metric.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultGroupMetric, defaultGrouping, groupRuns, groupingChoices } from '../../webview/compare/grouping';
import type { CompareRun, RunRecord } from '../../webview/shared/panel_protocol';
import { recordsToColumns } from '../../webview/shared/metric_table';

function run(name: string, config: unknown, group?: string): CompareRun {
  const record: RunRecord = {
    id: name,
    experiment: 'gen',
    task: 'generation',
    status: 'completed',
    createdAt: '2026-11-23T10:00:00Z',
    version: '0.1.0',
    ...(group ? { sweep: { id: 's-20261123-100000-abcd', index: 0, group, setup: null, repeat: 0 } } : {}),
  };
  return { run: { runDir: `/runs/gen/${name}`, name, record }, config, columns: recordsToColumns([]), problems: [] };
}

test('grouping: sweep groups in order of first appearance; the default only when every run has one', () => {
  const runs = [
    run('a', { lr: 1 }, 'setup=full'),
    run('b', { lr: 2 }, 'setup=lora'),
    run('c', { lr: 1 }, 'setup=full'),
  ];
  assert.deepEqual(groupRuns(runs, 'sweep'), [
    { key: 'setup=full', runs: [0, 2] },
    { key: 'setup=lora', runs: [1] },
  ]);
  assert.equal(defaultGrouping(runs), 'sweep');
  assert.equal(defaultGrouping([...runs, run('d', { lr: 3 })]), '');
  assert.equal(groupRuns(runs, ''), null);
  assert.deepEqual(groupingChoices(runs), [
    ['', 'None (each run)'],
    ['sweep', 'Sweep group'],
    ['config:lr', 'lr'],
  ]);
});

test('grouping by a config field: values as shown, absent and unreadable apart', () => {
  const runs = [
    run('a', { backbone: { finetune: 'full' } }),
    run('b', { backbone: { finetune: 'lora' } }),
    run('c', { backbone: { source: 'random' } }),
    run('d', null),
    run('e', { backbone: { finetune: 'full' } }),
  ];
  assert.deepEqual(groupRuns(runs, 'config:backbone.finetune'), [
    { key: 'backbone.finetune=full', runs: [0, 4] },
    { key: 'backbone.finetune=lora', runs: [1] },
    { key: 'backbone.finetune=(absent)', runs: [2] },
    { key: 'backbone.finetune: config unreadable', runs: [3] },
  ]);
  assert.deepEqual(
    groupingChoices(runs).map(([value]) => value),
    ['', 'config:backbone.finetune', 'config:backbone.source'],
  );
});

test('the table metric: the task’s test metric first, then the validation or training loss', () => {
  assert.equal(defaultGroupMetric(['loss · train', 'loss · val', 'next_patch_mse · test']), 'next_patch_mse · test');
  assert.equal(defaultGroupMetric(['loss · train', 'nll · test', 'r2_zeta · test']), 'nll · test');
  assert.equal(defaultGroupMetric(['loss · train', 'loss · val']), 'loss · val');
  assert.equal(defaultGroupMetric(['grad_norm · train']), 'grad_norm · train');
  assert.equal(defaultGroupMetric([]), null);
});
