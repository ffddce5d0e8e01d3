// The compare page's check of the runs it received, before it draws them: a run's metric columns
// must each hold `length` values. A column shorter than that means the message lost binary parts on
// the way (VS Code rebuilds a typed array whose buffer did not arrive as an empty one), and drawing
// it would show the run with no data and no word why. Such a run keeps its row, with the reason, and
// no values rather than wrong ones. Pure: no DOM, so the unit tests check it.
import type { MetricColumns } from '../shared/metric_columns';
import type { CompareRun } from '../shared/panel_protocol';

/** Why the columns cannot be drawn, or null when every column has its `length` values. */
export function columnsProblem(columns: MetricColumns): string | null {
  const n = columns.length;
  const short: string[] = [];
  for (const name of ['step', 'epoch', 'wall_time', 'split'] as const)
    if (columns[name]?.length !== n) short.push(`${name} (${columns[name]?.length ?? 0})`);
  for (const metric of columns.metrics)
    if (metric.values?.length !== n || metric.present?.length !== n)
      short.push(`${metric.name} (${Math.min(metric.values?.length ?? 0, metric.present?.length ?? 0)})`);
  if (short.length === 0) return null;
  const listed = short.length > 4 ? `${short.slice(0, 4).join(', ')} and ${short.length - 4} more` : short.join(', ');
  return (
    `its metrics arrived incomplete: ${n} records were sent, but ${listed} arrived with fewer values; ` +
    'nothing of them is shown. Close and reopen Compare; if it happens again, report it as a defect of L3M Studio.'
  );
}

const emptyColumns = (): MetricColumns => ({
  length: 0,
  step: new Float64Array(0),
  epoch: new Float64Array(0),
  wall_time: new Float64Array(0),
  split: new Uint8Array(0),
  metrics: [],
});

/** The runs as the page draws them: a run whose columns did not arrive whole gets none, and the reason among its problems. */
export function checkReceivedRuns(runs: readonly CompareRun[]): CompareRun[] {
  return runs.map((run) => {
    const problem = columnsProblem(run.columns);
    return problem === null ? run : { ...run, columns: emptyColumns(), problems: [...run.problems, problem] };
  });
}

/** What a run's row of the metrics table says beside its values: its problems, or that it has logged no metrics. */
export function rowNote(run: CompareRun): string | null {
  if (run.problems.length > 0) return run.problems.join(' ');
  if (run.columns.length === 0) return 'no metrics logged yet (metrics.jsonl is empty or absent)';
  return null;
}
