// Which group each compared run belongs to. A sweep's runs carry their group in run.json
// (`sweep.group`, built from the sweep's group_by); any set of runs can also be grouped by one of the
// config fields in which they differ. Groups keep the order of their first run, which for a sweep is
// its expansion order, so the rows of a table come out as the sweep file lists its setups.
import { groupBy } from '../../sidecar/protocol/group_stats';
import type { CompareRun } from '../shared/panel_protocol';
import { configDifferences, flattenConfig } from './config_diff';

/** '' (each run on its own), 'sweep', or 'config:<dotted path>'. */
export type Grouping = string;

export interface RunGroup {
  key: string;
  /** Indexes into the compared runs. */
  runs: number[];
}

const configPrefix = 'config:';

/** The choices of the "Group by" control for these runs: value and label. */
export function groupingChoices(runs: readonly CompareRun[]): [Grouping, string][] {
  const choices: [Grouping, string][] = [['', 'None (each run)']];
  if (runs.some((r) => r.run.record?.sweep)) choices.push(['sweep', 'Sweep group']);
  for (const d of configDifferences(runs.map((r) => r.config))) choices.push([configPrefix + d.path, d.path]);
  return choices;
}

/** Sweep groups when every run has one; otherwise each run on its own. */
export function defaultGrouping(runs: readonly CompareRun[]): Grouping {
  return runs.length > 1 && runs.every((r) => r.run.record?.sweep) ? 'sweep' : '';
}

/** A config value as a group names it: strings without their JSON quotes. */
function shownValue(json: string | undefined): string {
  if (json === undefined) return '(absent)';
  if (!json.startsWith('"')) return json;
  const parsed: unknown = JSON.parse(json);
  return typeof parsed === 'string' ? parsed : json;
}

/** The runs' groups under `grouping`, or null for none (or a choice these runs do not offer). */
export function groupRuns(runs: readonly CompareRun[], grouping: Grouping): RunGroup[] | null {
  let keyOf: (run: CompareRun) => string;
  if (grouping === 'sweep') keyOf = (r) => r.run.record?.sweep?.group ?? '(not in a sweep)';
  else if (grouping.startsWith(configPrefix)) {
    const path = grouping.slice(configPrefix.length);
    keyOf = (r) =>
      r.config === null ? `${path}: config unreadable` : `${path}=${shownValue(flattenConfig(r.config).get(path))}`;
  } else return null;
  const indexed = runs.map((run, index) => ({ run, index }));
  return groupBy(indexed, (i) => keyOf(i.run)).map((g) => ({ key: g.key, runs: g.items.map((i) => i.index) }));
}

/** The metric a table of groups shows first: the test metric the task writes, else the validation or training loss. */
export function defaultGroupMetric(keys: readonly string[]): string | null {
  const preferred = ['next_patch_mse · test', 'nll · test', 'loss · val', 'loss · train'];
  return preferred.find((k) => keys.includes(k)) ?? keys[0] ?? null;
}
