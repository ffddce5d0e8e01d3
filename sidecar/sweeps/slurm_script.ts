// The batch script the Slurm executor submits: `#SBATCH` lines from the sweep's slurm options, a check
// that the run folder can be written from the compute node, and `exec` of the sidecar's train-run command,
// so that the run is the job's main process and Slurm's signals (scancel, time limit, preemption) reach
// it directly. Pure: the executor writes the text to the sweep folder and hands it to sbatch.
import type { SlurmOptions } from '../../schemas/sweep_types';

/** One run a script may start: its folder as the compute node sees it. */
export interface ScriptRun {
  /** The sweep's run index, for the job name and messages. */
  index: number;
  runDir: string;
}

export interface JobScriptInput {
  /** The sweep id (job names). */
  sweepId: string;
  /**
   * The runs: one for a job per run; for a job array, task i of the array starts runs[i]
   * (array task ids are positions, so an array stays small whatever the sweep's indexes).
   */
  runs: ScriptRun[];
  array: boolean;
  options: SlurmOptions;
  /** Where the job writes its stdout and stderr, as the compute node sees it. */
  logDir: string;
  /** The command that runs `l3m` on the compute node: Node, its options, the sidecar's entry. */
  sidecarCommand: string[];
}

/** Exit code of a job whose run folder cannot be written (the run could not even record its failure). */
export const unwritableRunExitCode = 3;

/** The text of a log line the script writes when the run folder is not writable. */
export const unwritableRunMarker = 'is not writable from the compute node';

/** A value as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Reads the `slurm` section of sweep.json (written from the checked sweep file, but a file on disk may
 * have been edited since): the fields that have the right type are kept, and a value that would break
 * out of its `#SBATCH` line is refused with the field named.
 */
export function slurmOptionsOf(raw: unknown, where: string): SlurmOptions {
  const section = isObject(raw) ? raw : {};
  return {
    ...slurmDefaultsOf(raw, where),
    array: typeof section.array === 'boolean' ? section.array : true,
    extra: Array.isArray(section.extra) ? section.extra.filter((e): e is string => typeof e === 'string') : [],
    shared_dir: typeof section.shared_dir === 'string' ? section.shared_dir : null,
  };
}

/**
 * Slurm options that apply where a sweep file leaves them out (the editor's l3m.slurm setting): the
 * same fields as a sweep file's `slurm` section less `array`, checked the same way.
 */
