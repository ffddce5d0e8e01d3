// The local executor: runs a sweep's runs on this machine, up to K at once, each as its own process
// `node <sidecar> train-run <run folder>` with L3M_THREADS = floor(cores / K). The process that calls
// start() is the sweep's runner (`l3m sweep run|resume`, or an editor's sidecar); state.json names it,
// so that a cancel from anywhere else only raises the sweep's cancel flag and the runner stops its runs,
// signalling each once. (A second SIGTERM would make a run quit at once, without the checkpoint of the
// step it was in.) Children get their own process group for the same reason: a Ctrl-C in the runner's
// terminal reaches the runner alone, which then passes one SIGTERM to each run.
//
// A run ends its run.json itself (completed, cancelled, failed). A process that exits without doing so
// (killed, out of memory, crashed) leaves its run failed here, with the exit code or signal and the last
// lines of its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, fstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunRecord } from '../protocol/run_folder';
import { readSweepState, runsDirOfSweep, type SweepFile, type SweepRunner } from '../protocol/sweep_folder';
import { isRunProcessAlive, readProcessIdentity, sameProcess, signalRunProcess } from '../protocol/run_process';
import { isStale } from '../protocol/run_listing';
import { errorMessage } from '../protocol/error_message';
import { failRun, readRun, updateRun } from '../runs/run_store';
import { readRunConfig } from '../runs/run_access';
import type { SweepEvents, SweepExecutor } from './executor';
import { readSweep, thisRunner, updateSweepState } from './sweep_store';
import { chooseParallel, machineResources, memoryPerRun, type ParallelChoice } from './parallel_runs';
import { thisSidecarCommand } from './sidecar_command';

export interface LocalExecutorOptions {
  /** K asked for by the command line or a setting, with who asked; it overrides the sweep file's local.parallel. */
  parallel?: { value: number; source: string } | null;
  /** The command prefix that runs `l3m` (default: this process's own entry). */
  sidecarCommand?: string[];
  /** Runs of this process outside the sweep (the editor's queue): each takes one of the K places while it runs. */
  othersRunning?: () => number;
  /** How often run.json and state.json of a running sweep are looked at. */
  pollMs?: number;
  /** For tests: the machine's cores and free memory. */
  resources?: { cores: number; freeMemoryBytes: number };
}

/** The run states a run ends in; anything else means its process is not done with it. */
const finalStates: readonly string[] = ['completed', 'cancelled', 'failed'];

/** How many bytes of a run's output are kept for the reason of a crash. */
const outputTailBytes = 1500;

interface Child {
  index: number;
  runDir: string;
  process: ChildProcess;
  logPath: string;
  lastStatus: string | null;
  terminated: boolean;
}

