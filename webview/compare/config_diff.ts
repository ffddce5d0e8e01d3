// The config fields in which runs differ: each resolved config.json is flattened to dotted paths
// (arrays by index, e.g. `training.phases.0.lr`), and a path is listed when its value is not the
// same in every run — including when some runs lack it. Values are compared as JSON text.

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
}

/** The differing fields of the configs, in path order; unreadable configs (null) take no part. */
export function configDifferences(configs: unknown[]): ConfigDifference[] {
  const flat = configs.map((c) => (c === null || c === undefined ? null : flattenConfig(c)));
  const readable = flat.filter((f): f is FlatConfig => f !== null);
  if (readable.length < 2) return [];
  const paths = new Set<string>();
  for (const f of readable) for (const p of f.keys()) paths.add(p);
  const out: ConfigDifference[] = [];
  for (const path of [...paths].sort()) {
    const values = flat.map((f) => f?.get(path));
    const present = values.filter((_, i) => flat[i] !== null);
    if (present.some((v) => v !== present[0])) out.push({ path, values });
  }
  return out;
}
