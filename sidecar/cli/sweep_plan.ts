// `l3m sweep plan <file> [--runs-dir DIR] [--json]`: a sweep file checked and expanded, started
// nothing. Prints the run count, one row per run (index, group, overrides, seed), the parameter and
// memory estimates of each distinct config (as hover shows them) and the estimated run time and time per epoch, from
// earlier runs of the same shape in the runs folder or else a benchmark of the backend, saying which.
// A sweep with errors prints them as file:line:col and exits 1, as `l3m train` does for a config.
import { parseArgs } from 'node:util';
import { relative, resolve } from 'node:path';
import { DiagnosticSeverity } from 'vscode-json-languageservice';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { estimateLine, sweepEstimates } from '../../schemas/sweep_estimates';
import { planSweep, type PlannedRun, type SweepPlan } from '../../schemas/sweep_plan';
import { formatDiagnostic } from '../../schemas/validate_config';
import { exitCodes } from '../protocol/exit_codes';
import { errorMessage } from '../protocol/error_message';
import { configKey, estimateRunTimes, formatDuration, type RunTime } from './sweep_run_time';
import { defaultRunsDir } from './train';

const help = `Usage: l3m sweep plan <file.l3m-sweep.json> [--runs-dir DIR] [--json]

Checks a sweep file and prints its expanded runs without starting anything: the run count, each run's
group, overrides and seed, the parameter and memory estimates of each distinct config, and the
estimated run time (from completed runs of the same shape in the runs folder, else a benchmark of the
backend scaled by the config's FLOPs; the output says which).

Options:
  --runs-dir DIR  where earlier runs are measured (default: $L3M_RUNS_DIR, else runs/ in the file's workspace)
  --json          print one JSON document: { sweep, runs, estimates, runTime, diagnostics }
  -h, --help      show this help

Exit codes: 0 planned (warnings allowed), 1 the sweep file has errors, 2 usage error.`;

/** `{"backbone.finetune": "lora", "training.lr": 0.001}` → `backbone.finetune=lora training.lr=0.001`. */
function overridesText(run: PlannedRun): string {
  const entries = Object.entries(run.overrides);
  if (entries.length === 0) return '(none)';
  return entries
    .map(([path, value]) => `${path}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell.padStart(widths[0]) : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd(),
  );
}

function describeRunTime(time: RunTime): string {
  if (time.seconds === undefined) return time.detail;
  const epoch = time.epochSeconds === undefined ? '' : ` (${formatDuration(time.epochSeconds)} per epoch)`;
  return `${formatDuration(time.seconds)} per run${epoch}: ${time.detail}`;
}

function printPlan(
  plan: SweepPlan,
  path: string,
  estimates: ReturnType<typeof sweepEstimates>,
  runTime: Awaited<ReturnType<typeof estimateRunTimes>>,
): void {
  const runs = plan.runs;
  const groups = new Set(runs.map((r) => r.group));
  console.log(
    `Sweep ${plan.name} (${path}): ${runs.length} run${runs.length === 1 ? '' : 's'} in ${groups.size} group${groups.size === 1 ? '' : 's'}, ${plan.repeats} repeat${plan.repeats === 1 ? '' : 's'} each, sweep seed ${plan.sweepSeed}, executor ${plan.executor}.`,
  );
  console.log('');
  const rows = [['run', 'experiment', 'group', 'overrides', 'repeat', 'seed']];
  for (const run of runs)
    rows.push([String(run.index), run.experiment, run.group, overridesText(run), String(run.repeat), String(run.seed)]);
  for (const line of table(rows)) console.log(line);
  console.log('');
  console.log('Configs:');
  for (const entry of estimates) {
    console.log(`  ${entry.experiment}: ${entry.groups.join('; ')}: ${estimateLine(entry)}`);
  }
  console.log('');
  console.log('Run time:');
  const seen = new Set<string>();
  for (const run of runs) {
    const key = configKey(run);
    if (seen.has(key)) continue;
    seen.add(key);
    const time = runTime.byConfig.get(key);
    if (time) console.log(`  ${run.experiment}: ${run.group}: ${describeRunTime(time)}`);
  }
  console.log(
    runTime.totalSeconds === undefined
      ? '  Total: unknown (see above).'
      : `  Total: ${formatDuration(runTime.totalSeconds)} of runs one at a time${plan.executor === 'local' ? '; K at once share the cores, so the wall time falls by less than K' : ''}.`,
  );
  if (runs.length > plan.maxRuns) {
    console.log(`\n${runs.length} runs is more than max_runs (${plan.maxRuns}): "l3m sweep run" needs --yes.`);
  }
}

export async function runSweepPlan(args: string[]): Promise<number> {
  let values: { 'runs-dir'?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { 'runs-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    console.error(`l3m sweep plan: ${errorMessage(error)}\n\n${help}`);
    return exitCodes.usage;
  }
  if (values.help) {
    console.log(help);
    return exitCodes.ok;
  }
  if (positionals.length !== 1) {
    console.error(`l3m sweep plan: give exactly one sweep file, got ${positionals.length}.\n\n${help}`);
    return exitCodes.usage;
  }
  const result = await planSweep(positionals[0]);
  const fromHere = relative(process.cwd(), result.path);
  const shown = fromHere && !fromHere.startsWith('..') ? fromHere : result.path;
  const lines = result.diagnostics.map((d) => formatDiagnostic(d, shown));
  if (!result.plan) {
    if (values.json) console.log(JSON.stringify({ diagnostics: lines }, null, 2));
    for (const line of lines) console.error(line);
    const errors = result.diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).length;
    console.error(`l3m sweep plan: ${shown} has ${errors} error${errors === 1 ? '' : 's'}; nothing was planned.`);
    return exitCodes.invalid;
  }
  const plan = result.plan;
  const runsDir = resolve(values['runs-dir'] ?? defaultRunsDir(result.path));
  const estimates = sweepEstimates(plan, nodeFileSystem);
  const runTime = await estimateRunTimes(plan, runsDir, nodeFileSystem);
  if (values.json) {
    const { runs, ...sweep } = plan;
    console.log(
      JSON.stringify(
        {
          sweep,
          runs,
          estimates,
          runTime: {
            totalSeconds: runTime.totalSeconds ?? null,
            runs: runs.map((run) => runTime.byConfig.get(configKey(run)) ?? null),
          },
          diagnostics: lines,
        },
        null,
        2,
      ),
    );
    return exitCodes.ok;
  }
  for (const line of lines) console.error(line);
  printPlan(plan, shown, estimates, runTime);
  return exitCodes.ok;
}
