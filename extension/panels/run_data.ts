// Reads a run folder into the panel messages (webview/shared/panel_protocol.ts). Node only, no
// `vscode`, so the browser tests and the benchmark feed the pages through the same code as the
// extension. Nothing here throws for a bad run folder: what cannot be read becomes a problem
// sentence that the panel shows. Every file is read through readConfined: a link that leads out of
// the run folder is refused (sidecar/protocol/confined_path.ts).
import { basename, dirname, join, normalize, sep } from 'node:path';
import { isRecord } from '../../schemas/json_value';
import { readConfined } from '../../sidecar/protocol/confined_path';
import { errorMessage } from '../../sidecar/protocol/error_message';
import {
  latestPerStep,
  parseMetricsJsonl,
  parseRegressionEvaluation,
  parseRunRecord,
  type MetricRecord,
  type RunRecord,
  type SampleEntry,
  type SystemRecord,
  type SampleIndex,
} from '../../sidecar/protocol/run_folder';
import { readSweepFolder, runsDirOfSweep } from '../../sidecar/protocol/sweep_folder';
import { parseMetricsWindows } from './metrics_windows';
import { recordsToColumns } from '../../webview/shared/metric_table';
import type {
  CompareRun,
  InspectorInit,
  InspectorSample,
  MonitorAppend,
  MonitorInit,
  RunSummary,
} from '../../webview/shared/panel_protocol';

/** A text file of the run folder by its '/'-separated name; `error` is 'missing' or a whole sentence. */
async function readText(runDir: string, name: string): Promise<{ text: string } | { error: string }> {
  const read = await readConfined(runDir, name);
  if ('bytes' in read) return { text: read.bytes.toString('utf8') };
  return { error: read.missing ? 'missing' : read.problem };
}

/** "name: missing" for an absent file; a refused or unreadable file's sentence already names it. */
function describeError(name: string, error: string): string {
  return error === 'missing' ? `${name}: missing` : error;
}

export async function readRunSummary(runDir: string): Promise<{ run: RunSummary; problems: string[] }> {
  const fallback = `${basename(dirname(runDir))}/${basename(runDir)}`;
  const read = await readText(runDir, 'run.json');
  if ('error' in read)
    return { run: { runDir, name: fallback, record: null }, problems: [describeError('run.json', read.error)] };
  const parsed = parseRunRecord(read.text);
  if ('error' in parsed) return { run: { runDir, name: fallback, record: null }, problems: [parsed.error] };
  return {
    run: { runDir, name: `${parsed.record.experiment}/${parsed.record.id}`, record: parsed.record },
    problems: [],
  };
}

/** What readMetrics read of metrics.jsonl. */
export interface ReadMetrics {
  records: MetricRecord[];
  problems: string[];
  /** The system lines (run_folder.ts SystemRecord) and the malformed ones skipped. */
  system: SystemRecord[];
  systemSkipped: number;
  /** The byte length read, so that a follower can continue from there. */
  bytes: number;
  /** Whether the file ends in a piece of a line (no line break after it) that is no record. */
  incompleteTail: boolean;
}

/**
 * The sentence for a last line without its end. While the run is live this is a line still being written,
 * which the follower reads once it is complete: no problem at all. A run that ended was cut off there.
 */
export const cutOffLastLine =
  'metrics.jsonl: the last line is incomplete (the run ended while writing it); it was skipped';

/** Whether a run may still append to its metrics.jsonl (a missing run.json says nothing, so it may). */
export function mayStillWrite(record: RunRecord | null): boolean {
  return record === null || record.status === 'running' || record.status === 'queued';
}

/**
 * metrics.jsonl with the byte length read. A line still being written (no newline yet) is left for the
 * follower to read when it is complete, and is not a problem here: the caller, who knows whether the run
 * is still live, decides that with `incompleteTail` (see cutOffLastLine).
 */
export async function readMetrics(runDir: string): Promise<ReadMetrics> {
  const read = await readConfined(runDir, 'metrics.jsonl');
  if (!('bytes' in read))
    return {
      records: [],
      problems: read.missing ? [] : [read.problem],
      system: [],
      systemSkipped: 0,
      bytes: 0,
      incompleteTail: false,
    };
  const buffer = read.bytes;
  const complete = await parseMetricsWindows(buffer);
  const { end, system, systemSkipped } = complete;
  const tail = buffer.subarray(end).toString('utf8').trim();
  const problems = [...complete.problems];
  if (tail !== '') {
    const last = parseMetricsJsonl(tail);
    if (last.records.length === 1 || last.system?.length === 1) {
      complete.records.push(...last.records);
      system.push(...(last.system ?? []));
      return {
        records: latestPerStep(complete.records),
        problems,
        system,
        systemSkipped,
        bytes: buffer.length,
        incompleteTail: false,
      };
    }
  }
  // A step written twice (a run resumed by an older version) is shown once, as its last line says.
  return {
    records: latestPerStep(complete.records),
    problems,
    system,
    systemSkipped,
    bytes: end,
    incompleteTail: tail !== '',
  };
}

