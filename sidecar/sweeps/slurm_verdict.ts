// What a run's run.json should say, given what Slurm says of the job that was to run it. Pure, so that
// every combination is tested without a cluster. The run's own process writes its run.json while it
// lives; the executor writes it only once Slurm says the job is over (or has forgotten it), when no
// process of the job can be writing any more. Then a run that the job left "queued" or "running" (the
// job died with its node, was killed before the run could record its end, or could not start the run)
// gets the end Slurm gives, with Slurm's words.
import type { RunStatus } from '../protocol/run_folder';

/** Job states in which the job was stopped from outside: the run may resume where it was. */
const stoppedStates = new Set(['CANCELLED', 'TIMEOUT', 'PREEMPTED', 'DEADLINE']);

/** The states of a job that is over: Slurm runs none of its processes any more. */
const endedStates = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
]);

/**
 * Whether Slurm may still run the job's process (PENDING, RUNNING, COMPLETING, SUSPENDED, …). A state
 * not known here counts as active: a run is never ended on a guess.
 */
export function isActiveJobState(state: string): boolean {
  return !endedStates.has(state);
}

/** What the executor last saw of a job (kept in the sweep folder between refreshes). */
export interface LastSeen {
  state: string;
  reason: string;
  /** ISO time. */
  seen: string;
}

export interface VerdictInput {
  /** The job as Slurm names it: `<id>` or `<id>_<task>`. */
  jobKey: string;
  /** run.json now. */
  status: RunStatus;
  /** run.json's endedAt: when the run last ended (a process that takes it up clears it). */
  endedAt?: string;
  /** When the job was submitted (state.json); undefined when not recorded. */
  submittedAt?: string;
  /** The job's final state already recorded in run.json (executor.lastState). */
  recordedState?: string;
  /** What Slurm says now: null when it no longer knows the job. */
  job: { state: string; reason: string; exitCode?: string } | null;
  /** What the executor saw of it before, for a job Slurm has forgotten. */
  lastSeen?: LastSeen;
  /** The end of the job's error log, when there is one. */
  logTail?: string;
  /** Where that log is. */
  logPath?: string;
}

export type Verdict =
  /** Nothing to write: the job is alive, or the run's process recorded the end itself. */
  | { action: 'none' }
  /** Record Slurm's final word on the job in run.json (executor.lastState), the status unchanged. */
  | { action: 'record'; state: string; message?: string }
  /** End the run: the job is over and the run did not record its end. */
  | { action: 'end'; status: 'failed' | 'cancelled'; state: string; message: string; exitCode?: number };

/** The exit code of "3:0" (scontrol's ExitCode is "<code>:<signal>"). */
export function exitCodeOf(exitCode: string | undefined): number | undefined {
  const match = /^(\d+):(\d+)$/.exec(exitCode ?? '');
  return match ? Number(match[1]) : undefined;
}

function jobWords(input: VerdictInput): string {
  const { job, jobKey } = input;
  if (job === null) {
    const last = input.lastSeen
      ? `it was last seen ${input.lastSeen.state}${input.lastSeen.reason && input.lastSeen.reason !== 'None' ? ` (${input.lastSeen.reason})` : ''} at ${input.lastSeen.seen}`
      : 'L3M Studio never saw it in the queue';
    return `Slurm no longer knows job ${jobKey} (it left the controller's memory, or the controller lost its state); ${last}`;
  }
  const reason = job.reason && job.reason !== 'None' ? `, reason ${job.reason}` : '';
  const exit = job.exitCode && job.exitCode !== '0:0' ? `, exit code ${job.exitCode}` : '';
  return `Slurm job ${jobKey} ended ${job.state}${reason}${exit}`;
}

function withLog(message: string, input: VerdictInput): string {
  if (!input.logTail) return input.logPath ? `${message}. Its log: ${input.logPath}` : message;
  return `${message}. Its log ${input.logPath ?? ''} ends:\n${input.logTail}`;
}

/** What to write for one run of the sweep, from its run.json and Slurm's word on its job. */
export function slurmVerdict(input: VerdictInput): Verdict {
  const { job, status } = input;
  if (job !== null && isActiveJobState(job.state)) return { action: 'none' };
  const finalState = job?.state ?? 'UNKNOWN';
  if (status === 'completed') {
    return input.recordedState === finalState ? { action: 'none' } : { action: 'record', state: finalState };
  }
  if (status === 'queued' || status === 'running') {
    const words = jobWords(input);
    const exitCode = exitCodeOf(job?.exitCode);
    const stopped = job !== null && stoppedStates.has(job.state);
    if (stopped && status === 'queued') {
      return {
        action: 'end',
        status: 'cancelled',
        state: finalState,
        message: `${words} before the run started; resume the sweep to run it`,
      };
    }
    if (stopped) {
      return {
        action: 'end',
        status: 'cancelled',
        state: finalState,
        message: withLog(
          `${words}, and the run did not record its end before Slurm killed it (KillWait after the SIGTERM); ` +
            'resume the sweep to continue from its last checkpoint',
          input,
        ),
      };
    }
    const when = status === 'queued' ? 'before the run started' : 'while the run was running';
    return {
      action: 'end',
      status: 'failed',
      state: finalState,
      message: withLog(`${words} ${when}; resume the sweep to run it again from its last checkpoint`, input),
      ...(exitCode !== undefined && exitCode !== 0 ? { exitCode } : {}),
    };
  }
  // Failed or cancelled: the run ended under an earlier job, or under this one. If this job (a resubmission)
  // never took it up, say so on the run, which stays resumable.
  if (input.recordedState === finalState) return { action: 'none' };
  const tookTheRun =
    input.endedAt !== undefined && input.submittedAt !== undefined && input.endedAt >= input.submittedAt;
  if (tookTheRun || input.submittedAt === undefined) return { action: 'record', state: finalState };
  return {
    action: 'record',
    state: finalState,
    message: withLog(`Resubmitted, but ${jobWords(input)} before the run started; resume the sweep again`, input),
  };
}
