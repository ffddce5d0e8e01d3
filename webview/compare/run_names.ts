// What the compare page calls each run: its experiment and the config fields in which it differs
// from the other runs ("regression · lr=0.003 seed=4"), which says at a glance what a curve is;
// a run id says nothing of the kind. Fields are named by the shortest tail of their path that no
// other differing field shares (`lr`, but `phases.0.lr` beside `schedule.lr`). At most three
// fields are named, then "+N more" (a field a run lacks is not named for it); where two runs would still share a name, or no field differs,
// the run id is added, so every name is unique. A run whose config cannot be read keeps its
// `<experiment>/<run-id>`. Pure: no DOM.
import type { CompareRun } from '../shared/panel_protocol';
import { configDifferences, flattenConfig } from './config_diff';

/** Fields named in full before "+N more". */
const namedFields = 3;
/** Longer values are cut, so that a list-valued field does not take the whole legend. */
const longestValue = 24;
/** Paths that say nothing about how the runs differ in training: the experiment name is already shown. */
const unnamed = new Set(['name', '$schema']);

/** The tail of each path, as short as keeps the tails apart (a tail of only array indexes grows to its key). */
export function shortFieldNames(paths: readonly string[]): Map<string, string> {
  const parts = paths.map((p) => p.split('.'));
  const tail = (i: number, k: number) => parts[i].slice(-k).join('.');
  const names = new Map<string, string>();
  paths.forEach((path, i) => {
    let k = 1;
    while (k < parts[i].length && (/^\d+$/.test(parts[i][parts[i].length - k]) || clashes(i, k))) k++;
    names.set(path, tail(i, k));
  });
  return names;

  function clashes(i: number, k: number): boolean {
    return parts.some((_, j) => j !== i && tail(j, k) === tail(i, k));
  }
}

/** A config value as a name shows it: strings without their quotes, long values cut. */
function shownValue(json: string | undefined): string {
  let text = json ?? '';
  if (text.startsWith('"')) {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'string') text = parsed;
  }
  return text.length > longestValue ? `${text.slice(0, longestValue - 1)}…` : text;
}

/** One name per run, in the runs' order; every name differs from the others. */
export function runNames(runs: readonly CompareRun[]): string[] {
  const differences = configDifferences(runs.map((r) => r.config)).filter((d) => !unnamed.has(d.path));
  const short = shortFieldNames(differences.map((d) => d.path));
  const names = runs.map((r, i) => {
    if (r.config === null || !r.run.record) return r.run.name;
    const flat = flattenConfig(r.config);
    const fields = differences
      .filter((d) => d.used[i] && flat.has(d.path))
      .map((d) => `${short.get(d.path) ?? d.path}=${shownValue(flat.get(d.path))}`);
    const more = fields.length > namedFields ? ` +${fields.length - namedFields} more` : '';
    const listed = fields.slice(0, namedFields).join(' ');
    return listed === '' ? r.run.name : `${r.run.record.experiment} · ${listed}${more}`;
  });
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  return names.map((n, i) => {
    const record = runs[i].run.record;
    if ((count.get(n) ?? 0) < 2 || !record || n === runs[i].run.name) return n;
    return `${n} · ${record.id}`;
  });
}
