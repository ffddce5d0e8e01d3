// The writer of run folders (docs/design.md#run-folder): creating a run, changing its status with checked
// transitions, and appending metrics. The format itself is in sidecar/protocol/run_folder.ts and the
// reader in sidecar/protocol/run_listing.ts, both re-exported here so that sidecar code has one import.
//
// One process writes a given run at a time (the sidecar or `l3m train` that owns it), so a
// read-modify-write of run.json needs no lock; every write is atomic, so readers never see half a file.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  allowedTransitions,
  latestPerStep,
  parseMetricsJsonl,
  parseRunRecord,
  type MetricRecord,
  type ParsedMetrics,
  type ProcessIdentity,
  type RunRecord,
  type RunStatus,
} from '../protocol/run_folder';
import { readProcessIdentity } from '../protocol/run_process';
import { newRunId } from './run_id';
import { syncDirectory, tempFilePrefix, writeFileAtomic } from './atomic_write';
import { removeAbandonedRunFolders } from './run_cleanup';
import { errorCode, errorReason } from '../protocol/error_message';

export {
  listRuns,
  readRunFolder,
  isStale,
  isProcessAlive,
  type RunListing,
  type DisplayStatus,
} from '../protocol/run_listing';
export { writeFileAtomic, writeFileAtomicSync } from './atomic_write';
export { newRunId, isRunId, parseRunIdTime } from './run_id';

/** The package version recorded in each run (kept in step with package.json by a unit test). */
export const packageVersion = '0.1.0';

/** Thrown for a status change that allowedTransitions forbids; names both states. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly runDir: string,
    readonly from: RunStatus,
    readonly to: RunStatus,
  ) {
    const allowed = allowedTransitions[from];
    super(
      `Run ${runDir}: cannot go from "${from}" to "${to}"; from "${from}" a run may only go to ` +
        (allowed.length > 0 ? allowed.map((s) => `"${s}"`).join(', ') : 'nothing (it is final)') +
        '.',
    );
    this.name = 'IllegalTransitionError';
  }
}

/** Thrown when run.json is missing or corrupt while a writer needs it. */
export class RunUnreadableError extends Error {
  constructor(
    readonly runDir: string,
    reason: string,
  ) {
    super(`Run ${runDir} is unreadable: ${reason}. Check that the folder is a run folder made by L3M Studio.`);
    this.name = 'RunUnreadableError';
  }
}

/** Experiment names become folder names, so they must be one safe path segment. */
export function checkExperimentName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[\\/\0]/.test(name) || name.startsWith('.')) {
    throw new Error(
      `Experiment name "${name}" cannot be a folder name; use the config file name without .l3m.json ` +
        '(no slashes, not starting with a dot).',
    );
  }
}

/** The experiment name of a config path: the file name without `.l3m.json` (or `.json`). */
export function experimentNameOf(configPath: string): string {
  const file = configPath.split(/[\\/]/).pop() ?? configPath;
  return file.replace(/\.l3m\.json$/, '').replace(/\.json$/, '');
}

export interface CreateRunOptions {
  runsDir: string;
  experiment: string;
  task: RunRecord['task'];
  /** The resolved config, written to config.json. */
  config: unknown;
  configPath?: string;
  /** 'queued' (default) when the run waits for its turn; 'running' when it starts at once. */
  status?: 'queued' | 'running';
  /** Labels recorded in run.json from the start: the seed, and a sweep's place and executor. */
  labels?: Pick<RunRecord, 'seed' | 'sweep' | 'executor'>;
  /**
   * Whether run.json names this process as the run's owner (default true). A sweep creates its runs
   * queued for other processes (or cluster jobs) to train; naming the creator would make each run look
   * stale once it exits.
   */
  ownedByThisProcess?: boolean;
  /** Only for tests: the creation time and id suffix. */
  now?: Date;
}

export interface CreatedRun {
  runId: string;
  runDir: string;
  record: RunRecord;
}

/**
 * Creates `runsDir/<experiment>/<run-id>/` with config.json and run.json. The folder is filled under a
 * hidden temporary name and renamed to its run id once run.json is in it, so a run folder appears
 * whole or not at all: a process killed half way leaves only a hidden folder, which listings skip and
 * the next createRun in the experiment removes. A rename never replaces a folder that has files, so
 * two processes can never claim the same id: on a collision a new id is drawn.
 */
export async function createRun(options: CreateRunOptions): Promise<CreatedRun> {
  checkExperimentName(options.experiment);
  const experimentDir = join(options.runsDir, options.experiment);
  await mkdir(experimentDir, { recursive: true });
  await removeAbandonedRunFolders(experimentDir);
  const now = options.now ?? new Date();
  for (let attempt = 0; attempt < 20; attempt++) {
    const runId = newRunId(now);
    const runDir = join(experimentDir, runId);
    if (existsSync(runDir)) continue;
    const temporary = join(experimentDir, `${tempFilePrefix}${runId}.${process.pid}.${randomBytes(4).toString('hex')}`);
    await mkdir(temporary);
    let claimed = false;
    try {
      const record = await fillRunFolder(temporary, runId, options, now);
      claimed = await claimFolder(temporary, runDir);
      if (claimed) {
        await syncDirectory(experimentDir);
        return { runId, runDir, record };
      }
    } finally {
      if (!claimed) await rm(temporary, { recursive: true, force: true });
    }
  }
  throw new Error(`Could not create a run folder in ${experimentDir}: 20 run ids in a row already existed.`);
}

/** Renames a filled temporary folder to `runDir`; false when another process holds that id already. */
async function claimFolder(temporary: string, runDir: string): Promise<boolean> {
  try {
    await rename(temporary, runDir);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') return false;
    throw error;
  }
}

