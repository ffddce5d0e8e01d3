// The Slurm executor: submits a sweep's runs with sbatch, one job array per submission (slurm.array,
// the default) or one job per run, and follows them through squeue and scontrol. Each job `exec`s
// `l3m train-run <run folder>` (slurm_script.ts), so a run on a compute node is the same process as a
// local one and Slurm's SIGTERM (scancel, time limit, preemption) makes it checkpoint and end
// "cancelled", resumable. The run folders must be on a file system that this machine and the compute
// nodes share: the run folder stays the single source of truth.
//
// Who writes run.json, and when: the executor records the job id before the job can start (jobs are
// submitted held and released once recorded), and after that only once Slurm says the job is over or
// has forgotten it (slurm_verdict.ts); while the job lives, its process alone writes the run. What
// Slurm last said of each job is kept in <sweep>/slurm/jobs.json, so that a job that vanished (purged,
// or lost with its controller) is reported with Slurm's last word.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type { SlurmOptions } from '../../schemas/sweep_types';
import type { RunRecord } from '../protocol/run_folder';
import { runsDirOfSweep, type SweepFile, type SweepRunEntry, type SweepState } from '../protocol/sweep_folder';
import { errorMessage } from '../protocol/error_message';
import { readRun, updateRun, writeFileAtomic } from '../runs/run_store';
import type { SweepEvents, SweepExecutor } from './executor';
import { readSweep, updateSweepState } from './sweep_store';
import { thisSidecarCommand } from './sidecar_command';
import { jobScript, logFile, mergeSlurmOptions, slurmOptionsOf } from './slurm_script';
import {
  cancelJobs,
  jobKey,
  queryJobs,
  releaseJobs,
  showJob,
  submitHeld,
  SlurmCommandError,
  type JobObservation,
  type SlurmClientOptions,
} from './slurm_commands';
import { isActiveJobState, slurmVerdict, type LastSeen } from './slurm_verdict';
import { readSweepState } from '../protocol/sweep_folder';

export interface SlurmExecutorOptions {
  /** The command that runs `l3m` on the compute nodes (default: this process's own Node and entry). */
  sidecarCommand?: string[];
  /** Options under the sweep file's (the editor's l3m.slurm settings); the sweep file's win. */
  defaults?: Partial<SlurmOptions>;
  /** Environment of the Slurm commands (SLURM_CONF and the like); default: this process's. */
  env?: NodeJS.ProcessEnv;
}

/** One run of the sweep with its run.json and the job recorded there. */
interface TrackedRun {
  entry: SweepRunEntry;
  runDir: string;
  record: RunRecord;
  job: { jobId: string; arrayTaskId?: number; key: string } | null;
}

/** The run.json `executor` of a Slurm run. */
type SlurmField = Extract<NonNullable<RunRecord['executor']>, { kind: 'slurm' }>;

const jobsFile = 'jobs.json';
const logTailBytes = 1500;

export class SlurmExecutor implements SweepExecutor {
  readonly kind = 'slurm' as const;

  constructor(private readonly options: SlurmExecutorOptions = {}) {}

  private get client(): SlurmClientOptions {
    return this.options.env ? { env: this.options.env } : {};
  }

  /** The sweep's slurm options, the settings under them. */
  private slurmOptions(sweepDir: string, sweep: SweepFile): SlurmOptions {
    return mergeSlurmOptions(this.options.defaults ?? {}, slurmOptionsOf(sweep.slurm, join(sweepDir, 'sweep.json')));
  }

