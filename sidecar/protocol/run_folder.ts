import { errorMessage } from './error_message';
import { isRunStage, type RunStage } from './run_stage';
// The on-disk format of a run folder: the single source of truth about a run (docs/design.md#run-folder).
// The extension, the panels and the sidecar all read these files; only the sidecar writes them.
// This module is part of the protocol, so the extension may import it; it holds types and pure
// parsing only (no file system access), which keeps it usable from a webview as well.
//
// runs/<experiment>/<run-id>/
//   config.json      the resolved experiment config (defaults filled in)
//   run.json         RunRecord
//   metrics.jsonl    one MetricRecord a line
//   checkpoints/     <name>.safetensors + <name>.json (metadata) + optimizer state
//   samples/         index.json (SampleIndex) + .npy files
//   eval/            evaluation results (regression.json, next_patch.json)

/** Life cycle of a run. Allowed transitions are in `allowedTransitions`. */
export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/**
 * Which status may follow which. A cancelled or failed run may be resumed (back to running);
 * a completed run is final.
 */
export const allowedTransitions: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['completed', 'failed', 'cancelled'],
  failed: ['running'],
  cancelled: ['running'],
  completed: [],
};

export interface RunRecord {
  /** Sortable by creation time: `YYYYMMDD-HHMMSS-<4 hex>`. */
  id: string;
  /** The experiment's name (the config file name without `.l3m.json`). */
  experiment: string;
  /** The task the config trains. */
  task: 'regression' | 'generation';
  status: RunStatus;
  /** ISO 8601 times. */
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Absolute path of the config file the run was started from, when there was one. */
  configPath?: string;
  /**
   * The compute backend and device actually used, e.g. { backend: 'wasm', device: 'cpu (2 threads)' },
   * with the backend that was asked for ('auto', 'wasm', …) and by what: the editor's l3m.backend
   * setting (env L3M_BACKEND) or the config's runtime.backend.
   */
  device?: {
    backend: string;
    device: string;
    requested?: string;
    requestedBy?: 'L3M_BACKEND' | 'runtime.backend';
    /** Data-parallel workers that shared each training step (runtime.threads or L3M_THREADS, clamped). */
    workers?: number;
  };
  /** The process that runs (or ran) it, to tell a crashed run from a live one. */
  pid?: number;
  /**
   * Who that process is, beyond its number (which the system reuses): Cancel signals a process only
   * when this still matches it. Absent in run.json files written before it was recorded, and on
   * systems without /proc.
   */
  processIdentity?: ProcessIdentity;
  host?: string;
  /** Why the run failed or was cancelled; absent otherwise. */
  error?: { message: string; step?: number; exitCode?: number };
  /**
   * Progress as last written by the trainer: step counts, and while the run is live its stage (data,
   * training, evaluating, sampling) with that stage's progress and ETA, the measured throughput, and the
   * training's ETA. A run that ended keeps only the step counts.
   */
  progress?: {
    step: number;
    totalSteps: number;
    epoch: number;
    stage?: RunStage;
    stepsPerSecond?: number;
    etaSeconds?: number | null;
  };
  /** The package version that wrote the run. */
  version: string;
  /** `training.seed` of the run, recorded for every run so that repeats can be told apart and redone. */
  seed?: number;
  /** Where the run stands in a sweep, for a run that a sweep created (sidecar/protocol/sweep_folder.ts). */
  sweep?: RunSweepField;
  /** Which executor runs it: a local process, or a Slurm job (with the scheduler's last word on it). */
  executor?: RunExecutorField;
}

/** run.json's `sweep`: the sweep's id and the run's place in its expansion. */
export interface RunSweepField {
  id: string;
  /** Position in the sweep's expansion order (sweep.json's runs[index]). */
  index: number;
  /** The group key the panels average over, e.g. "setup=lora-r2, training.lr=0.001". */
  group: string;
  setup: string | null;
  repeat: number;
}

/** run.json's `executor`. */
export type RunExecutorField =
  { kind: 'local' } | { kind: 'slurm'; jobId: string; arrayTaskId?: number; lastState?: string; lastSeen?: string };

/** A process as Linux's /proc tells it apart from later ones that reuse its pid. */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks after boot (/proc/<pid>/stat, field 22). */
  startTime: number;
  /** Its arguments, the program first (/proc/<pid>/cmdline). */
  commandLine: string[];
  /** /proc/sys/kernel/random/boot_id: start times count from this boot. */
  bootId?: string;
}

