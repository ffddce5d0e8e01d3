// `l3m sweep status` and `l3m sweep cancel`: where a sweep stands, read from its runs' own run.json
// after the executor has brought them up to date (a Slurm job that vanished, a local process that died),
// and the cancel that waits until every run has stopped.
import { isRunnerAlive } from '../sweeps/local_executor';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';
import {
  readSweepRuns,
  readSweepState,
  runsDirOfSweep,
  summarizeSweepRuns,
  type SweepFile,
  type SweepRunListing,
  type SweepSummary,
} from '../protocol/sweep_folder';
import { readSweep } from '../sweeps/sweep_store';
import { createExecutor } from '../sweeps/choose_executor';

/** The executor's refresh, which a missing Slurm executor or an unreachable scheduler only turns into a warning. */
async function refreshed(sweepDir: string, sweep: SweepFile): Promise<void> {
  try {
    await createExecutor(sweep.executor).refresh(sweepDir);
  } catch (error) {
    console.error(`warning: the ${sweep.executor} executor could not refresh the runs: ${errorMessage(error)}`);
  }
}

function statusCell(run: SweepRunListing): string {
  if (run.listing.kind === 'unreadable') return 'unreadable';
  return run.listing.displayStatus;
}

function stepCell(run: SweepRunListing): string {
  if (run.listing.kind !== 'run' || !run.listing.record.progress) return '-';
  const { step, totalSteps } = run.listing.record.progress;
  return `${step}/${totalSteps}`;
}

function jobCell(run: SweepRunListing): string {
  const executor = run.listing.kind === 'run' ? run.listing.record.executor : undefined;
  if (executor?.kind !== 'slurm') return '';
  return executor.arrayTaskId !== undefined ? `${executor.jobId}_${executor.arrayTaskId}` : executor.jobId;
}

/** The counts line: "2 completed, 1 running, 1 failed (4 runs)". */
export function countsLine(summary: SweepSummary): string {
  const parts = (['completed', 'running', 'queued', 'failed', 'cancelled'] as const)
    .filter((status) => summary.byStatus[status] > 0)
    .map((status) => `${summary.byStatus[status]} ${status}`);
  if (summary.stale > 0) parts.push(`${summary.stale} lost their process`);
  if (summary.unreadable > 0) parts.push(`${summary.unreadable} unreadable`);
  return `${parts.join(', ') || 'no runs'} (${summary.total} run${summary.total === 1 ? '' : 's'})`;
}

/** A table with left-aligned columns. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd(),
  );
}

export async function printStatus(sweepDir: string, options: { json: boolean }): Promise<number> {
  const sweep = await readSweep(sweepDir);
  await refreshed(sweepDir, sweep);
  const runs = await readSweepRuns(runsDirOfSweep(sweepDir), sweep);
  const summary = summarizeSweepRuns(runs);
  const state = await readSweepState(sweepDir);
  const running = isRunnerAlive(state.runner);
  if (options.json) {
    const document = {
      sweepDir,
      sweep: {
        id: sweep.id,
        name: sweep.name,
        sweepPath: sweep.sweepPath,
        executor: sweep.executor,
        groupBy: sweep.groupBy,
      },
      cancelled: state.cancelled === true,
      runner: running && state.runner ? { pid: state.runner.pid, host: state.runner.host } : null,
      summary,
      runs: runs.map((run) => ({
        index: run.entry.index,
        group: run.entry.group,
        setup: run.entry.setup,
        repeat: run.entry.repeat,
        seed: run.entry.seed,
        runDir: run.runDir,
        status: statusCell(run),
        progress: run.listing.kind === 'run' ? (run.listing.record.progress ?? null) : null,
        executor: run.listing.kind === 'run' ? (run.listing.record.executor ?? null) : null,
        error: run.listing.kind === 'run' ? (run.listing.record.error ?? null) : { message: run.listing.reason },
      })),
    };
    console.log(JSON.stringify(document, null, 2));
    return exitCodes.ok;
  }
  console.log(`Sweep ${sweep.id} (${sweep.executor}) from ${sweep.sweepPath}`);
  console.log(`  ${countsLine(summary)}`);
  if (running && state.runner) console.log(`  run by process ${state.runner.pid} since ${state.runner.startedAt}`);
  if (state.cancelled) console.log('  cancelled; "l3m sweep resume" runs the unfinished runs again');
  const slurm = runs.some((run) => jobCell(run) !== '');
  const header = ['#', 'group', 'repeat', 'seed', 'status', 'step', ...(slurm ? ['job'] : []), 'run'];
  const rows = runs.map((run) => [
    String(run.entry.index),
    run.entry.group || '-',
    String(run.entry.repeat),
    String(run.entry.seed),
    statusCell(run),
    stepCell(run),
    ...(slurm ? [jobCell(run)] : []),
    run.entry.runDir,
  ]);
  console.log('');
  for (const line of table([header, ...rows])) console.log(line);
  if (summary.failures.length > 0) {
    console.log('\nFailures:');
    for (const failure of summary.failures) {
      const [first, ...more] = failure.message.split('\n');
      console.log(`  #${failure.index} ${first}`);
      for (const line of more) console.log(`      ${line}`);
    }
  }
  const unfinished = summary.byStatus.cancelled + summary.failures.length + (running ? 0 : summary.byStatus.queued);
  if (unfinished > 0 && !running) console.log(`\nResume the unfinished runs with: l3m sweep resume ${sweepDir}`);
  return exitCodes.ok;
}

/** Resolves once no run of the sweep is running and its runner (if any) has ended; polls the run folders. */
async function stopped(sweepDir: string, sweep: SweepFile): Promise<SweepSummary> {
  for (;;) {
    const summary = summarizeSweepRuns(await readSweepRuns(runsDirOfSweep(sweepDir), sweep));
    const runner = (await readSweepState(sweepDir)).runner;
    const live = summary.byStatus.running - summary.stale;
    if (live === 0 && !(runner && runner.pid !== process.pid && isRunnerAlive(runner))) return summary;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function cancelSweep(sweepDir: string): Promise<number> {
  const sweep = await readSweep(sweepDir);
  const executor = createExecutor(sweep.executor);
  await executor.cancel(sweepDir);
  if (sweep.executor === 'local') {
    console.log(`Cancelling sweep ${sweep.id}; each running run stops after its current step and writes a checkpoint…`);
    const summary = await stopped(sweepDir, sweep);
    console.log(`Cancelled: ${countsLine(summary)}.`);
  } else {
    await executor.refresh(sweepDir);
    console.log(`Cancelled the jobs of sweep ${sweep.id}; their runs write a checkpoint and end cancelled.`);
  }
  console.log(`Resume the unfinished runs with: l3m sweep resume ${sweepDir}`);
  return exitCodes.ok;
}
