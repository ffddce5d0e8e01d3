// Every message between the extension host and the sidecar (JSON-RPC 2.0 over stdio, vscode-jsonrpc).
// Both sides import this module and nothing else of each other (docs/conventions.md#process-boundaries).
// Each constant says who sends it and when.
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { MetricRecord, RunRecord, RunStatus, SampleEntry } from './run_folder';
import type { SweepSummary } from './sweep_folder';
import type { RunStage } from './run_stage';

/** The protocol version; the extension refuses a sidecar that speaks another major version. */
export const protocolVersion = '1.0';

// ---- Errors (outside JSON-RPC's reserved range -32768..-32000) ----

export const enum ErrorCodes {
  /** The config has errors; `data` is ConfigErrorData. */
  configInvalid = 1001,
  /** No run with that id, or the run folder is unreadable. */
  runNotFound = 1002,
  /** The run cannot do that in its current state (e.g. sample from a run with no checkpoint). */
  runStateConflict = 1003,
  /** The requested compute backend is not available. */
  backendUnavailable = 1004,
  /** The workspace is not trusted; nothing is started. */
  untrusted = 1005,
  /** The sweep expands to more runs than its max_runs and the request did not say yes; `data` is SweepTooLargeData. */
  sweepTooLarge = 1006,
  /** The run's estimated memory is more than the machine has; nothing was started (the message has the figures). */
  memoryExceeded = 1007,
  /** Anything else that went wrong inside the sidecar. */
  internal = 1099,
}

export interface SweepTooLargeData {
  kind: 'sweep-too-large';
  file: string;
  runs: number;
  maxRuns: number;
}

export interface ConfigErrorData {
  kind: 'config-invalid';
  file: string;
  diagnostics: { line: number; column: number; severity: 'error' | 'warning'; message: string; path: string }[];
}

// ---- Requests (extension → sidecar) ----

/** Sent once after the sidecar starts. */
export interface InitializeParams {
  clientName: string;
  protocolVersion: string;
  runsDir: string;
}
export interface InitializeResult {
  protocolVersion: string;
  sidecarVersion: string;
  pid: number;
}
export const initialize = new RequestType<InitializeParams, InitializeResult, void>('sidecar/initialize');

/** Start training a config. Resolves as soon as the run folder exists (the run may be queued). */
export interface StartRunParams {
  /** Absolute path of a `*.l3m.json` file. */
  configPath: string;
  runsDir: string;
}
export interface StartRunResult {
  runId: string;
  runDir: string;
  status: RunStatus;
}
export const startRun = new RequestType<StartRunParams, StartRunResult, void>('run/start');

/** Resume a cancelled or failed run from its last checkpoint. */
export interface ResumeRunParams {
  runDir: string;
}
export const resumeRun = new RequestType<ResumeRunParams, StartRunResult, void>('run/resume');

/** Cancel a queued or running run; the trainer stops within one step and leaves it resumable. */
export interface CancelRunParams {
  runDir: string;
}
export const cancelRun = new RequestType<CancelRunParams, { status: RunStatus }, void>('run/cancel');

/** Sample lightcone slices from a finished generation run. */
export interface SampleParams {
  runDir: string;
  /** Index of the test lightcone. */
  lightcone: number;
  /** Ground-truth slices given as context. */
  contextSlices: number;
  /** Slices to generate. */
  slices: number;
  /** First context slice in the lightcone (cosmic-time order); default 0. */
  firstSlice?: number;
  seed?: number;
}
export interface SampleResult {
  entry: SampleEntry;
}
export const sample = new RequestType<SampleParams, SampleResult, void>('run/sample');

/** Evaluate a finished run on its test split (writes eval/ in the run folder). */
export interface EvaluateParams {
  runDir: string;
}
export const evaluate = new RequestType<EvaluateParams, { resultFile: string }, void>('run/evaluate');

/** What the sidecar is doing now. */
export interface StatusResult {
  active: { runDir: string; status: RunStatus } | null;
  queued: string[];
}
export const status = new RequestType0<StatusResult, void>('sidecar/status');

/** One run in the sidecar's training queue. */
export interface QueueEntry {
  runDir: string;
  /**
   * 'start': a new run (queued in run.json); 'resume': a cancelled or failed run taken up again, whose
   * run.json keeps that status until it starts.
   */
  kind: 'start' | 'resume';
}
/** The queue: the run training now, and the waiting ones in the order they will run. */
export interface QueueState {
  active: QueueEntry | null;
  waiting: QueueEntry[];
}
/** The queue's order now (the Queue view asks when it first shows). */
export const queueState = new RequestType0<QueueState, void>('queue/state');

/**
 * Sent by the Queue view's Move Up / Move Down: moves a waiting run `offset` places (negative:
 * earlier), clamped to the ends; a running run or one not in the queue is ErrorCodes.runStateConflict.
 * Answers the new order (queue/changed announces it too).
 */
export interface MoveInQueueParams {
  runDir: string;
  offset: number;
}
export const moveInQueue = new RequestType<MoveInQueueParams, QueueState, void>('queue/move');

/** Which compute backends and devices are available. */
export interface BackendProbe {
  name: 'cuda' | 'cpu-native' | 'webgpu' | 'wasm' | 'cpu';
  available: boolean;
  /** Package and version, or why it is unavailable. */
  detail: string;
  device?: string;
  /** For a backend that needs an optional package (cuda, cpu-native, webgpu): where it was looked for. */
  module?: OptionalModuleSearch;
}

/** Where the sidecar looked for an optional backend package, in its order of places. */
export interface OptionalModuleSearch {
  package: string;
  searched: ModuleSearchEntry[];
}