  async start(folder: string, runIndexes: number[], events: SweepEvents): Promise<void> {
    const sweepDir = resolve(folder);
    const sweep = await readSweep(sweepDir);
    const options = this.slurmOptions(sweepDir, sweep);
    let runs = await this.trackedRuns(sweepDir, sweep, runIndexes);
    // A resumed sweep may hold runs whose jobs ended without a word: settle those first, and leave alone
    // the runs whose job is still queued or running (submitting them again would run them twice).
    if (runs.some((run) => run.job !== null)) {
      await this.refresh(sweepDir);
      runs = await this.trackedRuns(sweepDir, sweep, runIndexes);
    }
    const live = await queryJobs(
      runs.flatMap((run) => (run.job ? [run.job.jobId] : [])),
      this.client,
    );
    const toSubmit: TrackedRun[] = [];
    for (const run of runs) {
      if (run.record.status === 'completed') continue;
      const job = run.job ? live.get(run.job.key) : undefined;
      if (job && isActiveJobState(job.state)) {
        events.log(
          'warn',
          `Run ${run.entry.index} (${run.runDir}) has Slurm job ${job.key} ${job.state} already; left to it.`,
        );
        continue;
      }
      toSubmit.push(run);
    }
    if (toSubmit.length === 0) {
      events.log('info', `Sweep ${sweep.id}: no run to submit.`);
      return;
    }

    const runsDir = runsDirOfSweep(sweepDir);
    const nodeRunsDir = options.shared_dir ?? runsDir;
    const onNode = (relativePath: string) => posix.join(nodeRunsDir.split('\\').join('/'), relativePath);
    const scriptDir = join(sweepDir, 'slurm');
    await mkdir(scriptDir, { recursive: true });
    const submission = ((await readSweepState(sweepDir)).submissions?.length ?? 0) + 1;
    const sidecarCommand = this.options.sidecarCommand ?? thisSidecarCommand();
    const groups = options.array ? [toSubmit] : toSubmit.map((run) => [run]);
    const submitted: { runs: TrackedRun[]; jobId: string }[] = [];
    const submittedAt = new Date().toISOString();
    try {
      for (const group of groups) {
        const script = jobScript({
          sweepId: sweep.id,
          runs: group.map((run) => ({ index: run.entry.index, runDir: onNode(run.entry.runDir) })),
          array: options.array,
          options,
          logDir: onNode(`.sweeps/${sweep.id}/slurm`),
          sidecarCommand,
        });
        const name = options.array ? `submit-${submission}.sh` : `submit-${submission}-run-${group[0].entry.index}.sh`;
        const scriptPath = join(scriptDir, name);
        await writeFileAtomic(scriptPath, script);
        const args = options.array ? [`--array=0-${group.length - 1}`] : [];
        // Held until run.json records the job: then only the job's own process writes the run.
        const jobId = await submitHeld(scriptPath, args, this.client);
        submitted.push({ runs: group, jobId });
      }
    } catch (error) {
      // All or nothing: a sweep half submitted would leave runs in two states for one command.
      await cancelJobs(
        submitted.map((s) => s.jobId),
        this.client,
      ).catch(() => undefined);
      const said = error instanceof SlurmCommandError ? error.message : errorMessage(error);
      throw new SlurmCommandError(
        `Submitting sweep ${sweep.id} to Slurm failed; no run was started. ${said}`,
        error instanceof SlurmCommandError ? error.command : 'sbatch',
        error instanceof SlurmCommandError ? error.slurmMessage : '',
      );
    }

    const records: { run: TrackedRun; record: RunRecord }[] = [];
    for (const { runs: group, jobId } of submitted) {
      for (const [position, run] of group.entries()) {
        const executor: SlurmField = {
          kind: 'slurm',
          jobId,
          ...(options.array ? { arrayTaskId: position } : {}),
          lastState: 'PENDING',
          lastSeen: submittedAt,
        };
        records.push({ run, record: await updateRun(run.runDir, { executor }) });
      }
    }
    const jobIds = submitted.map((s) => s.jobId);
    await updateSweepState(sweepDir, (state): SweepState => ({
      ...state,
      cancelled: false,
      submissions: [
        ...(state.submissions ?? []),
        { at: submittedAt, jobIds, runIndexes: toSubmit.map((run) => run.entry.index) },
      ],
    }));
    try {
      await releaseJobs(jobIds, this.client);
    } catch (error) {
      throw new SlurmCommandError(
        `Sweep ${sweep.id} was submitted as Slurm job${jobIds.length === 1 ? '' : 's'} ${jobIds.join(', ')}, but releasing ` +
          `${jobIds.length === 1 ? 'it' : 'them'} failed, so they wait held: ${errorMessage(error)}. Release them with "scontrol release ${jobIds.join(',')}".`,
        'scontrol release',
        error instanceof SlurmCommandError ? error.slurmMessage : '',
      );
    }
    const described = options.array
      ? `job array ${jobIds[0]} (tasks 0-${toSubmit.length - 1})`
      : `job${jobIds.length === 1 ? '' : 's'} ${jobIds.join(', ')}`;
    events.log(
      'info',
      `Sweep ${sweep.id}: ${toSubmit.length} run${toSubmit.length === 1 ? '' : 's'} submitted to Slurm as ${described}; logs in ${scriptDir}.`,
    );
    for (const { run, record } of records) events.runState(run.entry.index, run.runDir, record);
  }

