// `l3m sweep plan|run|status|cancel|resume`: a sweep file (*.l3m-sweep.json) as one action. `run`
// checks and expands the file (a sweep with errors starts nothing), creates the sweep folder and every
// run folder, then runs them on the local executor (blocking, one line per run event) or submits them
// to Slurm (returning once submitted). `status`, `cancel` and `resume` take the sweep folder `run`
// printed, or its id. Exit codes as `l3m train`: 0 all completed, 1 the sweep file or folder has
// errors, 2 usage error, 3 a run failed, 4 runs were cancelled (resumable).
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { planSweep, type SweepPlan } from '../../schemas/sweep_plan';
import { formatDiagnostic, hasErrors } from '../../schemas/validate_config';
import { resolveConfig } from '../../schemas/resolve_config';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';
import type { RunRecord } from '../protocol/run_folder';
import { readSweepRuns, runsDirOfSweep, summarizeSweepRuns, type SweepFile } from '../protocol/sweep_folder';
import { ConfigInvalidError } from '../../schemas/load_config';
import { createSweep, findSweepDir, readSweep, unfinishedRuns, updateSweepState } from '../sweeps/sweep_store';
import { chooseExecutorKind, createExecutor } from '../sweeps/choose_executor';
import type { ExecutorKind, SweepExecutor } from '../sweeps/executor';
import { chooseParallel, machineResources, memoryPerRun } from '../sweeps/parallel_runs';
import { defaultRunsDir } from './train';
import { cancelSweep, printStatus } from './sweep_status';

const help = `Usage: l3m sweep <command> [options]

Runs a group of runs described by a sweep file (*.l3m-sweep.json): repeats with derived seeds, a grid
of overrides, named setups. Every run is an ordinary run folder; the sweep folder <runs>/.sweeps/<id>/
lists them.

Commands:
  plan <file>                 print the expanded runs and estimates; starts nothing (--json)
  run <file>                  create the sweep's runs and run them
      --executor local|slurm  where the runs execute (default: the sweep file's "executor", else local)
      --parallel K            local: K runs at once (default: the sweep file's local.parallel, else
                              chosen from the cores and free memory; each run gets cores/K threads)
      --runs-dir DIR          where runs go (default: $L3M_RUNS_DIR, else runs/ in the file's workspace)
      --dry-run               check and show what would run; create nothing
      --yes                   run a sweep of more runs than its max_runs
  status <sweep>              runs by state, failures with their reason (--json)
  cancel <sweep>              cancel every unfinished run (each ends resumable from its checkpoint)
  resume <sweep>              run the unfinished runs again (queued, cancelled, failed), from their
                              checkpoints; --parallel K as for run
<sweep> is the folder "run" printed, or its id (found under --runs-dir, $L3M_RUNS_DIR or ./runs).

Local runs: Ctrl-C cancels the sweep (each run stops after its current step, resumable); a second
Ctrl-C leaves at once and the runs still stop on their own.
Exit codes: 0 all completed (or submitted), 1 the sweep file or folder has errors, 2 usage error,
3 a run failed, 4 runs were cancelled.`;

const options = {
  executor: { type: 'string' },
  parallel: { type: 'string' },
  'runs-dir': { type: 'string' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

class UsageError extends Error {}

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    console.log(help);
    return command ? exitCodes.ok : exitCodes.usage;
  }
  if (command === 'plan') return (await import('./sweep_plan')).runSweepPlan(rest);
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options, allowPositionals: true, strict: true }));
  } catch (error) {
    console.error(`l3m sweep ${command}: ${errorMessage(error)}\n\n${help}`);
    return exitCodes.usage;
  }
  if (values.help) {
    console.log(help);
    return exitCodes.ok;
  }
  try {
    if (positionals.length !== 1)
      throw new UsageError(
        `give exactly one ${command === 'run' ? 'sweep file' : 'sweep folder'}, got ${positionals.length}`,
      );
    const [subject] = positionals;
    switch (command) {
      case 'run':
        return await runSweep(subject, values);
      case 'status':
        return await printStatus(sweepDirOf(subject, values), { json: values.json === true });
      case 'cancel':
        return await cancelSweep(sweepDirOf(subject, values));
      case 'resume':
        return await resumeSweep(sweepDirOf(subject, values), values);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`l3m sweep ${command}: ${error.message}.\n\n${help}`);
      return exitCodes.usage;
    }
    console.error(`l3m sweep ${command}: ${errorMessage(error)}`);
    return exitCodes.invalid;
  }
}

