// What the Runs and Experiments views refresh for a new snapshot (extension/tree_changes.ts). A
// refresh empties VS Code's map from rows to items below the refreshed node until the workbench
// fetches them again, and a command chosen from a row in that window loses its item; so a run's
// progress must refresh that row only, and a snapshot that did not change must refresh nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeChanges, treeChanges, type Row } from '../../extension/tree_changes';

const row = (key: string, signature = 'completed'): Row => ({ key, signature });
const snapshot = (groups: Record<string, Row[]>) => new Map(Object.entries(groups));
const before = snapshot({ a: [row('/a/2', 'running 1'), row('/a/1')], b: [row('/b/1', 'failed')] });

test('an unchanged snapshot refreshes nothing', () => {
  assert.deepEqual(
    treeChanges(before, snapshot({ a: [row('/a/2', 'running 1'), row('/a/1')], b: [row('/b/1', 'failed')] })),
    { kind: 'none' },
  );
});

test('rows whose content changed refresh alone', () => {
  assert.deepEqual(
    treeChanges(before, snapshot({ a: [row('/a/2', 'running 2'), row('/a/1')], b: [row('/b/1', 'failed')] })),
    { kind: 'elements', groups: [], rows: ['/a/2'] },
  );
  assert.deepEqual(
    treeChanges(before, snapshot({ a: [row('/a/2', 'completed'), row('/a/1')], b: [row('/b/1', 'cancelled')] })),
    { kind: 'elements', groups: [], rows: ['/a/2', '/b/1'] },
  );
});

test('a group whose rows came, went or moved refreshes; groups that came, went or moved refresh the root', () => {
  assert.deepEqual(
    treeChanges(
      before,
      snapshot({ a: [row('/a/3'), row('/a/2', 'running 1'), row('/a/1')], b: [row('/b/1', 'failed')] }),
    ),
    { kind: 'elements', groups: ['a'], rows: [] },
  );
  assert.deepEqual(treeChanges(before, snapshot({ a: [row('/a/2', 'running 1')], b: [row('/b/1', 'failed')] })), {
    kind: 'elements',
    groups: ['a'],
    rows: [],
  });
  assert.deepEqual(
    treeChanges(before, snapshot({ a: [row('/a/1'), row('/a/2', 'running 1')], b: [row('/b/1', 'failed')] })),
    { kind: 'elements', groups: ['a'], rows: [] },
  );
  assert.deepEqual(treeChanges(before, snapshot({ a: [row('/a/2', 'running 1'), row('/a/1')] })), { kind: 'root' });
  assert.deepEqual(
    treeChanges(before, snapshot({ b: [row('/b/1', 'failed')], a: [row('/a/2', 'running 1'), row('/a/1')] })),
    { kind: 'root' },
  );
  assert.deepEqual(treeChanges(new Map(), before), { kind: 'root' });
});

test('changes of several snapshots merge: the root wins, element lists unite', () => {
  const one = { kind: 'elements' as const, groups: [], rows: ['/a/1'] };
  const two = { kind: 'elements' as const, groups: ['b'], rows: ['/a/1', '/a/2'] };
  assert.deepEqual(mergeChanges({ kind: 'none' }, one), one);
  assert.deepEqual(mergeChanges(one, { kind: 'none' }), one);
  assert.deepEqual(mergeChanges(one, two), { kind: 'elements', groups: ['b'], rows: ['/a/1', '/a/2'] });
  assert.deepEqual(mergeChanges(one, { kind: 'root' }), { kind: 'root' });
});

test('the loader reads one snapshot at a time, reads again when asked meanwhile, and announces once', async () => {
  const { SnapshotLoader } = await import('../../extension/tree_changes');
  const results = [
    { kind: 'elements' as const, groups: [], rows: ['/a/1'] },
    { kind: 'elements' as const, groups: ['b'], rows: [] },
    { kind: 'none' as const },
  ];
  let loads = 0;
  let running = 0;
  let release!: () => void;
  const gate = new Promise<void>((res) => {
    release = res;
  });
  const announced: unknown[] = [];
  const loader = new SnapshotLoader(
    async () => {
      running += 1;
      assert.equal(running, 1, 'two loads ran at once');
      if (loads === 0) await gate;
      running -= 1;
      return results[loads++];
    },
    (change) => announced.push(change),
  );
  const first = loader.refresh();
  const second = loader.refresh();
  const third = loader.refresh();
  assert.ok(loader.inFlight);
  release();
  await Promise.all([first, second, third]);
  assert.equal(loads, 2, 'the requests made during the first load are served by one more load');
  assert.deepEqual(announced, [{ kind: 'elements', groups: ['b'], rows: ['/a/1'] }]);
  assert.equal(loader.inFlight, null);
  await loader.refresh();
  assert.equal(loads, 3);
  assert.equal(announced.length, 1, 'a load that changed nothing is not announced');
});

test('a load that throws rejects its refresh, and the next refresh loads again', async () => {
  const { SnapshotLoader } = await import('../../extension/tree_changes');
  let loads = 0;
  const announced: unknown[] = [];
  const loader = new SnapshotLoader(
    () => {
      loads += 1;
      return loads === 1
        ? Promise.reject(new Error('the folder could not be read'))
        : Promise.resolve({ kind: 'root' as const });
    },
    (change) => announced.push(change),
  );
  await assert.rejects(loader.refresh(), /could not be read/);
  assert.equal(loader.inFlight, null);
  await loader.refresh();
  assert.equal(loads, 2);
  assert.deepEqual(announced, [{ kind: 'root' }]);
});

test('the nodes to refresh: none, the root, or the changed groups and rows found by key', async () => {
  const { changedNodes } = await import('../../extension/tree_changes');
  const groups = new Map([
    ['a', 'group a'],
    ['b', 'group b'],
  ]);
  const rows = new Map([
    ['/a/1', 'row a1'],
    ['/b/1', 'row b1'],
  ]);
  assert.equal(changedNodes({ kind: 'none' }, groups, rows), null);
  assert.equal(changedNodes({ kind: 'root' }, groups, rows), undefined);
  assert.deepEqual(changedNodes({ kind: 'elements', groups: ['b'], rows: ['/a/1', '/gone'] }, groups, rows), [
    'group b',
    'row a1',
  ]);
});
