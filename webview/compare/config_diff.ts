// The config fields in which runs differ: each resolved config.json is flattened to dotted paths
// (arrays by index, e.g. `training.phases.0.lr`), and a path is listed when its value is not the
// same in every run that reads it — including when some runs lack it. Values are compared as JSON
// text. Fields a run never reads (config_relevance.ts) do not count as differences.
import { fieldUsed } from './config_relevance';

export type FlatConfig = Map<string, string>;

export function flattenConfig(value: unknown, prefix = '', into: FlatConfig = new Map()): FlatConfig {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries<unknown>({ ...value });
    if (entries.length === 0) into.set(prefix, JSON.stringify(value));
    for (const [key, v] of entries) flattenConfig(v, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix !== '') {
    into.set(prefix, JSON.stringify(value));
  }
  return into;
}

export interface ConfigDifference {
  path: string;
  /** One value per run, as JSON text; undefined where the run's config lacks the field. */
  values: (string | undefined)[];
  /** Per run: whether it reads the field (config_relevance.ts); false for an unreadable config. */
  used: boolean[];
  /** Whether the runs that read the field hold different values (or some lack it). */
  differs: boolean;
}

/**
 * The configs' fields in path order: only those that differ, or with `all` every field. A field
 * differs when the runs that read it do not all hold the same value; a value a run holds but never
 * reads (training.steps of a run counted in epochs) does not make a difference. Unreadable configs
 * (null) take no part.
 */
export function configFields(configs: unknown[], all = false): ConfigDifference[] {
  const flat = configs.map((c) => (c === null || c === undefined ? null : flattenConfig(c)));
  const readable = flat.filter((f): f is FlatConfig => f !== null);
  if (readable.length < (all ? 1 : 2)) return [];
  const paths = new Set<string>();
  for (const f of readable) for (const p of f.keys()) paths.add(p);
  const out: ConfigDifference[] = [];
  for (const path of [...paths].sort()) {
    const values = flat.map((f) => f?.get(path));
    const used = flat.map((f, i) => f !== null && fieldUsed(configs[i], path));
    const compared = values.filter((_, i) => used[i]);
    const differs = compared.some((v) => v !== compared[0]);
    if (all || differs) out.push({ path, values, used, differs });
  }
  return out;
}

/** The differing fields of the configs, in path order; unreadable configs (null) take no part. */
export function configDifferences(configs: unknown[]): ConfigDifference[] {
  return configFields(configs, false);
}