  /**
   * scancel for every job that may still run a run of the sweep. Running runs get SIGTERM and end
   * "cancelled" themselves after their checkpoint; queued ones are marked cancelled here.
   */
  async cancel(folder: string): Promise<void> {
    const sweepDir = resolve(folder);
    const sweep = await readSweep(sweepDir);
    await updateSweepState(sweepDir, (state) => ({ ...state, cancelled: true }));
    const runs = await this.trackedRuns(
      sweepDir,
      sweep,
      sweep.runs.map((r) => r.index),
    );
    const jobs = await queryJobs(
      runs.flatMap((run) => (run.job ? [run.job.jobId] : [])),
      this.client,
    );
    const keys = runs.flatMap((run) => {
      const job = run.job ? jobs.get(run.job.key) : undefined;
      return job && isActiveJobState(job.state) ? [job.key] : [];
    });
    await cancelJobs(keys, this.client);
    // Slurm forgets an array task cancelled while pending at once (squeue and scontrol no longer know
    // it), so what this cancel did is kept as the last word on those jobs; the refresh then ends their
    // runs "cancelled" rather than "vanished".
    const now = new Date().toISOString();
    const pending = keys.filter((key) => jobs.get(key)?.state === 'PENDING');
    await this.writeLastSeen(sweepDir, {
      ...(await this.readLastSeen(sweepDir)),
      ...Object.fromEntries(pending.map((key) => [key, { state: 'CANCELLED', reason: 'None', seen: now }])),
    });
    await this.refresh(sweepDir);
  }

  /**
   * Compares each run of the sweep with Slurm's word on its job: a job that is over while its run still
   * says queued or running ends the run (failed, or cancelled for a job stopped from outside), with what
   * Slurm said and the end of the job's log; a job Slurm has forgotten fails its run with what was last seen.
   */
  async refresh(folder: string): Promise<void> {
    const sweepDir = resolve(folder);
    const sweep = await readSweep(sweepDir);
    const runs = (
      await this.trackedRuns(
        sweepDir,
        sweep,
        sweep.runs.map((r) => r.index),
      )
    ).filter((run) => run.job !== null);
    if (runs.length === 0) return;
    const now = new Date().toISOString();
    const jobs = await queryJobs(
      runs.map((run) => run.job!.jobId),
      this.client,
    );
    const lastSeen = await this.readLastSeen(sweepDir);
    for (const job of jobs.values()) lastSeen[job.key] = { state: job.state, reason: job.reason, seen: now };
    await this.writeLastSeen(sweepDir, lastSeen);

    const state = await readSweepState(sweepDir);
    for (const run of runs) {
      const job = run.job!;
      // A job Slurm has forgotten after it was seen over: that last word is the final one.
      const seen = lastSeen[job.key];
      const observed: JobObservation | undefined =
        jobs.get(job.key) ?? (seen && !isActiveJobState(seen.state) ? { key: job.key, ...seen } : undefined);
      if (observed && isActiveJobState(observed.state)) continue;
      const detail = observed ? await showJob(job.key, this.client) : null;
      const field = run.record.executor?.kind === 'slurm' ? run.record.executor : undefined;
      const logPath = logFile(join(sweepDir, 'slurm'), job.jobId, job.arrayTaskId, 'err');
      const verdict = slurmVerdict({
        jobKey: job.key,
        status: run.record.status,
        ...(run.record.endedAt !== undefined ? { endedAt: run.record.endedAt } : {}),
        ...(submittedAtOf(state, job.jobId) !== undefined ? { submittedAt: submittedAtOf(state, job.jobId) } : {}),
        ...(field?.lastState !== undefined ? { recordedState: field.lastState } : {}),
        job: observed
          ? { state: observed.state, reason: observed.reason, ...(detail ? { exitCode: detail.exitCode } : {}) }
          : null,
        ...(lastSeen[job.key] ? { lastSeen: lastSeen[job.key] } : {}),
        logTail: fileTail(logPath),
        logPath,
      });
      if (verdict.action === 'none') continue;
      const executor: SlurmField = {
        kind: 'slurm',
        jobId: job.jobId,
        ...(job.arrayTaskId !== undefined ? { arrayTaskId: job.arrayTaskId } : {}),
        lastState: verdict.state,
        lastSeen: lastSeen[job.key]?.seen ?? now,
      };
      try {
        if (verdict.action === 'record') {
          await updateRun(run.runDir, {
            executor,
            ...(verdict.message !== undefined ? { error: { ...run.record.error, message: verdict.message } } : {}),
          });
        } else {
          await updateRun(run.runDir, {
            status: verdict.status,
            executor,
            error: {
              message: verdict.message,
              ...(verdict.exitCode !== undefined ? { exitCode: verdict.exitCode } : {}),
            },
          });
        }
      } catch {
        // The run changed under us (its process wrote it): its own word stands; the next refresh looks again.
      }
    }
  }

