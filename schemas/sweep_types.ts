// The shapes of an expanded sweep (*.l3m-sweep.json): what `planSweep` returns and what the sweep
// folder, the executors, the CLI and the panels read. The file format itself is
// schemas/l3m-sweep.schema.json; these are its checked, defaulted and expanded form.

/** A JSON value as parsed from a sweep or config file. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The `slurm` section with its defaults filled in; absent fields leave sbatch's own default. */
export interface SlurmOptions {
  partition?: string;
  /** `--time`, as written (e.g. "01:00:00"). */
  time?: string;
  cpus_per_task?: number;
  /** `--mem`, as written (e.g. "8G"). */
  mem?: string;
  gres?: string;
  account?: string;
  /** One job array per sweep (true, the default) or one job per run. */
  array: boolean;
  /** Further `#SBATCH` lines, each one option starting with "-". */
  extra: string[];
  /** The runs folder as the compute nodes see it, absolute; null when it is the same path. */
  shared_dir: string | null;
}

export interface PlannedRun {
  /** Position in expansion order: base → setup → grid point (last key fastest) → repeat. */
  index: number;
  /** Absolute path of the base config. */
  base: string;
  /** The base's experiment name (its file name less .l3m.json): runs go to <runsDir>/<experiment>/. */
  experiment: string;
  /** The setup's name, or null when the sweep has no setups. */
  setup: string | null;
  /** Dotted path → value: the setup's overrides, then the grid point's (not the seed). */
  overrides: Record<string, JsonValue>;
  repeat: number;
  /** training.seed of this run: the same for repeat r of every setup and grid point. */
  seed: number;
  /** The group key from group_by, e.g. "setup=lora-r2, training.lr=0.001". */
  group: string;
  /**
   * The base config with the overrides and the seed applied, not resolved (defaults not filled in).
   * Relative paths in it (data.files.path, backbone.path) are relative to `base`'s folder.
   */
  config: Record<string, JsonValue>;
}

export interface SweepPlan {
  /** Absolute path of the sweep file. */
  sweepPath: string;
  name: string;
  sweepSeed: number;
  repeats: number;
  groupBy: string[];
  executor: 'local' | 'slurm';
  /** K runs at once; null: chosen from the cores and memory. */
  local: { parallel: number | null };
  slurm: SlurmOptions;
  /** Above this many runs the editor asks first and the CLI needs --yes. */
  maxRuns: number;
  runs: PlannedRun[];
}

/** The default of `max_runs`. */
export const defaultMaxRuns = 50;

/**
 * The most runs a sweep may expand to at all. Past `max_runs` a sweep only needs confirmation; past
 * this it is refused, since its expansion and validation would hold the editor for minutes.
 */
export const expansionLimit = 10000;

/** The experiment name of a config path: its file name less .l3m.json (as the run store names runs). */
export function experimentNameOf(configPath: string): string {
  const file = configPath.split(/[\\/]/).pop() ?? configPath;
  return file.replace(/\.l3m\.json$/, '').replace(/\.json$/, '');
}

/**
 * The default sweep name of a sweep path: its file name less .l3m-sweep.json, with any character a
 * name may not hold (it becomes part of a folder name) replaced by "-".
 */
export function sweepNameOf(sweepPath: string): string {
  const file = sweepPath.split(/[\\/]/).pop() ?? sweepPath;
  const stem = file.replace(/\.l3m-sweep\.json$/, '').replace(/\.json$/, '');
  return stem.replace(/[^A-Za-z0-9._-]/g, '-') || 'sweep';
}
