// The Slurm client commands the executor runs (sbatch, scontrol, squeue, scancel), each as a child
// process with its output parsed here. Errors carry Slurm's own message: the user knows Slurm's words
// for a missing partition or account, and can look them up. `sacct` is never used: it needs the
// accounting daemon, which many clusters (and every small one) do not run.
import { execFile } from 'node:child_process';
import { errorCode } from '../protocol/error_message';

/** A Slurm command that could not run or that failed, with what Slurm said. */
export class SlurmCommandError extends Error {
  constructor(
    message: string,
    readonly command: string,
    /** Slurm's stderr, trimmed; empty when the command could not start. */
    readonly slurmMessage: string,
    /** The command's exit code; null when it could not start or was stopped. */
    readonly exitCode: number | null = null,
  ) {
    super(message);
    this.name = 'SlurmCommandError';
  }
}

export interface SlurmClientOptions {
  /** The environment of the commands (SLURM_CONF and the like); default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** How long one command may take: a busy controller answers slowly, a dead one not at all. */
  timeoutMs?: number;
}

/** Runs one Slurm command; resolves with its stdout, rejects with SlurmCommandError. */
export function runSlurm(program: string, args: string[], options: SlurmClientOptions = {}): Promise<string> {
  const shown = [program, ...args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const said = stderr.trim();
        if (errorCode(error) === 'ENOENT') {
          reject(
            new SlurmCommandError(
              `${program} was not found on PATH: this machine is not a Slurm login node, or Slurm's client ` +
                'commands are not installed here. Run the sweep where sbatch works (a login node), or use the local executor.',
              shown,
              '',
            ),
          );
          return;
        }
        const how = error.killed ? 'was stopped after it took too long' : `failed (exit code ${String(error.code)})`;
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new SlurmCommandError(`${shown} ${how}${said ? `: ${said}` : ''}`, shown, said, code));
      },
    );
  });
}

/** A job as sbatch and squeue name it: `<id>` or, for a task of an array, `<id>_<task>`. */
export function jobKey(jobId: string, arrayTaskId?: number): string {
  return arrayTaskId === undefined ? jobId : `${jobId}_${arrayTaskId}`;
}

/**
 * Submits a script held (it starts only once released); returns the job id. Slurm checks a held job
 * against the cluster's nodes only on release (an impossible --mem would wait forever as BadConstraints),
 * so the submission is first tried with --test-only, which checks everything and submits nothing.
 */
export async function submitHeld(
  scriptPath: string,
  args: string[],
  options: SlurmClientOptions = {},
): Promise<string> {
  await runSlurm('sbatch', ['--test-only', ...args, scriptPath], options);
  const out = await runSlurm('sbatch', ['--parsable', '--hold', ...args, scriptPath], options);
  // --parsable prints "<id>" or "<id>;<cluster>".
  const id = out.trim().split('\n').pop()?.split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) {
    throw new SlurmCommandError(
      `sbatch accepted ${scriptPath} but printed no job id (got ${JSON.stringify(out.trim())})`,
      'sbatch',
      out,
    );
  }
  return id;
}

/** Lets held jobs start. */
export async function releaseJobs(jobIds: string[], options: SlurmClientOptions = {}): Promise<void> {
  if (jobIds.length > 0) await runSlurm('scontrol', ['release', jobIds.join(',')], options);
}

/** Cancels jobs or array tasks; Slurm sends their processes SIGTERM, then SIGKILL after KillWait. */
export async function cancelJobs(keys: string[], options: SlurmClientOptions = {}): Promise<void> {
  if (keys.length > 0) await runSlurm('scancel', keys, options);
}

/** What squeue says of one job or array task. */
export interface JobObservation {
  key: string;
  /** JobState: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, … */
  state: string;
  /** Why it pends or ended: Priority, Resources, JobHeldUser, NodeDown, TimeLimit, … ("None" when none). */
  reason: string;
}

const squeueFormat = '%i|%T|%r';

/** Parses squeue -h -o '%i|%T|%r' output (pure). */
export function parseSqueue(text: string): JobObservation[] {
  const jobs: JobObservation[] = [];
  for (const line of text.split('\n')) {
    const [key, state, ...reason] = line.trim().split('|');
    if (!key || !state) continue;
    jobs.push({ key, state, reason: reason.join('|') });
  }
  return jobs;
}

/**
 * What Slurm knows now of the given jobs (by job id; an array's id brings all its tasks), finished ones
 * included while the controller still remembers them (MinJobAge). A job it has forgotten is absent.
 */
export async function queryJobs(
  jobIds: string[],
  options: SlurmClientOptions = {},
): Promise<Map<string, JobObservation>> {
  const found = new Map<string, JobObservation>();
  const unique = [...new Set(jobIds)];
  if (unique.length === 0) return found;
  let out: string;
  try {
    out = await runSlurm('squeue', ['-h', '-r', '-t', 'all', '-j', unique.join(','), '-o', squeueFormat], options);
  } catch (error) {
    // squeue fails only when it knows none of the ids; with some known it lists those.
    if (error instanceof SlurmCommandError && /Invalid job id/i.test(error.slurmMessage)) return found;
    throw error;
  }
  for (const job of parseSqueue(out)) found.set(job.key, job);
  return found;
}

/** scontrol's details of a finished job that the verdicts use. */
export interface JobDetail {
  state: string;
  reason: string;
  /** "<exit code>:<signal>", e.g. "3:0" or "0:9". */
  exitCode: string;
}

/** Parses `scontrol -o show job` output for one job (pure); null when it holds no JobState. */
export function parseJobDetail(text: string): JobDetail | null {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(text)?.[1];
  const state = field('JobState');
  if (state === undefined) return null;
  return { state, reason: field('Reason') ?? 'None', exitCode: field('ExitCode') ?? '' };
}

/** One job's details, or null when Slurm no longer knows it. */
export async function showJob(key: string, options: SlurmClientOptions = {}): Promise<JobDetail | null> {
  try {
    return parseJobDetail(await runSlurm('scontrol', ['-o', 'show', 'job', key], options));
  } catch (error) {
    // A forgotten job is "Invalid job id"; a forgotten task of an array that Slurm still knows fails silently.
    const forgotten = (message: string) => message === '' || /Invalid job id/i.test(message);
    if (error instanceof SlurmCommandError && error.exitCode === 1 && forgotten(error.slurmMessage)) return null;
    throw error;
  }
}
