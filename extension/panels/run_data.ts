// Reads a run folder into the panel messages (webview/shared/panel_protocol.ts). Node only, no
// `vscode`, so the browser tests and the benchmark feed the pages through the same code as the
// extension. Nothing here throws for a bad run folder: what cannot be read becomes a problem
// sentence that the panel shows.
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, normalize, sep } from 'node:path';
import { parseMetricsJsonl, parseRegressionEvaluation, parseRunRecord, type MetricRecord, type SampleIndex } from '../../sidecar/protocol/run_folder';
import { recordsToColumns } from '../../webview/shared/metric_table';
import type { CompareRun, InspectorInit, InspectorSample, MonitorInit, RunSummary } from '../../webview/shared/panel_protocol';

async function readText(path: string): Promise<{ text: string } | { error: string }> {
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: code === 'ENOENT' ? 'missing' : (e as Error).message };
  }
}

export async function readRunSummary(runDir: string): Promise<{ run: RunSummary; problems: string[] }> {
  const fallback = `${basename(dirname(runDir))}/${basename(runDir)}`;
  const read = await readText(join(runDir, 'run.json'));
  if ('error' in read) return { run: { runDir, name: fallback, record: null }, problems: [`run.json: ${read.error}`] };
  const parsed = parseRunRecord(read.text);
  if ('error' in parsed) return { run: { runDir, name: fallback, record: null }, problems: [parsed.error] };
  return { run: { runDir, name: `${parsed.record.experiment}/${parsed.record.id}`, record: parsed.record }, problems: [] };
}

/** metrics.jsonl with the byte length read, so that a follower can continue from there. */
export async function readMetrics(runDir: string): Promise<{ records: MetricRecord[]; problems: string[]; bytes: number }> {
  let buffer: Buffer;
  try {
    buffer = await readFile(join(runDir, 'metrics.jsonl'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return { records: [], problems: missing ? [] : [`metrics.jsonl: ${(e as Error).message}`], bytes: 0 };
  }
  // A line still being written (no newline yet) is left for the follower to read when it is complete.
  const end = buffer.lastIndexOf(0x0a) + 1;
  const complete = parseMetricsJsonl(buffer.subarray(0, end).toString('utf8'));
  const tail = buffer.subarray(end).toString('utf8').trim();
  const problems = [...complete.problems];
  if (tail !== '') {
    const last = parseMetricsJsonl(tail);
    if (last.records.length === 1) {
      complete.records.push(...last.records);
      return { records: complete.records, problems, bytes: buffer.length };
    }
    problems.push('metrics.jsonl: the last line is incomplete (the run may still be writing it, or it was cut off)');
  }
  return { records: complete.records, problems, bytes: end };
}

export async function monitorInit(runDir: string): Promise<{ message: MonitorInit; bytes: number }> {
  const [{ run, problems }, metrics] = await Promise.all([readRunSummary(runDir), readMetrics(runDir)]);
  return { message: { type: 'monitor/init', run, columns: recordsToColumns(metrics.records), problems: [...problems, ...metrics.problems] }, bytes: metrics.bytes };
}

function parseSampleIndex(text: string): { index: SampleIndex } | { error: string } {
  try {
    const value = JSON.parse(text) as Partial<SampleIndex>;
    if (!value || !Array.isArray(value.entries)) return { error: 'samples/index.json has no "entries" array' };
    const bad = value.entries.findIndex((e) => !e || typeof e.truth !== 'string' || typeof e.generated !== 'string');
    if (bad >= 0) return { error: `samples/index.json entry ${bad} lacks the "truth" or "generated" file name` };
    return { index: value as SampleIndex };
  } catch (e) {
    return { error: `samples/index.json is not valid JSON (${(e as Error).message})` };
  }
}

export async function inspectorInit(runDir: string): Promise<InspectorInit> {
  const { run, problems } = await readRunSummary(runDir);
  let samples: SampleIndex | null = null;
  const index = await readText(join(runDir, 'samples', 'index.json'));
  if ('text' in index) {
    const parsed = parseSampleIndex(index.text);
    if ('error' in parsed) problems.push(parsed.error);
    else samples = parsed.index;
  } else if (index.error !== 'missing') problems.push(`samples/index.json: ${index.error}`);
  let regression: InspectorInit['regression'] = null;
  const evaluation = await readText(join(runDir, 'eval', 'regression.json'));
  if ('text' in evaluation) {
    const parsed = parseRegressionEvaluation(evaluation.text);
    if ('error' in parsed) problems.push(parsed.error);
    else regression = parsed.evaluation;
  } else if (evaluation.error !== 'missing') problems.push(`eval/regression.json: ${evaluation.error}`);
  if (!samples && !regression && run.record?.status === 'completed') {
    problems.push(run.record.task === 'regression' ? 'eval/regression.json is missing: the run has no test evaluation' : 'samples/index.json is missing: the run has no samples yet');
  }
  return { type: 'inspector/init', run, samples, regression, problems };
}

/** A file named by samples/index.json, refused when the name leads out of samples/. */
async function readSampleFile(runDir: string, name: string): Promise<{ bytes: ArrayBuffer | null; problem?: string }> {
  const folder = join(runDir, 'samples');
  const path = normalize(join(folder, name));
  if (!path.startsWith(folder + sep)) return { bytes: null, problem: `samples/index.json names "${name}", which is outside samples/; not read` };
  try {
    const buffer = await readFile(path);
    return { bytes: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer };
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return { bytes: null, problem: `samples/${name}: ${missing ? 'the file is missing' : (e as Error).message}` };
  }
}

export async function inspectorSample(runDir: string, samples: SampleIndex | null, index: number): Promise<InspectorSample> {
  const entry = samples?.entries[index];
  if (!entry) return { type: 'inspector/sample', index, truth: null, generated: null, problems: [`no sample ${index} in samples/index.json`] };
  const [truth, generated] = await Promise.all([readSampleFile(runDir, entry.truth), readSampleFile(runDir, entry.generated)]);
  const problems = [truth.problem, generated.problem].filter((p): p is string => p !== undefined);
  return { type: 'inspector/sample', index, truth: truth.bytes, generated: generated.bytes, problems };
}

export async function compareRun(runDir: string): Promise<CompareRun> {
  const [{ run, problems }, metrics, config] = await Promise.all([readRunSummary(runDir), readMetrics(runDir), readText(join(runDir, 'config.json'))]);
  let parsedConfig: unknown = null;
  if ('text' in config) {
    try {
      parsedConfig = JSON.parse(config.text);
    } catch (e) {
      problems.push(`config.json is not valid JSON (${(e as Error).message})`);
    }
  } else problems.push(`config.json: ${config.error}`);
  return { run, config: parsedConfig, columns: recordsToColumns(metrics.records), problems: [...problems, ...metrics.problems] };
}