/** One start() of a sweep in this process. */
class Session {
  private readonly pending: number[];
  private readonly active = new Map<number, Child>();
  private cancelled = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private filling: Promise<void> = Promise.resolve();
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly sweepDir: string,
    private readonly sweep: SweepFile,
    indexes: number[],
    private readonly choice: ParallelChoice,
    private readonly command: string[],
    private readonly events: SweepEvents,
    private readonly othersRunning: () => number,
    private readonly pollMs: number,
  ) {
    this.pending = [...indexes];
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  private runDirOf(index: number): string {
    const entry = this.sweep.runs.find((r) => r.index === index);
    if (!entry) throw new Error(`Sweep ${this.sweep.id} has no run ${index}.`);
    return join(runsDirOfSweep(this.sweepDir), entry.runDir);
  }

  begin(): void {
    this.timer = setInterval(() => void this.tick(), this.pollMs);
    void this.fill();
  }

  /**
   * Starts runs while there are places: K less this process's other runs, but always one of the
   * sweep's. Calls are chained, so that two callers never both see the same free place.
   */
  private fill(): Promise<void> {
    this.filling = this.filling.then(() => this.fillPlaces());
    return this.filling;
  }

  private async fillPlaces(): Promise<void> {
    while (!this.cancelled && this.pending.length > 0) {
      const places = Math.max(1, this.choice.parallel - this.othersRunning());
      if (this.active.size >= places) break;
      const index = this.pending.shift()!;
      await this.launch(index);
    }
    this.maybeFinish();
  }

  private async launch(index: number): Promise<void> {
    const runDir = this.runDirOf(index);
    let record: RunRecord;
    try {
      record = await readRun(runDir);
    } catch (error) {
      this.events.log('error', `Run ${index} of sweep ${this.sweep.id} cannot start: ${errorMessage(error)}`);
      return;
    }
    if (record.status === 'completed') return;
    if (record.status === 'running' && isRunProcessAlive(record)) {
      this.events.log('warn', `Run ${index} (${runDir}) is running in process ${record.pid} already; left to it.`);
      return;
    }
    // Re-checked here, at the last moment: a cancel (from here or another process) may have come since the last look.
    if (this.cancelled || (await readSweepState(this.sweepDir)).cancelled) {
      await this.cancel();
      await this.cancelNotStarted([index]);
      return;
    }
    const logDir = join(this.sweepDir, 'local');
    mkdirSync(logDir, { recursive: true });
    const logPath = join(logDir, `run-${index}.log`);
    const output = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      const [program, ...args] = this.command;
      child = spawn(program, [...args, 'train-run', runDir], {
        stdio: ['ignore', output, output],
        env: { ...process.env, L3M_THREADS: String(this.choice.threads) },
        detached: true,
      });
    } finally {
      closeSync(output);
    }
    const entry: Child = { index, runDir, process: child, logPath, lastStatus: record.status, terminated: false };
    this.active.set(index, entry);
    // A process that cannot start at all reports 'error' and may never report 'close'.
    let endSeen = false;
    const end = (code: number | null, signal: NodeJS.Signals | null) => {
      if (endSeen) return;
      endSeen = true;
      void this.ended(entry, code, signal);
    };
    child.on('error', (error) => {
      this.events.log('error', `Run ${index}: could not start ${this.command[0]}: ${errorMessage(error)}`);
      end(null, null);
    });
    child.on('close', end);
  }

  /** A run's process has exited: its run ends here if it did not end it itself. */
  private async ended(child: Child, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    let record: RunRecord | null = null;
    try {
      record = await readRun(child.runDir);
      if (!finalStates.includes(record.status)) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
        if (child.terminated && (signal === 'SIGTERM' || code === 4)) {
          record = await updateRun(child.runDir, {
            status: 'cancelled',
            error: { message: 'Cancelled before the run could record it; resume the sweep to continue it.' },
          });
        } else {
          const tail = outputTail(child.logPath);
          const message =
            `The run's process ${child.process.pid ?? ''} ${how} without ending the run` +
            (tail ? `; its last output:\n${tail}` : ' (it printed nothing)');
          record = await failRun(child.runDir, message, code !== null ? { exitCode: code } : {});
        }
      }
    } catch (error) {
      this.events.log(
        'error',
        `Run ${child.index} (${child.runDir}): could not record its end: ${errorMessage(error)}`,
      );
    }
    this.active.delete(child.index);
    if (record) this.announce(child, record);
    await this.fill();
  }

  private announce(child: Child, record: RunRecord): void {
    child.lastStatus = record.status;
    this.events.runState(child.index, child.runDir, record);
  }

  /** Follows the running runs' run.json (to announce "running") and the sweep's cancel flag. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      if (!this.cancelled && (await readSweepState(this.sweepDir)).cancelled) await this.cancel();
      for (const child of this.active.values()) {
        const record = await readRun(child.runDir).catch(() => null);
        if (record && record.status !== child.lastStatus && !finalStates.includes(record.status))
          this.announce(child, record);
      }
      if (!this.cancelled) await this.fill();
    } finally {
      this.ticking = false;
    }
  }

  /** Stops every running run (one SIGTERM each) and cancels those not started. */
  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const child of this.active.values()) {
      if (child.terminated) continue;
      child.terminated = true;
      child.process.kill('SIGTERM');
    }
    await this.cancelNotStarted(this.pending.splice(0));
    this.maybeFinish();
  }

  /** Marks runs that were to start cancelled (still queued: nothing of them ran). */
  private async cancelNotStarted(indexes: number[]): Promise<void> {
    for (const index of indexes) {
      const runDir = this.runDirOf(index);
      try {
        const record = await readRun(runDir);
        if (record.status !== 'queued') continue;
        const cancelled = await updateRun(runDir, {
          status: 'cancelled',
          error: { message: 'Cancelled before it started; resume the sweep to run it.' },
        });
        this.events.runState(index, runDir, cancelled);
      } catch (error) {
        this.events.log('error', `Run ${index} (${runDir}): could not mark it cancelled: ${errorMessage(error)}`);
      }
    }
  }

  /** Called whenever something ends: the session is over when nothing runs and nothing waits. */
  private maybeFinish(): void {
    if (this.active.size > 0 || (this.pending.length > 0 && !this.cancelled)) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.finish();
  }

  /** Re-reads the places (the editor's queue started or ended a run). */
  reconsider(): void {
    if (!this.cancelled) void this.fill();
  }
}