/**
 * One line of metrics.jsonl. `split` says where the values come from; the other keys are metric
 * names with numeric values (e.g. loss, lr, grad_norm, steps_per_s, nll, r2_omega_m). Non-finite
 * values are written as null, since JSON has no NaN.
 */
export interface MetricRecord {
  step: number;
  epoch: number;
  /** Seconds since the run started. */
  wall_time: number;
  split: 'train' | 'val' | 'test';
  [metric: string]: number | string | null;
}

/**
 * A line of metrics.jsonl that says how the machine fared rather than how training went: written by the
 * sidecar at a low rate (every 10 s) with `kind: "system"` and no `split`, so that no reader of training
 * metrics takes it for one. `cpu_percent` counts one core as 100 (the training process with its worker
 * threads); `rss_mb` is the process's resident memory; `gpu_mb` the memory its tensors hold on a GPU
 * backend, absent on a CPU one.
 */
export interface SystemRecord {
  kind: 'system';
  /** Seconds since the run started, as in a metric record. */
  wall_time: number;
  /** The last training step when the sample was taken (0 before training). */
  step: number;
  cpu_percent: number | null;
  rss_mb: number | null;
  gpu_mb?: number | null;
  /** The GPU's utilisation in % (nvidia-smi, the busiest visible GPU) on the cuda backend; absent elsewhere. */
  gpu_util?: number | null;
}

/** samples/index.json: what the sampler wrote, in the order it wrote it. */
export interface SampleIndex {
  entries: SampleEntry[];
}

export interface SampleEntry {
  /** Which lightcone of the test split (index into its sorted file list or simulator seed list). */
  lightcone: number;
  /** First slice (time step) of the generated stretch, in the lightcone's own slice numbering. */
  firstSlice: number;
  /** Number of ground-truth context slices before the generated ones. */
  contextSlices: number;
  /** Files relative to samples/: float32 .npy arrays [slices, x, y]. */
  generated: string;
  truth: string;
  /** Redshift of each slice in `truth`, when known. */
  redshifts?: number[];
  /**
   * Training step of the checkpoint whose weights made the sample. Absent in samples written before
   * steps were recorded: a panel shows those as "step unknown".
   */
  checkpointStep?: number;
  /** Comoving side length of a slice [Mpc], when the dataset knows it (the built-in simulator's presets). */
  boxMpc?: number;
  createdAt: string;
}

/** The result of parsing a metrics.jsonl text: good records, and what could not be read. */
export interface ParsedMetrics {
  records: MetricRecord[];
  problems: string[];
  /** System lines (SystemRecord); absent where a reader did not ask for them. */
  system?: SystemRecord[];
  /** System lines that were malformed: skipped and counted, never a problem of the training metrics. */
  systemSkipped?: number;
}

/** How many unreadable lines parseMetricsJsonl describes one by one before it only counts them. */
export const metricsProblemsListed = 20;

/**
 * Parses metrics.jsonl. A run that is still writing may leave a truncated last line, and a disk
 * may corrupt a line: those are reported in `problems` and skipped, never thrown. Only a last line
 * with no line break after it can be a torn write; a bad line that ends with one is corrupt.
 * Each line is looked at once, so a file of garbage costs no more than a file of records; past
 * `metricsProblemsListed` bad lines the rest are counted in one closing problem, since a panel
 * cannot show a hundred thousand sentences. `firstLine` numbers the lines of a text that
 * continues a file (a follower's appended bytes).
 */
