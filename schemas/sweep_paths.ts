// The fields of the experiment config that a sweep may override, by dotted JSON path, read from the
// experiment schema (the one source of truth): which paths exist, the schema of each (for hover,
// completion and the sweep file's own schema) and the nearest valid path to a misspelt one.
import { experimentSchema, type SchemaNode } from './resolve_config';

/** The path the sweep sets on every run; a sweep file may not override it. */
export const seedPath = 'training.seed';

/** Paths that exist in the schema but are not settings of a run. */
const notOverridable = new Set(['$schema']);

/**
 * Every field path of the experiment schema (`backbone.lora.rank`), in schema order, each with the
 * schema node(s) that describe it: two where the `oneOf` branches of the head both define a field.
 */
function collectPaths(): Map<string, SchemaNode[]> {
  const paths = new Map<string, SchemaNode[]>();
  const visit = (node: SchemaNode, prefix: string): void => {
    for (const [name, sub] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (!notOverridable.has(path)) paths.set(path, [...(paths.get(path) ?? []), sub]);
      visit(sub, path);
    }
    for (const branch of node.oneOf ?? []) visit(branch, prefix);
  };
  visit(experimentSchema, '');
  return paths;
}

const schemaPaths = collectPaths();

/** Every overridable path, in schema order (the seed included: it is a field, refused separately). */
export function overridePaths(): string[] {
  return [...schemaPaths.keys()];
}

/** Whether `path` names a field of the experiment config. */
export function isOverridePath(path: string): boolean {
  return schemaPaths.has(path);
}

/** The schema of the field at `path` (an anyOf of the head's branches where both define it). */
export function schemaAtPath(path: string): SchemaNode | undefined {
  const nodes = schemaPaths.get(path);
  if (!nodes) return undefined;
  return nodes.length === 1 ? nodes[0] : { anyOf: nodes, description: nodes[0].description };
}

/** The field's description, Markdown where the schema has it. */
export function describePath(path: string): string | undefined {
  const nodes = schemaPaths.get(path);
  if (!nodes) return undefined;
  const node = nodes[0];
  return node.markdownDescription ?? node.description;
}

/** Edit distance (insertions, deletions, substitutions), one row at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The valid path nearest to a path that is not one: a path ending in the same field name first
 * (`lr` → `training.lr`), else the closest by edit distance when it is close enough to be a typo.
 */
export function nearestPath(path: string): string | undefined {
  const candidates = overridePaths().filter((p) => p !== seedPath);
  const last = path.split('.').pop() ?? path;
  const sameField = candidates.filter((p) => p.split('.').pop() === last);
  if (sameField.length > 0) {
    return sameField.reduce((best, p) => (editDistance(path, p) < editDistance(path, best) ? p : best));
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(path, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(path.length / 3)) ? best : undefined;
}