/** Writes config.json and run.json into the (temporary) run folder; returns the record. */
async function fillRunFolder(folder: string, runId: string, options: CreateRunOptions, now: Date): Promise<RunRecord> {
  const status = options.status ?? 'queued';
  const record: RunRecord = {
    id: runId,
    experiment: options.experiment,
    task: options.task,
    status,
    createdAt: now.toISOString(),
    ...(status === 'running' ? { startedAt: now.toISOString() } : {}),
    ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
    ...(options.ownedByThisProcess === false ? {} : { pid: process.pid, ...identityOf(process.pid), host: hostname() }),
    version: packageVersion,
    ...options.labels,
  };
  await writeFileAtomic(join(folder, 'config.json'), JSON.stringify(options.config, null, 2) + '\n');
  await writeFileAtomic(join(folder, 'run.json'), JSON.stringify(record, null, 2) + '\n');
  return record;
}

/** `{ processIdentity }` of a pid, for Cancel to recognise the process later; empty where /proc is missing. */
function identityOf(pid: number): { processIdentity?: ProcessIdentity } {
  const identity = readProcessIdentity(pid);
  return identity ? { processIdentity: identity } : {};
}

/** Reads run.json, throwing RunUnreadableError with the reason when it is missing or corrupt. */
export async function readRun(runDir: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(join(runDir, 'run.json'), 'utf8');
  } catch (error) {
    throw new RunUnreadableError(runDir, `run.json cannot be read (${errorReason(error)})`);
  }
  const parsed = parseRunRecord(text);
  if ('error' in parsed) throw new RunUnreadableError(runDir, parsed.error);
  return parsed.record;
}

/** Whether `to` may follow `from`; staying in the same status is always allowed (a progress update). */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return from === to || allowedTransitions[from].includes(to);
}

export type RunUpdate = Partial<Omit<RunRecord, 'id' | 'experiment' | 'createdAt' | 'version'>>;

/**
 * Applies `update` to run.json and writes it atomically. A status change is checked against
 * allowedTransitions (IllegalTransitionError otherwise) and keeps the times consistent: entering
 * `running` sets startedAt (first start only), this process's pid and host, and clears endedAt and
 * error (a resume); entering a final state sets endedAt.
 */
export async function updateRun(runDir: string, update: RunUpdate, now: Date = new Date()): Promise<RunRecord> {
  const current = await readRun(runDir);
  const next: RunRecord = { ...current, ...update };
  if (update.status !== undefined && update.status !== current.status) {
    if (!canTransition(current.status, update.status))
      throw new IllegalTransitionError(runDir, current.status, update.status);
    if (update.status === 'running') {
      next.startedAt = current.startedAt ?? now.toISOString();
      next.pid = update.pid ?? process.pid;
      // The previous process's identity must not stay beside the new pid.
      delete next.processIdentity;
      Object.assign(next, identityOf(next.pid));
      next.host = update.host ?? hostname();
      delete next.endedAt;
      if (update.error === undefined) delete next.error;
    } else if (update.status !== 'queued') {
      next.endedAt = update.endedAt ?? now.toISOString();
    }
  }
  await writeFileAtomic(join(runDir, 'run.json'), JSON.stringify(next, null, 2) + '\n');
  return next;
}

/** Marks a run failed with a reason (and the exit code of the process that died, when known). */
export async function failRun(
  runDir: string,
  message: string,
  extra: { step?: number; exitCode?: number } = {},
): Promise<RunRecord> {
  return updateRun(runDir, { status: 'failed', error: { message, ...extra } });
}

/** JSON has no NaN or Infinity: non-finite metric values are written as null (run_folder.ts). */
function metricLine(record: MetricRecord): string {
  return JSON.stringify(record, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? null : value,
  );
}

/**
 * Appends records to metrics.jsonl, one JSON object a line, in one write so that a concurrent
 * reader sees whole lines (or a truncated last one, which parseMetricsJsonl reports and skips).
 */
export async function appendMetrics(runDir: string, records: readonly MetricRecord[]): Promise<void> {
  if (records.length === 0) return;
  await appendFile(join(runDir, 'metrics.jsonl'), records.map(metricLine).join('\n') + '\n', 'utf8');
}

/**
 * Makes metrics.jsonl continue from `step`, the step training resumes from: the train and val lines
 * after it go (the resumed process writes those steps again), and so do test lines (the evaluation
 * after training writes them again), and a torn last line that a killed process left (the next append
 * would be glued to it). Every other line stays, an unreadable one too, so nothing is lost that the
 * run will not write again. The file is replaced atomically, and only when a line goes.
 */
export async function rewindMetrics(runDir: string, step: number): Promise<void> {
  const path = join(runDir, 'metrics.jsonl');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const lines = text.split('\n');
  // The piece after the last line break is a torn write (or '' when the file ends with one).
  const torn = lines.pop() !== '';
  const kept = lines.filter((line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return true;
    }
    if (typeof value !== 'object' || value === null || !('step' in value) || typeof value.step !== 'number')
      return true;
    if (!('split' in value)) return value.step <= step;
    return value.split !== 'test' && value.step <= step;
  });
  if (!torn && kept.length === lines.length) return;
  await writeFileAtomic(path, kept.map((line) => `${line}\n`).join(''));
}

/** Reads metrics.jsonl, each (split, step) once (latestPerStep); a missing file is an empty list. */
export async function readMetrics(runDir: string): Promise<ParsedMetrics> {
  try {
    const parsed = parseMetricsJsonl(await readFile(join(runDir, 'metrics.jsonl'), 'utf8'));
    return { records: latestPerStep(parsed.records), problems: parsed.problems };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { records: [], problems: [] };
    throw error;
  }
}