function sweepDirOf(subject: string, values: Values): string {
  const runsDir = values['runs-dir'] ?? defaultRunsDir(join(process.cwd(), 'sweep'));
  return findSweepDir(subject, resolve(runsDir));
}

function parallelOf(values: Values): { value: number; source: string } | null {
  if (values.parallel === undefined) return null;
  const value = Number(values.parallel);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--parallel needs a whole number of runs, 1 or more; got "${values.parallel}"`);
  return { value, source: '--parallel' };
}

function executorFor(kind: ExecutorKind, values: Values): SweepExecutor {
  return createExecutor(kind, { local: { parallel: parallelOf(values) } });
}

async function runSweep(file: string, values: Values): Promise<number> {
  const parallel = parallelOf(values);
  const result = await planSweep(resolve(file));
  for (const diagnostic of result.diagnostics) console.error(formatDiagnostic(diagnostic, result.path));
  if (!result.plan || hasErrors(result.diagnostics)) {
    console.error(`l3m sweep run: ${result.path} has errors; no run was started.`);
    return exitCodes.invalid;
  }
  const plan = result.plan;
  const kind = chooseExecutorKind(plan.executor, values.executor);
  if (plan.runs.length > plan.maxRuns && values.yes !== true && values['dry-run'] !== true)
    throw new UsageError(
      `${result.path} expands to ${plan.runs.length} runs, more than its max_runs (${plan.maxRuns}); ` +
        'add --yes to run them all, or raise max_runs in the sweep file',
    );
  const runsDir = resolve(values['runs-dir'] ?? defaultRunsDir(plan.sweepPath));
  if (values['dry-run']) {
    printDryRun(plan, kind, runsDir, parallel);
    return exitCodes.ok;
  }
  let sweepDir: string;
  let sweep: SweepFile;
  try {
    ({ sweepDir, sweep } = await createSweep(plan, { runsDir, executor: kind }));
  } catch (error) {
    if (error instanceof ConfigInvalidError) {
      for (const diagnostic of error.diagnostics) console.error(formatDiagnostic(diagnostic, error.path));
      console.error(`l3m sweep run: a run of ${result.path} has an invalid config; no run was started.`);
      return exitCodes.invalid;
    }
    throw error;
  }
  console.log(`Sweep folder: ${sweepDir}`);
  console.log(`${sweep.runs.length} run${sweep.runs.length === 1 ? '' : 's'} on the ${kind} executor.`);
  return execute(
    executorFor(kind, values),
    sweepDir,
    sweep,
    sweep.runs.map((r) => r.index),
  );
}

function printDryRun(
  plan: SweepPlan,
  kind: ExecutorKind,
  runsDir: string,
  parallel: { value: number; source: string } | null,
): void {
  console.log(`Dry run: ${plan.runs.length} runs of ${plan.sweepPath} on the ${kind} executor, into ${runsDir}.`);
  for (const planned of plan.runs)
    console.log(
      `  #${planned.index}  ${planned.experiment}  ${planned.group || '(one group)'}  repeat ${planned.repeat}  seed ${planned.seed}`,
    );
  if (kind === 'local') {
    const perRunBytes = Math.max(
      0,
      ...plan.runs.map((planned) => memoryPerRun(resolveConfig(planned.config), planned.base)),
    );
    const requested =
      parallel ??
      (plan.local.parallel ? { value: plan.local.parallel, source: 'the sweep file (local.parallel)' } : null);
    console.log(
      `Would run ${chooseParallel({ requested, ...machineResources(), perRunBytes, runs: plan.runs.length }).reason}.`,
    );
  }
  console.log('Nothing was created.');
}