export function parseMetricsJsonl(text: string, firstLine = 1): ParsedMetrics {
  const records: MetricRecord[] = [];
  const problems: string[] = [];
  const system: SystemRecord[] = [];
  let systemSkipped = 0;
  const lines = text.split('\n');
  let unlisted = 0;
  let firstUnlisted = 0;
  let lastUnlisted = 0;
  const report = (index: number, reason: string) => {
    if (problems.length < metricsProblemsListed) {
      problems.push(`metrics.jsonl line ${firstLine + index}: ${reason}`);
      return;
    }
    if (unlisted === 0) firstUnlisted = firstLine + index;
    lastUnlisted = firstLine + index;
    unlisted++;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = cannotBeJson(line) ? invalid : JSON.parse(line);
    } catch {
      value = invalid;
    }
    if (value === invalid) {
      report(i, i === lines.length - 1 ? 'truncated last line (the run may still be writing it)' : 'not valid JSON');
      continue;
    }
    if (isMetricRecord(value)) records.push(value);
    else if (isSystemLine(value)) {
      if (isSystemRecord(value)) system.push(value);
      else systemSkipped++;
    } else report(i, 'not a metric record (needs step, epoch, wall_time, split)');
  }
  if (unlisted > 0) {
    const which = unlisted === 1 ? `line ${firstUnlisted}` : `lines ${firstUnlisted} to ${lastUnlisted}`;
    problems.push(
      `metrics.jsonl: ${unlisted.toLocaleString('en-US')} more line${unlisted === 1 ? ' that is not a metric record' : 's that are not metric records'} (${which}) ${unlisted === 1 ? 'was' : 'were'} skipped`,
    );
  }
  return { records, problems, system, systemSkipped };
}

const invalid = Symbol('invalid JSON');

function isSystemLine(value: unknown): value is { kind: 'system' } {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'system';
}

function isSystemRecord(value: { kind: 'system' }): value is SystemRecord {
  const field = (key: string): unknown => Reflect.get(value, key);
  const numberOrNull = (v: unknown) => v === null || typeof v === 'number';
  return (
    typeof field('wall_time') === 'number' &&
    typeof field('step') === 'number' &&
    numberOrNull(field('cpu_percent')) &&
    numberOrNull(field('rss_mb')) &&
    (field('gpu_mb') === undefined || numberOrNull(field('gpu_mb'))) &&
    (field('gpu_util') === undefined || numberOrNull(field('gpu_util')))
  );
}

/**
 * Whether a trimmed line is certainly not JSON, told from its ends alone. A failing JSON.parse
 * costs microseconds (it builds a SyntaxError with an excerpt), which a file of garbage would pay
 * on every line.
 */
function cannotBeJson(line: string): boolean {
  const first = line[0];
  if (first === '{') return line[line.length - 1] !== '}';
  return !'["-0123456789tfn'.includes(first);
}

function isMetricRecord(value: unknown): value is MetricRecord {
  if (typeof value !== 'object' || value === null) return false;
  if (!('step' in value && 'epoch' in value && 'wall_time' in value && 'split' in value)) return false;
  return (
    typeof value.step === 'number' &&
    typeof value.epoch === 'number' &&
    typeof value.wall_time === 'number' &&
    (value.split === 'train' || value.split === 'val' || value.split === 'test')
  );
}

/**
 * The records with each (split, step) once: where a step was written twice (metrics.jsonl of a run
 * resumed by an older L3M Studio, which left the lines written after its checkpoint in place), the
 * last line written wins, since it comes from the process whose checkpoints the run continued from.
 * Each record stays at the position of its last line, so the order of writing is kept.
 */
