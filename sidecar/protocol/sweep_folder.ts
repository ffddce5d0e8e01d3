// The on-disk format of a sweep: `<runs>/.sweeps/<sweep-id>/`, which lists the runs a sweep file
// expanded to, and the tolerant readers that the CLI (`l3m sweep status`), the RPC server and the
// extension's Runs view share. The folder is hidden so that a listing of runs never takes it for an
// experiment. The runs themselves are ordinary run folders, and each run's own run.json is the single
// source of truth about its state; the sweep folder only says which runs belong together.
//
// <runs>/.sweeps/<sweep-id>/
//   sweep.json   SweepFile, written once (atomically) before any run starts
//   state.json   SweepState, rewritten atomically (cancel flag, submissions, the local runner)
//   local/       the output of each local run's process (run-<index>.log)
//   slurm/       job scripts and logs of the Slurm executor
//
// Part of the protocol, but it reads the file system, so webviews must not import it.
import { readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { readConfined } from './confined_path';
import { errorMessage } from './error_message';
import type { ProcessIdentity, RunStatus } from './run_folder';
import { readRunFolder, type RunListing } from './run_listing';

/** The folder under a runs folder that holds the sweep folders. */
export const sweepsFolderName = '.sweeps';

/** One run of a sweep as sweep.json lists it. */
export interface SweepRunEntry {
  /** Position in the sweep's expansion order. */
  index: number;
  /** The run folder relative to the runs folder: `<experiment>/<run-id>`. */
  runDir: string;
  group: string;
  setup: string | null;
  repeat: number;
  seed: number;
  /** Dotted JSON path → value: the setup's and the grid point's overrides (not the seed). */
  overrides: Record<string, unknown>;
}

/** sweep.json. */
export interface SweepFile {
  /** `<name>-<YYYYMMDD-HHMMSS>-<4 hex>`, the folder's name. */
  id: string;
  name: string;
  /** Absolute path of the `*.l3m-sweep.json` file it was planned from. */
  sweepPath: string;
  createdAt: string;
  executor: 'local' | 'slurm';
  groupBy: string[];
  repeats: number;
  sweepSeed: number;
  runs: SweepRunEntry[];
  /** The sweep file's `local` section: K runs at once, null = chosen from the machine. */
  local?: { parallel: number | null };
  /** The sweep file's `slurm` section, for the Slurm executor (which reads its fields). */
  slurm?: Record<string, unknown>;
  /** The package version that wrote it. */
  version: string;
}

/** The process that runs a local sweep's runs (`l3m sweep run|resume`, or an editor's sidecar). */
export interface SweepRunner {
  pid: number;
  host: string;
  startedAt: string;
  processIdentity?: ProcessIdentity;
}

/** state.json. */
export interface SweepState {
  /** Set by a cancel: no further run starts, and the runner stops the running ones. Resume clears it. */
  cancelled?: boolean;
  /** The Slurm executor's submissions. */
  submissions?: { at: string; jobIds: string[]; runIndexes: number[] }[];
  /** The local runner, so that a cancel from another process asks it rather than signalling its runs twice. */
  runner?: SweepRunner;
}

/** `<runsDir>/.sweeps`. */
export function sweepsDir(runsDir: string): string {
  return join(runsDir, sweepsFolderName);
}

/** The runs folder of a sweep folder (`<runsDir>/.sweeps/<id>` → `<runsDir>`). */
export function runsDirOfSweep(sweepDir: string): string {
  return dirname(dirname(sweepDir));
}

/** Sweep ids are folder names: the sweep's name, then a sortable time and 4 hex digits. */
export function isSweepId(name: string): boolean {
  return /^[A-Za-z0-9._-]+-\d{8}-\d{6}-[0-9a-f]{4}$/.test(name) && !name.startsWith('.');
}

type Parsed<T> = { value: T } | { error: string };

function parseJsonObject(text: string, file: string): Parsed<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `${file} is not valid JSON (${errorMessage(e)})` };
  }
  if (!isObject(value)) return { error: `${file} does not hold an object` };
  return { value };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isProcessIdentity(v: unknown): v is ProcessIdentity {
  return (
    isObject(v) &&
    isCount(v.pid) &&
    isCount(v.startTime) &&
    Array.isArray(v.commandLine) &&
    v.commandLine.every((arg) => typeof arg === 'string') &&
    (v.bootId === undefined || typeof v.bootId === 'string')
  );
}

/** A run folder named relative to the runs folder: `<experiment>/<run-id>`, never leaving it. */
function isRelativeRunDir(value: unknown): value is string {
  if (typeof value !== 'string' || isAbsolute(value)) return false;
  const parts = value.split('/');
  return (
    parts.length === 2 && parts.every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\\'))
  );
}

