// Fills the defaults of an experiment config from the JSON schema itself, so that the schema stays
// the one source of truth for defaults (docs/conventions.md#schema-source): nothing here knows a field name.
// The walk understands the few schema shapes the config schema uses: `properties` with `default`,
// `oneOf` branches told apart by `const` properties (the head's `kind`), array `items`, and
// top-level `allOf` entries of `if / then / else` whose branches only change defaults (the
// task-dependent head, finetune mode, weight decay and clipping).
import schemaJson from './l3m-experiment.schema.json';
import type { ResolvedExperimentConfig } from './generated/experiment_config';

/** The subset of JSON Schema draft-07 that the walk reads. */
export interface SchemaNode {
  type?: string | string[];
  title?: string;
  description?: string;
  markdownDescription?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  items?: SchemaNode;
  if?: SchemaNode;
  then?: SchemaNode;
  else?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  additionalProperties?: boolean;
  [keyword: string]: unknown;
}

/** The experiment config schema (schemas/l3m-experiment.schema.json) as a typed object. */
// TypeScript infers a JSON module's type member by member and gives the oneOf branches each other's
// keys as `undefined`, which SchemaNode rejects; the file is this package's own schema, which the
// schema tests compile and check.
// eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- the inferred JSON type is wrong, not the value
export const experimentSchema: SchemaNode = schemaJson as unknown as SchemaNode;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether `value` satisfies the simple `if` schemas of the config schema: `const` and `enum` on
 * properties, and `required`. Anything richer is out of scope on purpose and reported loudly.
 */
function matchesCondition(value: unknown, condition: SchemaNode): boolean {
  if (condition.const !== undefined) return value === condition.const;
  if (condition.enum) return condition.enum.includes(value);
  if (!isPlainObject(value)) return condition.properties === undefined && condition.required === undefined;
  for (const name of condition.required ?? []) {
    if (!(name in value)) return false;
  }
  for (const [name, sub] of Object.entries(condition.properties ?? {})) {
    if (name in value && !matchesCondition(value[name], sub)) return false;
  }
  return true;
}

/** Deep merge of a conditional branch into a copy of the schema (branch keywords win). */
function mergeSchemas(base: SchemaNode, overlay: SchemaNode): SchemaNode {
  const merged: SchemaNode = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (key === 'properties' && base.properties && overlay.properties && isPlainObject(value)) {
      const properties: Record<string, SchemaNode> = { ...base.properties };
      for (const [name, sub] of Object.entries(overlay.properties)) {
        properties[name] = properties[name] ? mergeSchemas(properties[name], sub) : sub;
      }
      merged.properties = properties;
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

/** The schema with the `if/then/else` branches that apply to `value` merged in. */
export function effectiveSchema(schema: SchemaNode, value: unknown): SchemaNode {
  let effective: SchemaNode = { ...schema };
  delete effective.allOf;
  for (const part of schema.allOf ?? []) {
    if (!part.if) continue;
    const branch = matchesCondition(value, part.if) ? part.then : part.else;
    if (branch) effective = mergeSchemas(effective, branch);
  }
  return effective;
}

/** The `oneOf` branch whose `const` properties match the value (e.g. `kind`), or undefined. */
export function selectBranch(branches: SchemaNode[], value: unknown): SchemaNode | undefined {
  if (!isPlainObject(value)) return undefined;
  return branches.find((branch) =>
    Object.entries(branch.properties ?? {}).every(
      ([name, sub]) => sub.const === undefined || value[name] === sub.const,
    ),
  );
}

function fill(value: unknown, schema: SchemaNode): unknown {
  let result = value === undefined && schema.default !== undefined ? structuredClone(schema.default) : value;
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches) {
    const branch = selectBranch(branches, result);
    return branch ? fill(result, branch) : result;
  }
  if (isPlainObject(result) && schema.properties) {
    const out: Record<string, unknown> = { ...result };
    for (const [name, sub] of Object.entries(schema.properties)) {
      const filled = fill(out[name], sub);
      if (filled !== undefined) out[name] = filled;
    }
    result = out;
  } else if (Array.isArray(result) && schema.items) {
    const items = schema.items;
    result = result.map((item) => fill(item, items));
  }
  return result;
}

/**
 * Returns a new config with every default of the schema filled in (the input is not modified).
 * The input should have passed `validateConfig` without errors: values are not checked here, and
 * keys the schema does not know are kept as they are.
 */
export function resolveConfig(raw: unknown): ResolvedExperimentConfig {
  if (!isPlainObject(raw)) {
    throw new TypeError(
      `resolveConfig: expected a config object, received ${raw === null ? 'null' : typeof raw}; parse and validate the file first (validateConfig).`,
    );
  }
  // ResolvedExperimentConfig is generated from the very schema whose defaults fill() applies, so the
  // result has its shape as far as the input passed validateConfig; checking it again would repeat
  // the schema validation.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- the generated type describes the schema just applied
  return fill(structuredClone(raw), effectiveSchema(experimentSchema, raw)) as ResolvedExperimentConfig;
}