/** The last lines a run's process printed (at most outputTailBytes), for the reason of a crash. */
function outputTail(path: string): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, outputTailBytes);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      const lines = buffer.toString('utf8').split('\n');
      if (size > length) lines.shift(); // a partial first line
      return lines
        .map((line) => line.replace(/\r/g, '').trimEnd())
        .filter((line) => line !== '')
        .slice(-8)
        .join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Whether the runner state.json names is a live process other than this one's sessions. */
export function isRunnerAlive(runner: SweepRunner | undefined): boolean {
  if (!runner || runner.host !== hostname()) return false;
  const current = readProcessIdentity(runner.pid);
  if (!current) return false;
  return runner.processIdentity ? sameProcess({ ...runner.processIdentity, pid: runner.pid }, current) : true;
}

export class LocalExecutor implements SweepExecutor {
  readonly kind = 'local' as const;
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: LocalExecutorOptions = {}) {}

  /** K and the threads per run for these runs of the sweep, with the reason. */
  async parallelFor(sweep: SweepFile, sweepDir: string, runIndexes: number[]): Promise<ParallelChoice> {
    const requested =
      this.options.parallel && this.options.parallel.value >= 1
        ? this.options.parallel
        : sweep.local?.parallel
          ? { value: sweep.local.parallel, source: 'the sweep file (local.parallel)' }
          : null;
    let perRunBytes = 0;
    if (!requested) {
      for (const index of runIndexes) {
        const entry = sweep.runs.find((r) => r.index === index);
        if (!entry) continue;
        const runDir = join(runsDirOfSweep(sweepDir), entry.runDir);
        try {
          const record = await readRun(runDir);
          perRunBytes = Math.max(perRunBytes, memoryPerRun(await readRunConfig(runDir), record.configPath ?? runDir));
        } catch {
          // The run's own process reports an unreadable run; it does not change K.
        }
      }
    }
    const machine = this.options.resources ?? machineResources();
    return chooseParallel({ requested, ...machine, perRunBytes, runs: runIndexes.length });
  }

  async start(folder: string, runIndexes: number[], events: SweepEvents): Promise<void> {
    const sweepDir = resolve(folder);
    if (this.sessions.has(sweepDir)) throw new Error(`Sweep ${sweepDir} is already running in this process.`);
    const sweep = await readSweep(sweepDir);
    const state = await readSweepState(sweepDir);
    if (state.runner && state.runner.pid !== process.pid && isRunnerAlive(state.runner))
      throw new Error(
        `Sweep ${sweep.id} is being run by process ${state.runner.pid} (since ${state.runner.startedAt}); ` +
          `cancel it with "l3m sweep cancel ${sweepDir}" or wait for it to end.`,
      );
    const choice = await this.parallelFor(sweep, sweepDir, runIndexes);
    events.log('info', `Sweep ${sweep.id}: ${choice.reason}.`);
    await updateSweepState(sweepDir, (s) => ({ ...s, cancelled: false, runner: thisRunner() }));
    const session = new Session(
      sweepDir,
      sweep,
      runIndexes,
      choice,
      this.options.sidecarCommand ?? thisSidecarCommand(),
      events,
      this.options.othersRunning ?? (() => 0),
      this.options.pollMs ?? 500,
    );
    this.sessions.set(sweepDir, session);
    try {
      session.begin();
      await session.done;
    } finally {
      this.sessions.delete(sweepDir);
      await updateSweepState(sweepDir, (s) => {
        if (s.runner?.pid !== process.pid) return s;
        const { runner: _ended, ...rest } = s;
        return rest;
      }).catch(() => undefined);
    }
  }

  /**
   * Raises the cancel flag. The sweep's runner (this process, or a live one elsewhere) stops its runs;
   * when no runner is alive, the queued runs are cancelled here and the runs whose process still
   * lives (orphans of a runner that was killed) get their SIGTERM from here.
   */
  async cancel(folder: string): Promise<void> {
    const sweepDir = resolve(folder);
    const state = await updateSweepState(sweepDir, (s) => ({ ...s, cancelled: true }));
    const session = this.sessions.get(sweepDir);
    if (session) {
      await session.cancel();
      await session.done;
      return;
    }
    if (state.runner && state.runner.pid !== process.pid && isRunnerAlive(state.runner)) return;
    const sweep = await readSweep(sweepDir);
    for (const entry of sweep.runs) {
      const runDir = join(runsDirOfSweep(sweepDir), entry.runDir);
      const record = await readRun(runDir).catch(() => null);
      if (!record) continue;
      if (record.status === 'queued')
        await updateRun(runDir, {
          status: 'cancelled',
          error: { message: 'Cancelled before it started; resume the sweep to run it.' },
        });
      else if (record.status === 'running' && isRunProcessAlive(record)) signalRunProcess(record, 'SIGTERM');
    }
  }

  /**
   * With no live runner, a run that says "running" while its process is gone on this machine (the
   * runner and the run were killed, the machine restarted) is marked failed, so that the sweep's
   * status says so and resume takes it up.
   */
  async refresh(folder: string): Promise<void> {
    const sweepDir = resolve(folder);
    if (this.sessions.has(sweepDir)) return;
    const state = await readSweepState(sweepDir);
    if (state.runner && isRunnerAlive(state.runner)) return;
    const sweep = await readSweep(sweepDir);
    for (const entry of sweep.runs) {
      const runDir = join(runsDirOfSweep(sweepDir), entry.runDir);
      const record = await readRun(runDir).catch(() => null);
      if (!record || record.status !== 'running' || !isStale(record)) continue;
      await failRun(
        runDir,
        `Its process ${record.pid ?? ''} ended without ending the run (killed, or the machine restarted); resume the sweep to continue from its last checkpoint.`,
      ).catch(() => undefined);
    }
  }

  /** Whether this process runs the sweep now. */
  isRunning(sweepDir: string): boolean {
    return this.sessions.has(resolve(sweepDir));
  }

  /** Re-reads othersRunning for every sweep this process runs (the editor's queue changed). */
  reconsider(): void {
    for (const session of this.sessions.values()) session.reconsider();
  }

  /** Cancels every sweep this process runs (shutdown). */
  async cancelAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((sweepDir) => this.cancel(sweepDir).catch(() => undefined)));
  }
}
