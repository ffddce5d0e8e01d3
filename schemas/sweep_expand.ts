// The expansion of a checked sweep into its runs, pure: the order, the overrides of each run, the
// seeds and the group keys. The order is fixed so that a run's index names the same run in the
// plan, the sweep folder and every executor: base → setup → grid point (cartesian product of the grid
// keys in file order, the last key fastest) → repeat.
import { createHash } from 'node:crypto';
import { isRecord } from './json_value';
import { seedPath } from './sweep_paths';
import { experimentNameOf, type JsonValue, type PlannedRun } from './sweep_types';

export interface SweepSetup {
  name: string;
  overrides: Record<string, JsonValue>;
}

/** A sweep whose file has been checked: everything the expansion needs, nothing it must question. */
export interface SweepSpec {
  /** Name of the sweep: the group of every run when group_by is empty. */
  name: string;
  bases: Array<{ path: string; config: Record<string, JsonValue> }>;
  /** Empty: one unnamed setup without overrides. */
  setups: SweepSetup[];
  /** Grid keys in file order, each with its values. */
  grid: Array<[string, JsonValue[]]>;
  repeats: number;
  sweepSeed: number;
  groupBy: string[];
}

/**
 * training.seed of repeat `repeat`: the first four bytes of sha256("<sweepSeed>:<repeat>") as an
 * unsigned 32-bit integer. It depends on nothing else, so repeat r of every setup and grid point
 * trains from the same seed and setups compare paired, as the paper's repeated runs do.
 */
export function deriveSeed(sweepSeed: number, repeat: number): number {
  return createHash('sha256').update(`${sweepSeed}:${repeat}`).digest().readUInt32BE(0);
}

/** The number of runs of a sweep, computed without expanding it. */
export function runCount(spec: {
  bases: readonly unknown[];
  setups: readonly unknown[];
  grid: ReadonlyArray<[string, readonly unknown[]]>;
  repeats: number;
}): number {
  const points = spec.grid.reduce((product, [, values]) => product * values.length, 1);
  return spec.bases.length * Math.max(1, spec.setups.length) * points * spec.repeats;
}

/** group_by when the file gives none: "base" with several bases, "setup" with setups, every grid key. */
export function defaultGroupBy(baseCount: number, hasSetups: boolean, gridKeys: string[]): string[] {
  return [...(baseCount > 1 ? ['base'] : []), ...(hasSetups ? ['setup'] : []), ...gridKeys];
}

/** A value as it reads in a group key: strings bare, everything else as JSON (0.001, true, [1,2]). */
function groupValue(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

/** "setup=lora-r2, training.lr=0.001" for the group_by entries, in order; the sweep name when none. */
export function groupKey(
  groupBy: readonly string[],
  run: { experiment: string; setup: string | null; overrides: Record<string, JsonValue> },
  sweepName: string,
): string {
  if (groupBy.length === 0) return sweepName;
  return groupBy
    .map((entry) => {
      if (entry === 'base') return `base=${run.experiment}`;
      if (entry === 'setup') return `setup=${run.setup ?? ''}`;
      return `${entry}=${groupValue(run.overrides[entry])}`;
    })
    .join(', ');
}

/** A deep copy of a JSON value, so that overriding one run never touches another or the base. */
function copy<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/**
 * The config with `value` at the dotted `path`; missing or non-object parents become objects (an
 * override may set a field the base leaves to its default).
 */
export function setPath(config: Record<string, JsonValue>, path: string, value: JsonValue): void {
  const keys = path.split('.');
  let node: Record<string, JsonValue> = config;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (isRecord(next)) {
      node = next;
    } else {
      const created: Record<string, JsonValue> = {};
      node[key] = created;
      node = created;
    }
  }
  node[keys[keys.length - 1]] = copy(value);
}

/** The cartesian product of the grid, in file order with the last key fastest; one empty point for no grid. */
export function gridPoints(grid: Array<[string, JsonValue[]]>): Array<Record<string, JsonValue>> {
  let points: Array<Record<string, JsonValue>> = [{}];
  for (const [key, values] of grid) {
    points = points.flatMap((point) => values.map((value) => ({ ...point, [key]: value })));
  }
  return points;
}

/** Every run of the sweep, in expansion order. */
export function expandRuns(spec: SweepSpec): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const setups: Array<SweepSetup | null> = spec.setups.length > 0 ? spec.setups : [null];
  const points = gridPoints(spec.grid);
  for (const base of spec.bases) {
    const experiment = experimentNameOf(base.path);
    for (const setup of setups) {
      for (const point of points) {
        const overrides = { ...(setup?.overrides ?? {}), ...point };
        const group = groupKey(spec.groupBy, { experiment, setup: setup?.name ?? null, overrides }, spec.name);
        for (let repeat = 0; repeat < spec.repeats; repeat++) {
          const config = copy(base.config);
          // The setup's overrides, then the grid point's, then the seed: the later one wins.
          for (const [path, value] of Object.entries(setup?.overrides ?? {})) setPath(config, path, value);
          for (const [path, value] of Object.entries(point)) setPath(config, path, value);
          const seed = deriveSeed(spec.sweepSeed, repeat);
          setPath(config, seedPath, seed);
          runs.push({
            index: runs.length,
            base: base.path,
            experiment,
            setup: setup?.name ?? null,
            overrides: copy(overrides),
            repeat,
            seed,
            group,
            config,
          });
        }
      }
    }
  }
  return runs;
}