/** readMetrics' problems with the cut-off last line of a run that ended. */
function metricsProblems(metrics: ReadMetrics, record: RunRecord | null): string[] {
  return metrics.incompleteTail && !mayStillWrite(record) ? [...metrics.problems, cutOffLastLine] : metrics.problems;
}

/** The number of test lightcones in eval/regression.json; null when there is none (its problems are the inspector's to show). */
async function readTestLightcones(runDir: string): Promise<number | null> {
  const read = await readText(runDir, 'eval/regression.json');
  if ('error' in read) return null;
  const parsed = parseRegressionEvaluation(read.text);
  return 'error' in parsed || typeof parsed.evaluation.testLightcones !== 'number'
    ? null
    : parsed.evaluation.testLightcones;
}

export async function monitorInit(runDir: string): Promise<{ message: MonitorInit; bytes: number }> {
  const [{ run, problems }, metrics, testLightcones] = await Promise.all([
    readRunSummary(runDir),
    readMetrics(runDir),
    readTestLightcones(runDir),
  ]);
  return {
    message: {
      type: 'monitor/init',
      run,
      columns: recordsToColumns(metrics.records),
      problems: [...problems, ...metricsProblems(metrics, run.record)],
      testLightcones,
      system: metrics.system,
      systemSkipped: metrics.systemSkipped,
    },
    bytes: metrics.bytes,
  };
}

/** Appended records for the monitor; with the test record comes the size of the test split. */
export async function monitorAppend(
  runDir: string,
  records: MetricRecord[],
  problems: string[],
  system: { records: SystemRecord[]; skipped: number } = { records: [], skipped: 0 },
): Promise<MonitorAppend> {
  const message: MonitorAppend = { type: 'monitor/append', records, problems };
  if (system.records.length > 0 || system.skipped > 0) {
    message.system = system.records;
    message.systemSkipped = system.skipped;
  }
  if (records.some((r) => r.split === 'test')) message.testLightcones = await readTestLightcones(runDir);
  return message;
}

function isSampleEntry(value: unknown): value is SampleEntry {
  return (
    isRecord(value) &&
    typeof value.lightcone === 'number' &&
    typeof value.firstSlice === 'number' &&
    typeof value.contextSlices === 'number' &&
    typeof value.generated === 'string' &&
    typeof value.truth === 'string' &&
    typeof value.createdAt === 'string' &&
    (value.redshifts === undefined ||
      (Array.isArray(value.redshifts) && value.redshifts.every((z) => typeof z === 'number')))
  );
}

/**
 * Optional fields of the entries that are malformed, dropped from their entry with the reason each: a
 * sample is still shown, as "step unknown" or with axes in cells, rather than refused.
 */
function dropMalformedOptionalFields(entries: SampleEntry[]): string[] {
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const step: unknown = entry.checkpointStep;
    if (step !== undefined && !(typeof step === 'number' && Number.isInteger(step) && step >= 0)) {
      problems.push(
        `samples/index.json entry ${i}: "checkpointStep" is ${JSON.stringify(step)}, not a training step (an integer ≥ 0); the sample is shown as "step unknown"`,
      );
      delete entry.checkpointStep;
    }
    const side: unknown = entry.boxMpc;
    if (side !== undefined && !(typeof side === 'number' && Number.isFinite(side) && side > 0)) {
      problems.push(
        `samples/index.json entry ${i}: "boxMpc" is ${JSON.stringify(side)}, not a slice side in Mpc (a number > 0); its axes are in cells`,
      );
      delete entry.boxMpc;
    }
  });
  return problems;
}

function parseSampleIndex(text: string): { index: SampleIndex; problems: string[] } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `samples/index.json is not valid JSON (${errorMessage(e)})` };
  }
  if (!isRecord(value) || !Array.isArray(value.entries)) return { error: 'samples/index.json has no "entries" array' };
  const bad = value.entries.findIndex((e) => !isSampleEntry(e));
  if (bad >= 0) {
    return {
      error: `samples/index.json entry ${bad} is not a sample entry: it needs "truth", "generated" and "createdAt" strings, "lightcone", "firstSlice" and "contextSlices" numbers, and "redshifts", if any, as numbers`,
    };
  }
  const entries = value.entries.filter(isSampleEntry);
  return { index: { ...value, entries }, problems: dropMalformedOptionalFields(entries) };
}