export function latestPerStep(records: readonly MetricRecord[]): MetricRecord[] {
  const seen = new Set<string>();
  const kept: MetricRecord[] = [];
  for (let i = records.length - 1; i >= 0; i--) {
    const key = `${records[i].split}\u0000${records[i].step}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(records[i]);
  }
  return kept.reverse();
}

/** Parses run.json, returning a reason instead of throwing when it is not a run record. */
export function parseRunRecord(text: string): { record: RunRecord } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `run.json is not valid JSON (${errorMessage(e)})` };
  }
  if (typeof value !== 'object' || value === null) return { error: 'run.json does not hold an object' };
  for (const key of ['id', 'experiment', 'status', 'createdAt'] as const) {
    if (!hasString(value, key)) return { error: `run.json lacks the string field "${key}"` };
  }
  if (!isRunRecord(value)) {
    return { error: `run.json has an unknown status "${'status' in value ? String(value.status) : ''}"` };
  }
  return { record: withoutMalformedSweepFields(value) };
}

/**
 * The record less a `seed`, `sweep` or `executor` field of the wrong shape (hand-edited, or written by
 * another version): those fields only label a run, so a bad one is dropped rather than making the run
 * unreadable, and every reader can trust the types of the ones that remain.
 */
function withoutMalformedSweepFields(record: RunRecord): RunRecord {
  const kept: RunRecord = { ...record };
  if ('seed' in kept && !(typeof kept.seed === 'number' && Number.isInteger(kept.seed) && kept.seed >= 0))
    delete kept.seed;
  if ('sweep' in kept && !isRunSweepField(kept.sweep)) delete kept.sweep;
  if ('executor' in kept && !isRunExecutorField(kept.executor)) delete kept.executor;
  if (kept.progress && 'stage' in kept.progress && !isRunStage(kept.progress.stage)) {
    const { stage: _stage, ...rest } = kept.progress;
    kept.progress = rest;
  }
  return kept;
}

function isRunSweepField(value: unknown): value is RunSweepField {
  if (typeof value !== 'object' || value === null) return false;
  return (
    hasString(value, 'id') &&
    hasString(value, 'group') &&
    'index' in value &&
    isCount(value.index) &&
    'repeat' in value &&
    isCount(value.repeat) &&
    'setup' in value &&
    (value.setup === null || typeof value.setup === 'string')
  );
}

function isRunExecutorField(value: unknown): value is RunExecutorField {
  if (typeof value !== 'object' || value === null || !('kind' in value)) return false;
  if (value.kind === 'local') return true;
  if (value.kind !== 'slurm' || !hasString(value, 'jobId')) return false;
  const optionalString = (key: string) => {
    const field: unknown = Reflect.get(value, key);
    return field === undefined || typeof field === 'string';
  };
  const task: unknown = Reflect.get(value, 'arrayTaskId');
  return (task === undefined || isCount(task)) && optionalString('lastState') && optionalString('lastSeen');
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function hasString<K extends string>(value: object, key: K): value is Record<K, string> {
  const field: unknown = Reflect.get(value, key);
  return typeof field === 'string';
}

function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === 'string' && Object.hasOwn(allowedTransitions, value);
}

/**
 * What the readers of run.json rely on: its identity, its status (one the panels and the queue know)
 * and its creation time. The other fields are optional or informative, and a record written by
 * another version of L3M Studio may lack or add some, so they are read where used.
 */
function isRunRecord(value: object): value is RunRecord {
  return (
    hasString(value, 'id') &&
    hasString(value, 'experiment') &&
    hasString(value, 'createdAt') &&
    'status' in value &&
    isRunStatus(value.status)
  );
}

/**
 * eval/regression.json as the panels read it (written by sidecar/jobs/train_job.ts and evaluate_job.ts
 * from evaluateRegression; the paper's Fig. 6). Values are normalised to [0, 1] with the prior
 * bounds `min`/`max`; non-finite numbers are written as null.
 */
export interface RegressionEvaluationFile {
  kind: 'regression';
  formatVersion: 1;
  testLightcones: number;
  samplesPerLightcone: number;
  nll: number | null;
  parameters: {
    name: string;
    label: string;
    unit: string;
    min: number;
    max: number;
    r2: number | null;
    coverage68: number | null;
    coverage95: number | null;
    meanSigma: number | null;
    bins: {
      lo: number;
      hi: number;
      count: number;
      mean: number | null;
      std: number | null;
      meanAbsError: number | null;
    }[];
  }[];
  points: { id: string; truth: number[]; mean: number[]; sigma: number[] }[];
}

/** Parses eval/regression.json, returning a reason instead of throwing when it is not one. */
export function parseRegressionEvaluation(text: string): { evaluation: RegressionEvaluationFile } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `eval/regression.json is not valid JSON (${errorMessage(e)})` };
  }
  const v = value;
  if (typeof v !== 'object' || v === null || !('kind' in v) || v.kind !== 'regression')
    return { error: 'eval/regression.json does not hold a regression evaluation (kind "regression")' };
  const formatVersion = 'formatVersion' in v ? v.formatVersion : undefined;
  if (formatVersion !== 1)
    return {
      error: `eval/regression.json has format version ${String(formatVersion)}; this version of L3M Studio reads version 1`,
    };
  if (!isRegressionEvaluation(v)) return { error: 'eval/regression.json lacks the "parameters" or "points" array' };
  return { evaluation: v };
}

/**
 * What the panels rely on before drawing: the kind, the version and the two arrays. Their entries are
 * written by the sidecar from one function, and the panels read each field where they draw it.
 */
function isRegressionEvaluation(value: object): value is RegressionEvaluationFile {
  return (
    'kind' in value &&
    value.kind === 'regression' &&
    'formatVersion' in value &&
    value.formatVersion === 1 &&
    'parameters' in value &&
    Array.isArray(value.parameters) &&
    'points' in value &&
    Array.isArray(value.points)
  );
}