async function resumeSweep(sweepDir: string, values: Values): Promise<number> {
  const sweep = await readSweep(sweepDir);
  const executor = executorFor(chooseExecutorKind(sweep.executor, values.executor), values);
  await executor.refresh(sweepDir);
  const indexes = await unfinishedRuns(sweepDir, sweep);
  if (indexes.length === 0) {
    console.log(`Sweep ${sweep.id}: every run is completed or running; nothing to resume.`);
    return exitCodes.ok;
  }
  await updateSweepState(sweepDir, (state) => ({ ...state, cancelled: false }));
  console.log(`Resuming ${indexes.length} unfinished run${indexes.length === 1 ? '' : 's'} of sweep ${sweep.id}.`);
  return execute(executor, sweepDir, sweep, indexes);
}

/** One line a run event: where the sweep stands, which run, what happened. */
function eventLine(sweep: SweepFile, index: number, record: RunRecord, done: number, total: number): string {
  const entry = sweep.runs.find((r) => r.index === index);
  const label = `run #${index}${entry?.group ? ` (${entry.group}, repeat ${entry.repeat})` : entry ? ` (repeat ${entry.repeat})` : ''}`;
  const runDir = entry?.runDir ?? '';
  const seconds =
    record.startedAt && record.endedAt
      ? ` in ${((Date.parse(record.endedAt) - Date.parse(record.startedAt)) / 1000).toFixed(1)} s`
      : '';
  const what =
    record.status === 'failed'
      ? `failed: ${(record.error?.message ?? '').split('\n')[0]}`
      : record.status === 'completed'
        ? `completed${seconds}`
        : record.status === 'cancelled'
          ? record.startedAt
            ? `cancelled at step ${record.progress?.step ?? 0}`
            : 'cancelled before it started'
          : record.status;
  return `[${done}/${total} done] ${label} ${what}  ${runDir}`;
}

/**
 * Runs (local) or submits (slurm) the runs and reports. Ctrl-C, SIGTERM and SIGHUP cancel the sweep
 * once; a second signal leaves without waiting (each run still stops on its own after its step).
 */
async function execute(
  executor: SweepExecutor,
  sweepDir: string,
  sweep: SweepFile,
  indexes: number[],
): Promise<number> {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      console.error(`${signal}: cancelling the sweep; each run stops after its current step and writes a checkpoint…`);
      executor.cancel(sweepDir).catch((error: unknown) => console.error(`Could not cancel: ${errorMessage(error)}`));
      return;
    }
    console.error(`Leaving now; the runs stop on their own. Follow them with: l3m sweep status ${sweepDir}`);
    process.exit(exitCodes.cancelled);
  };
  const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of handled) process.on(signal, onSignal);
  const ended = new Set<number>();
  let done = 0;
  try {
    await executor.start(sweepDir, indexes, {
      runState: (index, _runDir, record) => {
        if (record.status === 'completed' && !ended.has(index)) done += 1;
        if (record.status === 'completed' || record.status === 'failed' || record.status === 'cancelled')
          ended.add(index);
        console.log(eventLine(sweep, index, record, done, indexes.length));
      },
      log: (level, message) => console.error(`${level === 'info' ? '' : `${level}: `}${message}`),
    });
  } finally {
    for (const signal of handled) process.off(signal, onSignal);
  }
  if (executor.kind === 'slurm') {
    console.log(`Submitted. Follow the sweep with: l3m sweep status ${sweepDir}`);
    return exitCodes.ok;
  }
  const runs = await readSweepRuns(runsDirOfSweep(sweepDir), sweep);
  const summary = summarizeSweepRuns(runs.filter((r) => indexes.includes(r.entry.index)));
  const { byStatus } = summary;
  console.log(
    `Sweep ${sweep.id}: ${byStatus.completed} completed, ${byStatus.failed} failed, ${byStatus.cancelled} cancelled` +
      (byStatus.queued + byStatus.running > 0 ? `, ${byStatus.queued + byStatus.running} unfinished` : '') +
      ` of ${indexes.length}.`,
  );
  for (const failure of summary.failures) console.log(`  #${failure.index} ${failure.message.split('\n')[0]}`);
  if (summary.failures.length > 0) return exitCodes.runFailed;
  if (byStatus.completed < indexes.length) {
    console.log(`Resume the unfinished runs with: l3m sweep resume ${sweepDir}`);
    return exitCodes.cancelled;
  }
  return exitCodes.ok;
}