function parseRunEntry(value: unknown, position: number): Parsed<SweepRunEntry> {
  const where = `sweep.json runs[${position}]`;
  if (!isObject(value)) return { error: `${where} is not an object` };
  if (!isCount(value.index)) return { error: `${where}.index is not a count (got ${JSON.stringify(value.index)})` };
  if (!isRelativeRunDir(value.runDir))
    return {
      error: `${where}.runDir must be "<experiment>/<run-id>" inside the runs folder, got ${JSON.stringify(value.runDir)}`,
    };
  if (typeof value.group !== 'string') return { error: `${where}.group is not a string` };
  if (!(value.setup === null || typeof value.setup === 'string'))
    return { error: `${where}.setup is not a string or null` };
  if (!isCount(value.repeat)) return { error: `${where}.repeat is not a count` };
  if (!isCount(value.seed)) return { error: `${where}.seed is not a count` };
  return {
    value: {
      index: value.index,
      runDir: value.runDir,
      group: value.group,
      setup: value.setup,
      repeat: value.repeat,
      seed: value.seed,
      overrides: isObject(value.overrides) ? value.overrides : {},
    },
  };
}

/**
 * Parses sweep.json. What every reader needs (the id, the executor, the runs with their folders) must
 * be there and well formed, or the sweep is reported unreadable with the reason; descriptive fields
 * that are missing or malformed take a neutral value, so a file written by another version still lists.
 */
export function parseSweepFile(text: string): { sweep: SweepFile } | { error: string } {
  const parsed = parseJsonObject(text, 'sweep.json');
  if ('error' in parsed) return parsed;
  const v = parsed.value;
  if (typeof v.id !== 'string' || !isSweepId(v.id))
    return { error: `sweep.json has no valid "id" (<name>-<YYYYMMDD-HHMMSS>-<4 hex>), got ${JSON.stringify(v.id)}` };
  if (v.executor !== 'local' && v.executor !== 'slurm')
    return { error: `sweep.json has executor ${JSON.stringify(v.executor)}; expected "local" or "slurm"` };
  if (!Array.isArray(v.runs)) return { error: 'sweep.json lacks the "runs" array' };
  const runs: SweepRunEntry[] = [];
  for (let i = 0; i < v.runs.length; i++) {
    const entry = parseRunEntry(v.runs[i], i);
    if ('error' in entry) return entry;
    runs.push(entry.value);
  }
  const indexes = new Set(runs.map((r) => r.index));
  if (indexes.size !== runs.length) return { error: 'sweep.json lists a run index twice' };
  const local = isObject(v.local) ? v.local : undefined;
  const parallel = local && isCount(local.parallel) ? local.parallel : null;
  return {
    sweep: {
      id: v.id,
      name: typeof v.name === 'string' ? v.name : v.id,
      sweepPath: typeof v.sweepPath === 'string' ? v.sweepPath : '',
      createdAt: typeof v.createdAt === 'string' ? v.createdAt : '',
      executor: v.executor,
      groupBy: Array.isArray(v.groupBy) ? v.groupBy.filter((g): g is string => typeof g === 'string') : [],
      repeats: isCount(v.repeats) ? v.repeats : 1,
      sweepSeed: isCount(v.sweepSeed) ? v.sweepSeed : 0,
      runs,
      ...(local ? { local: { parallel } } : {}),
      ...(isObject(v.slurm) ? { slurm: v.slurm } : {}),
      version: typeof v.version === 'string' ? v.version : '',
    },
  };
}

/** Parses state.json; a malformed field is dropped (state.json only steers, the runs hold the truth). */
export function parseSweepState(text: string): { state: SweepState } | { error: string } {
  const parsed = parseJsonObject(text, 'state.json');
  if ('error' in parsed) return parsed;
  const v = parsed.value;
  const state: SweepState = {};
  if (typeof v.cancelled === 'boolean') state.cancelled = v.cancelled;
  if (Array.isArray(v.submissions)) {
    state.submissions = v.submissions.filter(
      (s): s is { at: string; jobIds: string[]; runIndexes: number[] } =>
        isObject(s) &&
        typeof s.at === 'string' &&
        Array.isArray(s.jobIds) &&
        s.jobIds.every((id) => typeof id === 'string') &&
        Array.isArray(s.runIndexes) &&
        s.runIndexes.every(isCount),
    );
  }
  const runner = v.runner;
  if (
    isObject(runner) &&
    isCount(runner.pid) &&
    typeof runner.host === 'string' &&
    typeof runner.startedAt === 'string'
  ) {
    const identity = runner.processIdentity;
    state.runner = {
      pid: runner.pid,
      host: runner.host,
      startedAt: runner.startedAt,
      ...(isProcessIdentity(identity) ? { processIdentity: identity } : {}),
    };
  }
  return { state };
}

