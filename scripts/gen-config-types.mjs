// Derives the TypeScript types of the experiment config from schemas/l3m-experiment.schema.json,
// the one source of truth (docs/conventions.md#schema-source), with json-schema-to-typescript:
//   ExperimentConfig          the config as written: defaulted fields are optional;
//   ResolvedExperimentConfig  after resolveConfig(): every property that has a default is present.
// The resolved type is compiled from a transformed copy of the schema in which every property with
// a default (also a default given by a task-conditional `if/then/else`) is required.
// Usage: `npm run gen:types` writes schemas/generated/experiment_config.ts; a unit test regenerates
// the text in memory with `generateConfigTypes` and fails when the committed file is stale.
import { compile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const schemaPath = join(root, 'schemas', 'l3m-experiment.schema.json');
export const generatedPath = join(root, 'schemas', 'generated', 'experiment_config.ts');

const banner = [
  '// generated, do not edit: derived from schemas/l3m-experiment.schema.json by scripts/gen-config-types.mjs',
  '// (run `npm run gen:types` after changing the schema; test/unit/config_types.test.ts checks it is current).',
].join('\n');

/** Property names that receive a default from a conditional (`if/then/else`) branch, per JSON path. */
function conditionalDefaults(schema, path = '', found = new Map()) {
  const visitBranch = (branch, at) => {
    if (!branch || typeof branch !== 'object' || !branch.properties) return;
    for (const [key, sub] of Object.entries(branch.properties)) {
      if (sub.default !== undefined) {
        if (!found.has(at)) found.set(at, new Set());
        found.get(at).add(key);
      }
      visitBranch(sub, `${at}/${key}`);
    }
  };
  for (const part of schema.allOf ?? []) {
    visitBranch(part.then, path);
    visitBranch(part.else, path);
  }
  return found;
}

/**
 * The schema copy behind ResolvedExperimentConfig: titles prefixed with "Resolved", every property
 * with a default required, conditional branches dropped (their defaults are already accounted for).
 */
export function resolvedSchema(schema) {
  const conditional = conditionalDefaults(schema);
  const transform = (node, path) => {
    if (Array.isArray(node)) return node.map((item) => transform(item, path));
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'allOf') continue;
      if (key === 'properties') {
        out.properties = Object.fromEntries(
          Object.entries(value).map(([name, sub]) => [name, transform(sub, `${path}/${name}`)]),
        );
      } else if (key === 'oneOf' || key === 'anyOf') {
        out[key] = value.map((branch) => transform(branch, path));
      } else if (key === 'items') {
        out.items = transform(value, `${path}/items`);
      } else if (key === 'title' && typeof value === 'string') {
        out.title = `Resolved${value}`;
      } else {
        out[key] = value;
      }
    }
    if (node.properties) {
      const required = new Set(node.required ?? []);
      for (const [name, sub] of Object.entries(node.properties)) {
        if (sub.default !== undefined) required.add(name);
      }
      for (const name of conditional.get(path) ?? []) required.add(name);
      out.required = [...required];
    }
    return out;
  };
  return transform(schema, '');
}

function withoutConditionals(schema) {
  const { allOf: _conditionals, ...rest } = schema;
  return rest;
}

const compileOptions = {
  bannerComment: '',
  additionalProperties: false,
  declareExternallyReferenced: true,
  unreachableDefinitions: false,
  strictIndexSignatures: true,
  format: true,
  style: { singleQuote: true, printWidth: 120 },
};

/** The text of schemas/generated/experiment_config.ts for the given schema object. */
export async function generateConfigTypes(schema) {
  const written = await compile(withoutConditionals(structuredClone(schema)), 'ExperimentConfig', compileOptions);
  const resolved = await compile(resolvedSchema(structuredClone(schema)), 'ResolvedExperimentConfig', compileOptions);
  return `${banner}\n\n${written.trim()}\n\n${resolved.trim()}\n`;
}

async function main() {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const text = await generateConfigTypes(schema);
  mkdirSync(dirname(generatedPath), { recursive: true });
  writeFileSync(generatedPath, text);
  console.log(`wrote ${generatedPath}`);
}

// No top-level await: the unit test imports this module through tsx, which loads it as CommonJS.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(`gen-config-types: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
