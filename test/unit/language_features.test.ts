// The pure language features behind the server: completion of enum values, hover estimates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  configCompletion,
  configHover,
  estimateMarkdown,
  isExperimentConfig,
  configPathOf,
} from '../../extension/server/config_features';
import type { ConfigFileSystem } from '../../schemas/config_context';

const emptyFs: ConfigFileSystem = { exists: () => false, isDirectory: () => false, list: () => [] };
const uri = 'file:///w/a.l3m.json';

test('only *.l3m.json documents are configs; file URIs map to paths', () => {
  assert.equal(isExperimentConfig('file:///w/a.l3m.json'), true);
  assert.equal(isExperimentConfig('file:///w/package.json'), false);
  assert.equal(configPathOf('file:///w/a%20b.l3m.json'), '/w/a b.l3m.json');
});

test('completion offers the enum values of the field under the cursor', async () => {
  const text = '{ "name": "a", "task": "generation", "head": { "kind": "cfm", "solver":  } }';
  const list = await configCompletion(uri, text, { line: 0, character: text.indexOf('"solver":') + 10 });
  const labels = (list?.items ?? []).map((i) => i.label);
  for (const solver of ['"euler"', '"midpoint"', '"rk4"', '"dopri5"'])
    assert.ok(labels.includes(solver), `${solver} in ${labels.join(', ')}`);
});

test('completion offers top-level keys', async () => {
  const text = '{ "name": "a", "task": "regression",  }';
  const list = await configCompletion(uri, text, { line: 0, character: text.length - 2 });
  const labels = (list?.items ?? []).map((i) => i.label);
  for (const key of ['backbone', 'data', 'training', 'runtime'])
    assert.ok(labels.includes(key), `${key} in ${labels.join(', ')}`);
});

test('hover over the head shows its documentation and the model size; outside model sections no estimate', async () => {
  const text =
    '{ "name": "a", "task": "regression", "backbone": { "source": "random" }, "runtime": { "backend": "cpu" } }';
  const onBackbone = await configHover(uri, text, { line: 0, character: text.indexOf('"source"') + 2 }, emptyFs);
  assert.match(
    String((onBackbone?.contents as { value: string }).value),
    /Where the backbone weights come from[\s\S]*Parameters:\*\* 494M total/,
  );
  const onRuntime = await configHover(uri, text, { line: 0, character: text.indexOf('"backend"') + 2 }, emptyFs);
  const value = String((onRuntime?.contents as { value: string }).value);
  assert.match(value, /TensorFlow.js backend/);
  assert.doesNotMatch(value, /Parameters/);
});

test('estimates: a pretrained backbone without its config.json says so; ill-typed text gives none', () => {
  const context = { configPath: '/w/a.l3m.json', mode: 'edit' as const, fileSystem: emptyFs };
  assert.match(
    estimateMarkdown('{ "name": "a", "task": "regression" }', context) ?? '',
    /unknown until the checkpoint/,
  );
  assert.equal(
    estimateMarkdown('{ "backbone": { "source": "random", "architecture": { "hidden_size": "x" } } }', context),
    undefined,
  );
  assert.equal(estimateMarkdown('[', context), undefined);
});