  /** The given runs with their run.json and recorded job; unreadable runs are left out (the status shows them). */
  private async trackedRuns(sweepDir: string, sweep: SweepFile, indexes: number[]): Promise<TrackedRun[]> {
    const runsDir = runsDirOfSweep(sweepDir);
    const wanted = new Set(indexes);
    const runs: TrackedRun[] = [];
    for (const entry of sweep.runs) {
      if (!wanted.has(entry.index)) continue;
      const runDir = join(runsDir, entry.runDir);
      const record = await readRun(runDir).catch(() => null);
      if (!record) continue;
      const field = record.executor?.kind === 'slurm' ? record.executor : undefined;
      const job = field
        ? {
            jobId: field.jobId,
            ...(field.arrayTaskId !== undefined ? { arrayTaskId: field.arrayTaskId } : {}),
            key: jobKey(field.jobId, field.arrayTaskId),
          }
        : null;
      runs.push({ entry, runDir, record, job });
    }
    return runs;
  }

  private async writeLastSeen(sweepDir: string, lastSeen: Record<string, LastSeen>): Promise<void> {
    await mkdir(join(sweepDir, 'slurm'), { recursive: true });
    await writeFileAtomic(join(sweepDir, 'slurm', jobsFile), JSON.stringify(lastSeen, null, 2) + '\n');
  }

  private async readLastSeen(sweepDir: string): Promise<Record<string, LastSeen>> {
    try {
      const value: unknown = JSON.parse(await readFile(join(sweepDir, 'slurm', jobsFile), 'utf8'));
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
      const kept: Record<string, LastSeen> = {};
      for (const [key, seen] of Object.entries(value)) if (isLastSeen(seen)) kept[key] = seen;
      return kept;
    } catch {
      // Missing or damaged: it only adds Slurm's last word to a vanished job's message.
      return {};
    }
  }
}

function isLastSeen(value: unknown): value is LastSeen {
  return (
    typeof value === 'object' &&
    value !== null &&
    'state' in value &&
    typeof value.state === 'string' &&
    'reason' in value &&
    typeof value.reason === 'string' &&
    'seen' in value &&
    typeof value.seen === 'string'
  );
}

/** When the submission that made job `jobId` happened (state.json). */
function submittedAtOf(state: SweepState, jobId: string): string | undefined {
  return state.submissions?.find((s) => s.jobIds.includes(jobId))?.at;
}

/** The last lines of a log (at most logTailBytes), or undefined when it is missing or empty. */
function fileTail(path: string): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, logTailBytes);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      const lines = buffer.toString('utf8').split('\n');
      if (size > length) lines.shift();
      const kept = lines
        .map((line) => line.trimEnd())
        .filter((line) => line !== '')
        .slice(-8);
      return kept.length > 0 ? kept.join('\n') : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
