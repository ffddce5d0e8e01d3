// resolveConfig fills every default from the schema (no hand-copied defaults anywhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, experimentSchema, type SchemaNode } from '../../schemas/resolve_config';
import type { ExperimentConfig } from '../../schemas/generated/experiment_config';

/** Every property path with a default in the (unconditional) schema, with its default. */
function defaultsOf(schema: SchemaNode, path: string[] = [], out: Array<[string[], unknown]> = []) {
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    if (
      sub.default !== undefined &&
      (sub.default === null || typeof sub.default !== 'object' || Array.isArray(sub.default))
    ) {
      out.push([[...path, name], sub.default]);
    }
    if (sub.properties) defaultsOf(sub, [...path, name], out);
  }
  return out;
}

function at(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string, unknown>)[key], value);
}

test('a minimal regression config receives every leaf default of the schema', () => {
  const resolved = resolveConfig({ name: 'r', task: 'regression' });
  const overridden = new Set(['backbone.finetune', 'training.weight_decay', 'training.max_grad_norm']);
  const leaves = defaultsOf(experimentSchema);
  assert.ok(leaves.length > 80, `expected many defaulted fields, found ${leaves.length}`);
  for (const [path, value] of leaves) {
    if (overridden.has(path.join('.'))) continue;
    assert.deepEqual(at(resolved, path), value, path.join('.'));
  }
  assert.deepEqual(resolved.head, { kind: 'gaussian', covariance: 'full', mlp_depth: 0, mlp_width: 64 });
  assert.equal(resolved.backbone.finetune, 'frozen');
  assert.equal(resolved.training.weight_decay, 0);
  assert.equal(resolved.training.max_grad_norm, 30);
});

test('generation gets the task-conditional defaults: CFM head, full finetuning, weight decay, clipping', () => {
  const resolved = resolveConfig({ name: 'g', task: 'generation' });
  assert.equal(resolved.head.kind, 'cfm');
  if (resolved.head.kind !== 'cfm') return;
  assert.equal(resolved.head.channels, 64);
  assert.equal(resolved.head.blocks, 6);
  assert.equal(resolved.backbone.finetune, 'full');
  assert.equal(resolved.training.weight_decay, 0.001);
  assert.equal(resolved.training.max_grad_norm, 1);
});

test('values written in the config win over defaults, deep inside too, and the input is not modified', () => {
  const raw: ExperimentConfig = {
    name: 'x',
    task: 'generation',
    head: { kind: 'gaussian' },
    backbone: { finetune: 'lora', lora: { rank: 2 } },
    data: { simulator: { priors: { zeta: { min: 20 } } } },
    training: { weight_decay: 0.5 },
  };
  const copy = structuredClone(raw);
  const resolved = resolveConfig(raw);
  assert.deepEqual(raw, copy);
  assert.equal(resolved.head.kind, 'gaussian', 'an explicit head kind selects its own branch');
  assert.equal(resolved.backbone.finetune, 'lora');
  assert.equal(resolved.backbone.lora.rank, 2);
  assert.equal(resolved.backbone.lora.alpha, null);
  assert.deepEqual(resolved.data.simulator.priors.zeta, { min: 20, max: 250 });
  assert.equal(resolved.training.weight_decay, 0.5);
  assert.equal(resolved.training.lr, 5e-5);
});

test('resolving twice gives the same result (idempotent)', () => {
  const once = resolveConfig({ name: 'x', task: 'regression', training: { epochs: 7 } });
  assert.deepEqual(resolveConfig(once), once);
});

test('a non-object input is refused with a message naming the fix', () => {
  assert.throws(() => resolveConfig(null), /expected a config object, received null.*validateConfig/);
});