export async function inspectorInit(runDir: string): Promise<InspectorInit> {
  const { run, problems } = await readRunSummary(runDir);
  let samples: SampleIndex | null = null;
  const index = await readText(runDir, 'samples/index.json');
  if ('text' in index) {
    const parsed = parseSampleIndex(index.text);
    if ('error' in parsed) problems.push(parsed.error);
    else {
      samples = parsed.index;
      problems.push(...parsed.problems);
    }
  } else if (index.error !== 'missing') problems.push(index.error);
  let regression: InspectorInit['regression'] = null;
  const evaluation = await readText(runDir, 'eval/regression.json');
  if ('text' in evaluation) {
    const parsed = parseRegressionEvaluation(evaluation.text);
    if ('error' in parsed) problems.push(parsed.error);
    else regression = parsed.evaluation;
  } else if (evaluation.error !== 'missing') problems.push(evaluation.error);
  if (!samples && !regression && run.record?.status === 'completed') {
    problems.push(
      run.record.task === 'regression'
        ? 'eval/regression.json is missing: the run has no test evaluation'
        : 'samples/index.json is missing: the run has no samples yet',
    );
  }
  return { type: 'inspector/init', run, samples, regression, problems };
}

/**
 * A file named by samples/index.json: refused when its name leads out of samples/, or when a link
 * (the file or samples/ itself) leads out of the run folder.
 */
async function readSampleFile(runDir: string, name: string): Promise<{ bytes: ArrayBuffer | null; problem?: string }> {
  const folder = join(runDir, 'samples');
  const path = normalize(join(folder, name));
  if (!path.startsWith(folder + sep))
    return { bytes: null, problem: `samples/index.json names "${name}", which is outside samples/; not read` };
  const read = await readConfined(runDir, `samples/${name}`);
  if ('bytes' in read) {
    // A copy of exactly the file's bytes: a Buffer may be a view into a larger, shared pool.
    const bytes = new ArrayBuffer(read.bytes.byteLength);
    new Uint8Array(bytes).set(read.bytes);
    return { bytes };
  }
  return { bytes: null, problem: read.missing ? `samples/${name}: the file is missing` : read.problem };
}

export async function inspectorSample(
  runDir: string,
  samples: SampleIndex | null,
  index: number,
): Promise<InspectorSample> {
  const entry = samples?.entries[index];
  if (!entry)
    return {
      type: 'inspector/sample',
      index,
      truth: null,
      generated: null,
      problems: [`no sample ${index} in samples/index.json`],
    };
  const [truth, generated] = await Promise.all([
    readSampleFile(runDir, entry.truth),
    readSampleFile(runDir, entry.generated),
  ]);
  const problems = [truth.problem, generated.problem].filter((p): p is string => p !== undefined);
  return { type: 'inspector/sample', index, truth: truth.bytes, generated: generated.bytes, problems };
}

export async function compareRun(runDir: string): Promise<CompareRun> {
  const [{ run, problems }, metrics, config] = await Promise.all([
    readRunSummary(runDir),
    readMetrics(runDir),
    readText(runDir, 'config.json'),
  ]);
  let parsedConfig: unknown = null;
  if ('text' in config) {
    try {
      parsedConfig = JSON.parse(config.text);
    } catch (e) {
      problems.push(`config.json is not valid JSON (${errorMessage(e)})`);
    }
  } else problems.push(describeError('config.json', config.error));
  return {
    run,
    config: parsedConfig,
    columns: recordsToColumns(metrics.records),
    problems: [...problems, ...metricsProblems(metrics, run.record)],
  };
}

/**
 * The run folders of a sweep folder (`<runsDir>/.sweeps/<id>`), in its expansion order, for Compare;
 * an unreadable sweep.json gives the reason. sweep.json names each run relative to the runs folder and
 * its parser refuses a name that would leave it.
 */
export async function sweepRunDirs(sweepDir: string): Promise<{ runDirs: string[] } | { error: string }> {
  const listing = await readSweepFolder(sweepDir);
  if (listing.kind === 'unreadable') return { error: `${sweepDir}: ${listing.reason}` };
  const runsDir = runsDirOfSweep(sweepDir);
  const runs = [...listing.sweep.runs].sort((a, b) => a.index - b.index);
  if (runs.length === 0) return { error: `${sweepDir}: sweep.json lists no runs` };
  return { runDirs: runs.map((r) => join(runsDir, r.runDir)) };
}
