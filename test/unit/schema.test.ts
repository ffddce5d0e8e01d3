// The experiment schema is the one source of truth for configs: every field documents itself,
// has a default (or is required), and is bounded; objects reject unknown keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { experimentSchema, type SchemaNode } from '../../schemas/resolve_config';
import { parameterInfo, parameterNames } from '../../sidecar/data/parameters';
import { simulatorPresets } from '../../sidecar/data/simulator/presets';

interface Field {
  path: string;
  schema: SchemaNode;
  required: boolean;
}

/** Every property of the schema, through oneOf branches, with whether its parent requires it. */
function fields(schema: SchemaNode, path = '', out: Field[] = []): Field[] {
  for (const branch of schema.oneOf ?? []) fields(branch, `${path}<${String(branch.title)}>`, out);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const here = path ? `${path}.${name}` : name;
    out.push({ path: here, schema: sub, required: (schema.required ?? []).includes(name) });
    fields(sub, here, out);
  }
  return out;
}

/** Every object-typed node, for the additionalProperties rule. */
function objects(schema: SchemaNode, path = '$', out: Array<[string, SchemaNode]> = []) {
  if (schema.properties) out.push([path, schema]);
  for (const branch of schema.oneOf ?? []) objects(branch, `${path}<${String(branch.title)}>`, out);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) objects(sub, `${path}.${name}`, out);
  return out;
}

const all = fields(experimentSchema);
const conditionalDefaults = new Set(['head']);

test('the schema is draft-07 with the fixed top-level keys', () => {
  assert.equal(experimentSchema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual(Object.keys(experimentSchema.properties ?? {}), [
    '$schema',
    'name',
    'task',
    'backbone',
    'prompt',
    'connectors',
    'head',
    'data',
    'training',
    'evaluation',
    'runtime',
  ]);
  assert.deepEqual(experimentSchema.required, ['name', 'task']);
});

test('every field has a description and a markdownDescription', () => {
  assert.ok(all.length > 100, `expected the complete config, found ${all.length} fields`);
  for (const { path, schema } of all) {
    assert.ok(typeof schema.description === 'string' && schema.description.length > 15, `${path}: description`);
    assert.ok(
      typeof schema.markdownDescription === 'string' && schema.markdownDescription.length > 15,
      `${path}: markdownDescription`,
    );
  }
});

test('every field has a default unless required or task-conditional, and a bound, enum or const', () => {
  for (const { path, schema, required } of all) {
    const hasDefault = schema.default !== undefined || required || conditionalDefaults.has(path) || path === '$schema';
    assert.ok(hasDefault, `${path}: no default`);
    const bounded =
      schema.enum !== undefined ||
      schema.const !== undefined ||
      schema.minimum !== undefined ||
      schema.maximum !== undefined ||
      schema.exclusiveMinimum !== undefined ||
      schema.minLength !== undefined ||
      schema.minItems !== undefined ||
      schema.type === 'boolean' ||
      schema.type === 'object' ||
      schema.oneOf !== undefined;
    assert.ok(bounded, `${path}: neither bounds nor enum`);
    if (schema.type === 'integer' || schema.type === 'number') {
      assert.ok(
        schema.maximum !== undefined && (schema.minimum !== undefined || schema.exclusiveMinimum !== undefined),
        `${path}: numbers need both bounds`,
      );
    }
  }
});

test('every object rejects unknown keys', () => {
  for (const [path, node] of objects(experimentSchema)) {
    assert.equal(node.additionalProperties, false, `${path}: additionalProperties must be false`);
  }
});

test('defaults satisfy their own enums and bounds', () => {
  for (const { path, schema } of all) {
    const d = schema.default;
    if (d === undefined || d === null) continue;
    if (schema.enum && typeof d !== 'object')
      assert.ok(schema.enum.includes(d), `${path}: default ${JSON.stringify(d)} not in enum`);
    if (typeof d === 'number') {
      if (schema.minimum !== undefined) assert.ok(d >= schema.minimum, `${path}: default below minimum`);
      if (schema.maximum !== undefined) assert.ok(d <= schema.maximum, `${path}: default above maximum`);
      if (schema.exclusiveMinimum !== undefined)
        assert.ok(d > schema.exclusiveMinimum, `${path}: default not above exclusiveMinimum`);
    }
  }
});

test('the prior defaults are the dataset bounds of sidecar/data/parameters.ts, in snake_case', () => {
  const priors = experimentSchema.properties!.data.properties!.simulator.properties!.priors.properties!;
  const snake = ['m_wdm', 'omega_m', 'e_0', 'log10_l_x', 'log10_t_vir', 'zeta'];
  assert.deepEqual(Object.keys(priors), snake);
  snake.forEach((key, i) => {
    const info = parameterInfo[parameterNames[i]];
    assert.deepEqual(priors[key].default, { min: info.min, max: info.max }, key);
  });
});

test("the simulator presets of the schema are the simulator's own", () => {
  const preset = experimentSchema.properties!.data.properties!.simulator.properties!.preset;
  assert.deepEqual([...(preset.enum ?? [])].sort(), Object.keys(simulatorPresets).sort());
});

test('paper and reference defaults: patch 14, sublightcone 12 with 2 context, 47 tokens, CFM 64×6, LoRA targets', () => {
  const p = (path: string) =>
    path.split('.').reduce<SchemaNode>((node, key) => node.properties![key], experimentSchema);
  assert.equal(p('data.patch_size').default, 14);
  assert.equal(p('data.sublightcone.length').default, 12);
  assert.equal(p('data.sublightcone.context').default, 2);
  assert.equal(p('data.preprocessing.global_signal_tokens').default, 47);
  assert.equal(p('evaluation.regression_samples').default, 50);
  assert.equal(p('training.lr').default, 5e-5);
  const cfm = experimentSchema.properties!.head.oneOf!.find((b) => b.title === 'CfmHead')!;
  assert.equal(cfm.properties!.channels.default, 64);
  assert.equal(cfm.properties!.blocks.default, 6);
  assert.deepEqual(p('backbone.lora.targets').default, [
    'q_proj',
    'k_proj',
    'v_proj',
    'o_proj',
    'gate_proj',
    'up_proj',
    'down_proj',
  ]);
});