export type SweepListing =
  | { kind: 'sweep'; sweepDir: string; sweep: SweepFile }
  | { kind: 'unreadable'; sweepDir: string; id: string; reason: string };

/** Reads one sweep folder's sweep.json; never throws. */
export async function readSweepFolder(sweepDir: string): Promise<SweepListing> {
  const id =
    sweepDir
      .split(/[\\/]/)
      .filter((p) => p !== '')
      .pop() ?? sweepDir;
  const read = await readConfined(sweepDir, 'sweep.json', 'sweep folder');
  if (!('bytes' in read)) {
    const reason = read.missing ? 'no sweep.json: not a sweep folder' : read.problem;
    return { kind: 'unreadable', sweepDir, id, reason };
  }
  const parsed = parseSweepFile(read.bytes.toString('utf8'));
  if ('error' in parsed) return { kind: 'unreadable', sweepDir, id, reason: parsed.error };
  return { kind: 'sweep', sweepDir, sweep: parsed.sweep };
}

/** Reads state.json; a missing or unreadable one is the empty state. */
export async function readSweepState(sweepDir: string): Promise<SweepState> {
  const read = await readConfined(sweepDir, 'state.json', 'sweep folder');
  if (!('bytes' in read)) return {};
  const parsed = parseSweepState(read.bytes.toString('utf8'));
  return 'error' in parsed ? {} : parsed.state;
}

/**
 * Every sweep under `runsDir`, oldest first (ids sort by name, so the creation time orders them). A
 * missing `.sweeps` folder is an empty list; a damaged sweep folder is listed as unreadable with the reason.
 */
export async function listSweeps(runsDir: string): Promise<SweepListing[]> {
  let names: string[];
  try {
    const entries = await readdir(sweepsDir(runsDir), { withFileTypes: true });
    names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
  const listings = await Promise.all(names.map((name) => readSweepFolder(join(sweepsDir(runsDir), name))));
  const time = (l: SweepListing) => (l.kind === 'sweep' ? l.sweep.createdAt : '');
  return listings.sort((a, b) => time(a).localeCompare(time(b)) || a.sweepDir.localeCompare(b.sweepDir));
}

/** One run of a sweep with what its run folder says now. */
export interface SweepRunListing {
  entry: SweepRunEntry;
  /** Absolute run folder. */
  runDir: string;
  listing: RunListing;
}

/** Reads the run folder of every run of a sweep (in index order); never throws. */
export async function readSweepRuns(runsDir: string, sweep: SweepFile): Promise<SweepRunListing[]> {
  const entries = [...sweep.runs].sort((a, b) => a.index - b.index);
  return Promise.all(
    entries.map(async (entry) => {
      const runDir = join(runsDir, entry.runDir);
      return { entry, runDir, listing: await readRunFolder(runDir) };
    }),
  );
}

export interface SweepSummary {
  total: number;
  /** Runs by the status their run.json records. */
  byStatus: Record<RunStatus, number>;
  /** Of the queued and running ones, how many have lost their process (a crash: resume them). */
  stale: number;
  /** Run folders that cannot be read (missing or damaged run.json). */
  unreadable: number;
  /** Whether no run is queued or running any more (stale ones count as ended). */
  ended: boolean;
  /** Failed, stale and unreadable runs, with the reason. */
  failures: { index: number; runDir: string; message: string }[];
}

/** The summary of already read runs (pure; sweepSummary reads them first). */
export function summarizeSweepRuns(runs: readonly SweepRunListing[]): SweepSummary {
  const byStatus: Record<RunStatus, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  const summary: SweepSummary = { total: runs.length, byStatus, stale: 0, unreadable: 0, ended: true, failures: [] };
  for (const { entry, runDir, listing } of runs) {
    if (listing.kind === 'unreadable') {
      summary.unreadable++;
      summary.failures.push({ index: entry.index, runDir, message: listing.reason });
      continue;
    }
    const record = listing.record;
    byStatus[record.status]++;
    if (listing.displayStatus === 'stale') {
      summary.stale++;
      summary.failures.push({
        index: entry.index,
        runDir,
        message: `run.json says "${record.status}" but its process ${record.pid ?? ''} is gone; resume the sweep to continue it`,
      });
    } else if (record.status === 'queued' || record.status === 'running') {
      summary.ended = false;
    }
    if (record.status === 'failed') {
      const exit = record.error?.exitCode !== undefined ? ` (exit code ${record.error.exitCode})` : '';
      summary.failures.push({ index: entry.index, runDir, message: `${record.error?.message ?? 'failed'}${exit}` });
    }
  }
  return summary;
}

/** Counts a sweep's runs by state, with the reason of each failure, from their run folders. */
export async function sweepSummary(runsDir: string, sweep: SweepFile): Promise<SweepSummary> {
  return summarizeSweepRuns(await readSweepRuns(runsDir, sweep));
}