/** One place looked in for an optional package, and what was there. */
export interface ModuleSearchEntry {
  /** The editor's backends folder (L3M_BACKENDS_DIR), or the node_modules folders beside the sidecar. */
  place: 'backends-dir' | 'sidecar';
  /** The package's folder there (…/node_modules/<package>), or where it would be. */
  path: string;
  /** loaded: used; found: present, not loaded (not needed, or found earlier); absent; failed: present but loading threw. */
  outcome: 'loaded' | 'found' | 'absent' | 'failed';
  /** The version (loaded, found), why absent, or the version and the load error (failed). */
  detail: string;
}
export const probeDevices = new RequestType0<{ backends: BackendProbe[]; chosen: string }, void>('devices/probe');

/**
 * Sent by the Sweep action: checks and expands a sweep file, creates its sweep folder and every run
 * folder (queued), and starts the runs on the executor. Resolves once the runs exist (and, on Slurm,
 * are submitted); local runs go on as child processes of the sidecar, announced by sweep/state. A sweep
 * file with errors is ErrorCodes.configInvalid (ConfigErrorData on the sweep file); more runs than
 * max_runs without `yes` is ErrorCodes.sweepTooLarge, so that the editor asks first.
 */
export interface SweepRunParams {
  /** Absolute path of a `*.l3m-sweep.json` file. */
  sweepPath: string;
  runsDir: string;
  /** Overrides the sweep file's executor (the l3m.executor setting). */
  executor?: 'local' | 'slurm';
  /** Local: K runs at once, overriding the sweep file's local.parallel. */
  parallel?: number;
  /** Run a sweep of more runs than its max_runs. */
  yes?: boolean;
  /**
   * Slurm options for what the sweep file's `slurm` section leaves out (the l3m.slurm setting); the
   * sweep file's own win, extra lines add up. Recorded in sweep.json, so a resume uses the same.
   */
  slurm?: SlurmSettings;
}
/** The l3m.slurm setting: the fields of a sweep file's `slurm` section less `array`. */
export interface SlurmSettings {
  partition?: string;
  time?: string;
  cpus_per_task?: number;
  mem?: string;
  gres?: string;
  account?: string;
  extra?: string[];
  shared_dir?: string;
}
export interface SweepRunResult {
  sweepDir: string;
  sweepId: string;
  /** The runs started (resume: the unfinished ones taken up), by their index in the sweep. */
  runs: { index: number; runDir: string }[];
}
export const runSweep = new RequestType<SweepRunParams, SweepRunResult, void>('sweep/run');

/**
 * Cancels every unfinished run of a sweep (queued ones at once, running ones after their current
 * step, each with a checkpoint). Resolves once they have stopped (a local sweep this sidecar runs), once
 * the process that runs it was asked to stop them (a local sweep another process runs), or once their
 * jobs are cancelled (Slurm).
 */
export interface SweepFolderParams {
  /** Absolute path of the sweep folder, <runs>/.sweeps/<sweep-id>. */
  sweepDir: string;
}
export const cancelSweep = new RequestType<SweepFolderParams, { summary: SweepSummary }, void>('sweep/cancel');

/** Runs a sweep's unfinished runs again (queued, cancelled, failed), each from its last checkpoint. */
export interface SweepResumeParams extends SweepFolderParams {
  parallel?: number;
}
export const resumeSweep = new RequestType<SweepResumeParams, SweepRunResult, void>('sweep/resume');

/** Ask the sidecar to finish its work and exit. */
export const shutdown = new RequestType0<void, void>('sidecar/shutdown');

// ---- Notifications (sidecar → extension) ----

/** Throttled training progress (at most a few per second). */
export interface ProgressParams {
  runDir: string;
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number | null;
  lr: number;
  stepsPerSecond: number;
  etaSeconds: number | null;
  /** What the sidecar is doing when not stepping, e.g. "simulating lightcone 3/40". */
  phase?: string;
  /** The run's stage (data, training, evaluating, sampling) with its progress and ETA (run_stage.ts). */
  stage?: RunStage;
}
export const progress = new NotificationType<ProgressParams>('run/progress');

/** New metric records, the same as the lines appended to metrics.jsonl. */
export const metrics = new NotificationType<{ runDir: string; records: MetricRecord[] }>('run/metrics');

/** A sample was written to the run folder. */
export const sampleWritten = new NotificationType<{ runDir: string; entry: SampleEntry }>('run/samples');

/** A run changed state; carries the whole new run.json. */
export type RunStateParams =
  | { kind: 'queued'; runDir: string; record: RunRecord }
  | { kind: 'running'; runDir: string; record: RunRecord }
  | { kind: 'completed'; runDir: string; record: RunRecord }
  | { kind: 'cancelled'; runDir: string; record: RunRecord }
  | { kind: 'failed'; runDir: string; record: RunRecord; message: string };
export const runState = new NotificationType<RunStateParams>('run/state');

/**
 * A sweep that this sidecar runs or submitted changed: sent on every state change of one of its runs,
 * and once more with `ended: true` when its executor is done with it (local: every run ended; Slurm:
 * the jobs were submitted, and the folder tells the rest).
 */
export interface SweepStateParams {
  sweepDir: string;
  summary: SweepSummary;
  ended?: boolean;
}
export const sweepState = new NotificationType<SweepStateParams>('sweep/state');

/** The queue changed: a run entered it, started, ended, was cancelled or was moved. */
export const queueChanged = new NotificationType<QueueState>('queue/changed');

/** A log line for the output channel (the sidecar's stderr carries the same). */
export const log = new NotificationType<{ level: 'info' | 'warn' | 'error'; message: string }>('sidecar/log');

/** Sent just before the sidecar exits because of a fatal error (docs/conventions.md#stdout-protocol). */
export const fatal = new NotificationType<{ message: string; stack?: string }>('sidecar/fatal');