export function slurmDefaultsOf(raw: unknown, where: string): Partial<SlurmOptions> {
  const section = isObject(raw) ? raw : {};
  const options: Partial<SlurmOptions> = {};
  for (const key of ['partition', 'time', 'mem', 'gres', 'account'] as const) {
    const value = section[key];
    if (typeof value === 'string' && value !== '') options[key] = value;
  }
  if (typeof section.cpus_per_task === 'number') options.cpus_per_task = section.cpus_per_task;
  if (Array.isArray(section.extra)) options.extra = section.extra.filter((e): e is string => typeof e === 'string');
  if (typeof section.shared_dir === 'string' && section.shared_dir !== '') options.shared_dir = section.shared_dir;
  checkOneLine(options, where);
  return options;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The sweep file's options over the defaults (the l3m.slurm settings): the sweep file wins, extra lines add up. */
export function mergeSlurmOptions(defaults: Partial<SlurmOptions>, sweep: SlurmOptions): SlurmOptions {
  const merged: SlurmOptions = {
    array: sweep.array,
    extra: [...(defaults.extra ?? []), ...sweep.extra],
    shared_dir: sweep.shared_dir ?? defaults.shared_dir ?? null,
  };
  for (const key of ['partition', 'time', 'mem', 'gres', 'account'] as const) {
    const value = sweep[key] ?? defaults[key];
    if (value !== undefined) merged[key] = value;
  }
  const cpus = sweep.cpus_per_task ?? defaults.cpus_per_task;
  if (cpus !== undefined) merged.cpus_per_task = cpus;
  return merged;
}

function checkOneLine(options: Partial<SlurmOptions>, where: string): void {
  const fields: [string, string | undefined][] = [
    ['partition', options.partition],
    ['time', options.time],
    ['mem', options.mem],
    ['gres', options.gres],
    ['account', options.account],
    ...(options.extra ?? []).map((line, i): [string, string] => [`extra[${i}]`, line]),
  ];
  for (const [field, value] of fields) {
    if (value === undefined) continue;
    if (/[\r\n\0]/.test(value)) {
      throw new Error(
        `${where}: slurm.${field} holds a line break (${JSON.stringify(value)}); each option must be one #SBATCH line. ` +
          'Split it into separate entries of slurm.extra.',
      );
    }
    if (field.startsWith('extra') && !value.startsWith('-')) {
      throw new Error(
        `${where}: slurm.${field} is ${JSON.stringify(value)}, which is not an sbatch option; write it as it goes after #SBATCH, starting with "-", e.g. "--qos=normal".`,
      );
    }
  }
  if (options.cpus_per_task !== undefined && !(Number.isInteger(options.cpus_per_task) && options.cpus_per_task >= 1)) {
    throw new Error(
      `${where}: slurm.cpus_per_task is ${options.cpus_per_task}; expected a whole number of at least 1.`,
    );
  }
}

/** The `#SBATCH` options for the sweep's slurm options, in a fixed order, without the `#SBATCH ` prefix. */
export function sbatchOptions(options: SlurmOptions): string[] {
  const lines: string[] = [];
  if (options.partition !== undefined) lines.push(`--partition=${options.partition}`);
  if (options.time !== undefined) lines.push(`--time=${options.time}`);
  if (options.cpus_per_task !== undefined) lines.push(`--cpus-per-task=${options.cpus_per_task}`);
  if (options.mem !== undefined) lines.push(`--mem=${options.mem}`);
  if (options.gres !== undefined) lines.push(`--gres=${options.gres}`);
  if (options.account !== undefined) lines.push(`--account=${options.account}`);
  return [...lines, ...options.extra];
}

/** The job's log files: `%A_%a` for an array task, `%j` for a job (sbatch fills them in). */
export function logPattern(logDir: string, array: boolean, extension: 'out' | 'err'): string {
  return `${logDir}/${array ? '%A_%a' : '%j'}.${extension}`;
}

/** The log a job wrote, once its id is known: the same names as logPattern. */
export function logFile(
  logDir: string,
  jobId: string,
  arrayTaskId: number | undefined,
  extension: 'out' | 'err',
): string {
  return `${logDir}/${arrayTaskId === undefined ? jobId : `${jobId}_${arrayTaskId}`}.${extension}`;
}

/** The batch script. */
export function jobScript(input: JobScriptInput): string {
  const { runs, array } = input;
  if (runs.length === 0) throw new Error('jobScript needs at least one run.');
  if (!array && runs.length !== 1) throw new Error(`A job without an array starts one run, not ${runs.length}.`);
  const name = array ? `l3m-${input.sweepId}` : `l3m-${input.sweepId}-${runs[0].index}`;
  const header = [
    `--job-name=${name}`,
    // A job that Slurm starts a second time (requeue after a node failure) would find its run "running"
    // and refuse it; the run is marked failed instead, and the sweep's Resume continues it.
    '--no-requeue',
    `--output=${logPattern(input.logDir, array, 'out')}`,
    `--error=${logPattern(input.logDir, array, 'err')}`,
    // The folder sbatch was called from may not exist on the compute nodes; the sweep's log folder does.
    `--chdir=${input.logDir}`,
    ...sbatchOptions(input.options),
  ].map((option) => `#SBATCH ${quoteOptionValue(option)}`);

  const pick = array
    ? [
        'case "${SLURM_ARRAY_TASK_ID:-}" in',
        ...runs.map((run, position) => `  ${position}) run=${shellQuote(run.runDir)} ;;`),
        `  *) echo "L3M Studio: array task \${SLURM_ARRAY_TASK_ID:-(none)} of job \${SLURM_JOB_ID:-?} has no run in this script (tasks 0 to ${runs.length - 1})." >&2; exit 2 ;;`,
        'esac',
      ]
    : [`run=${shellQuote(runs[0].runDir)}`];

  return [
    '#!/bin/bash',
    ...header,
    '# Written by L3M Studio for one submission of a sweep; resubmitting it reruns the same runs.',
    ...pick,
    // The compute node must be able to write the run folder (a shared file system): otherwise the run
    // could not even record its failure, so the job says why in its log and exits, and the sweep's status
    // check marks the run failed with this message.
    'probe="$run/.l3m-write-check.${SLURM_JOB_ID:-$$}"',
    'if ! { : > "$probe"; } 2>/dev/null; then',
    `  echo "L3M Studio: the run folder $run ${unwritableRunMarker} $(hostname) as user $(id -un). Put the runs folder on a file system the compute nodes share and can write; if they mount it under another path, set slurm.shared_dir in the sweep file." >&2`,
    `  exit ${unwritableRunExitCode}`,
    'fi',
    'rm -f "$probe"',
    // The run uses the cores Slurm gave the job, not every core of the node.
    'export L3M_THREADS="${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-1}}"',
    `exec ${input.sidecarCommand.map(shellQuote).join(' ')} train-run "$run"`,
    '',
  ].join('\n');
}

/** `--output=/a b/x` → `--output='/a b/x'`: sbatch reads a quoted value on an #SBATCH line as one. */
function quoteOptionValue(option: string): string {
  const equals = option.indexOf('=');
  if (equals < 0) return option;
  const value = option.slice(equals + 1);
  if (!/\s/.test(value) || /^(['"]).*\1$/.test(value)) return option;
  const quote = value.includes("'") ? '"' : "'";
  if (value.includes(quote)) {
    throw new Error(
      `The sbatch option ${option} holds spaces and both kinds of quotes, so it cannot be one #SBATCH line; rename the folder or remove the quotes.`,
    );
  }
  return `${option.slice(0, equals)}=${quote}${value}${quote}`;
}
