// docs/config-reference.md is generated from the schema, the one source of truth of the config; this
// test regenerates it in memory and fails when the committed file is stale, and checks that the text
// really follows the schema (every field, its default and its range), so a stale file cannot pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
// @ts-expect-error: a plain .mjs build script without type declarations.
import * as configDocsScript from '../../scripts/gen-config-docs.mjs';
import { readJson } from '../read_json';

interface SchemaNode {
  type?: string | string[];
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  oneOf?: SchemaNode[];
  minimum?: number;
}

/** What the script exports, as it uses it (the script has no type declarations). */
const { generateConfigDocs, schemaPath, docsPath, fieldPaths } = configDocsScript as {
  generateConfigDocs: (schema: SchemaNode) => string;
  fieldPaths: (schema: SchemaNode) => string[];
  schemaPath: string;
  docsPath: string;
};

function readSchema(): SchemaNode & { properties: Record<string, SchemaNode> } {
  return readJson(schemaPath);
}

test('the committed docs/config-reference.md matches the schema (run `npm run gen:docs` when this fails)', () => {
  const expected = generateConfigDocs(readSchema());
  const committed = readFileSync(docsPath, 'utf8');
  assert.equal(committed, expected, 'docs/config-reference.md is stale: run `npm run gen:docs`');
});

test('every field of the schema has a row with its own anchor', () => {
  const text = generateConfigDocs(readSchema());
  const paths = fieldPaths(readSchema());
  assert.ok(paths.length > 100, `only ${paths.length} field paths found`);
  for (const path of [
    'name',
    'task',
    'backbone.lora.alpha',
    'head.covariance',
    'head.channels',
    'data.simulator.priors.zeta.max',
    'training.schedule.stable',
    'runtime.backend',
  ]) {
    assert.ok(paths.includes(path), `fieldPaths lacks ${path}`);
  }
  for (const path of paths) {
    assert.ok(text.includes(`<a id="${path}"></a>\`${path}\``), `no row for ${path}`);
  }
});

test('defaults, ranges and task-conditional defaults come from the schema', () => {
  const text = generateConfigDocs(readSchema());
  const row = (path: string): string => {
    const line = text.split('\n').find((l) => l.includes(`<a id="${path}"></a>`));
    assert.ok(line, `no row for ${path}`);
    return line;
  };
  assert.match(row('backbone.architecture.hidden_size'), /\| `896` \|/);
  assert.match(row('backbone.architecture.rms_norm_eps'), /> 0/);
  assert.match(row('backbone.architecture.rms_norm_eps'), /≤ 0\.1/);
  assert.match(row('backbone.finetune'), /`"frozen"`; `"full"` when task = generation/);
  assert.match(row('training.weight_decay'), /`0`; `0\.001` when task = generation/);
  assert.match(
    text,
    /Default: `\{"kind":"cfm"\}` when task = generation; `\{"kind":"gaussian"\}` when task ≠ generation/,
  );
  assert.match(row('task'), /`"regression"`, `"generation"`/);
  assert.match(row('training.schedule.stable'), /number or null/);
});

test('a changed schema changes the text, so a stale file is caught', () => {
  const schema = readSchema();
  const before = generateConfigDocs(schema);
  const hidden = schema.properties.backbone.properties!.architecture.properties!.hidden_size;
  hidden.default = 1024;
  hidden.minimum = 8;
  const after = generateConfigDocs(schema);
  assert.notEqual(after, before);
  assert.match(after, /<a id="backbone\.architecture\.hidden_size"><\/a>.*\| `1024` \|.*≥ 8/);
});
