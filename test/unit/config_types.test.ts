// The TypeScript types of the config are derived from the schema (docs/conventions.md#schema-source); this test
// regenerates them in memory and fails when schemas/generated/experiment_config.ts is stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
// @ts-expect-error: a plain .mjs build script without type declarations.
import * as configTypesScript from '../../scripts/gen-config-types.mjs';
import { readJson } from '../read_json';

/** The parts of a (resolved) JSON schema node these tests read. */
interface ResolvedSchemaNode {
  title?: string;
  required: string[];
  allOf?: unknown;
  properties: Record<string, ResolvedSchemaNode>;
}

/** What the script exports, as it uses it (the script has no type declarations). */
const { generateConfigTypes, schemaPath, generatedPath, resolvedSchema } = configTypesScript as {
  generateConfigTypes: (schema: unknown) => Promise<string>;
  resolvedSchema: (schema: unknown) => ResolvedSchemaNode;
  schemaPath: string;
  generatedPath: string;
};

test('the committed generated types match the schema (run `npm run gen:types` when this fails)', async () => {
  const schema = readJson<unknown>(schemaPath);
  const expected = await generateConfigTypes(schema);
  const committed = readFileSync(generatedPath, 'utf8');
  assert.equal(committed, expected, 'schemas/generated/experiment_config.ts is stale: run `npm run gen:types`');
});

test('the generated file carries the do-not-edit header and both config types', () => {
  const text = readFileSync(generatedPath, 'utf8');
  assert.match(text.split('\n')[0], /generated, do not edit/);
  assert.match(text, /export interface ExperimentConfig \{/);
  assert.match(text, /export interface ResolvedExperimentConfig \{/);
});

test('the resolved schema requires every defaulted property, including task-conditional ones', () => {
  const schema = readJson<unknown>(schemaPath);
  const resolved = resolvedSchema(schema);
  assert.ok(resolved.required.includes('head'), 'head gets its default from the task condition');
  assert.ok(resolved.required.includes('backbone'));
  assert.ok(resolved.properties.backbone.required.includes('finetune'));
  assert.ok(resolved.properties.backbone.properties.lora.required.includes('alpha'));
  assert.ok(!resolved.required.includes('$schema'), '$schema has no default and stays optional');
  assert.equal(resolved.allOf, undefined);
  assert.equal(resolved.properties.backbone.title, 'ResolvedBackbone');
});
