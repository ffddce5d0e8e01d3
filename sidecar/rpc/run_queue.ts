// One run at a time, the rest waiting in order: concurrent runs would compete for one GPU's memory (or
// the same CPU cores), and each would run slower than alone. The queue owns the AbortController of each
// run, turns the training job's callbacks into listener events, and makes sure run.json ends in a final
// state however the training job ends: if the job throws before it recorded the failure, the queue
// records it.
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ProgressParams, QueueEntry, QueueState, RunStateParams, StatusResult } from '../protocol/messages';
import type { MetricRecord, RunRecord, RunStatus } from '../protocol/run_folder';
import { failRun, readRun, updateRun } from '../runs/run_store';
import type { prepareRun, runTraining } from '../jobs/train_job';
import { errorMessage } from '../protocol/error_message';

/** The training job as the queue uses it (jobs/train_job.ts; tests pass their own to drive the queue). */
export interface TrainingJobs {
  prepareRun: typeof prepareRun;
  runTraining: typeof runTraining;
}

export interface QueueListener {
  runState(params: RunStateParams): void;
  progress(params: ProgressParams): void;
  metrics(runDir: string, records: MetricRecord[]): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** The queue's order changed: a run entered, started, left, or was moved. */
  queueChanged?(state: QueueState): void;
}

/**
 * `runDir` as the request spelled it (notifications and status repeat it); `key` its canonical path,
 * the run's identity here.
 */
interface Entry {
  runDir: string;
  key: string;
  kind: QueueEntry['kind'];
  controller: AbortController;
  done: Promise<void>;
  finish: () => void;
}

/**
 * The run folder's canonical path: `<dir>`, `<dir>/`, `<parent>/../<dir>` and a symlink to it name one
 * run, and comparing their strings would queue it twice (and let a cancel miss the second entry).
 * A folder that does not exist (any more) keeps its normalised absolute path.
 */
export async function canonicalRunDir(runDir: string): Promise<string> {
  try {
    return await realpath(runDir);
  } catch {
    return resolve(runDir);
  }
}

/** Runs may only be resumed from these states (a stale "running" run is failed first by its owner). */
const resumable: readonly RunStatus[] = ['cancelled', 'failed'];

export class RunQueue {
  private active: Entry | null = null;
  private waiting: Entry[] = [];
  private readonly progressThrottleMs: number;

  constructor(
    private readonly jobs: TrainingJobs,
    private readonly listener: QueueListener,
    options: { progressThrottleMs?: number } = {},
  ) {
    this.progressThrottleMs = options.progressThrottleMs ?? 250;
  }

  status(): StatusResult {
    return {
      active: this.active ? { runDir: this.active.runDir, status: 'running' } : null,
      queued: this.waiting.map((e) => e.runDir),
    };
  }

  /** The running run and the waiting ones in the order they will run. */
  state(): QueueState {
    const entry = (e: Entry): QueueEntry => ({ runDir: e.runDir, kind: e.kind });
    return { active: this.active ? entry(this.active) : null, waiting: this.waiting.map(entry) };
  }

  /**
   * Moves a waiting run `offset` places (negative: earlier), clamped to the ends of the waiting list;
   * the running run stays where it is. Returns the new order.
   */
  async move(runDir: string, offset: number): Promise<QueueState> {
    if (!Number.isInteger(offset)) {
      throw new QueueConflictError(
        `queue/move needs an integer offset (-1 moves a run one place earlier), got ${offset}.`,
      );
    }
    const key = await canonicalRunDir(runDir);
    const index = this.waiting.findIndex((e) => e.key === key);
    if (index < 0) {
      throw new QueueConflictError(
        this.active?.key === key
          ? `Run ${runDir} is running; only a waiting run can be moved.`
          : `Run ${runDir} is not waiting in this sidecar's queue; it may have started or ended meanwhile.`,
      );
    }
    const target = Math.min(this.waiting.length - 1, Math.max(0, index + offset));
    if (target !== index) {
      const [entry] = this.waiting.splice(index, 1);
      this.waiting.splice(target, 0, entry);
      this.announceOrder();
    }
    return this.state();
  }

  /** Where a run is: running, waiting (1 is next), or not in the queue. */
  private placeOf(key: string): { running: true } | { position: number; of: number } | null {
    if (this.active?.key === key) return { running: true };
    const index = this.waiting.findIndex((e) => e.key === key);
    return index < 0 ? null : { position: index + 1, of: this.waiting.length };
  }

  private announceOrder(): void {
    this.listener.queueChanged?.(this.state());
  }

  /** Validates the config and creates a queued run folder through the training job, then enqueues it. */
  async start(configPath: string, runsDir: string): Promise<{ runId: string; runDir: string; status: RunStatus }> {
    const { runId, runDir } = await this.jobs.prepareRun(configPath, runsDir);
    const record = await readRun(runDir);
    this.listener.runState({ kind: 'queued', runDir, record });
    const key = await canonicalRunDir(runDir);
    this.enqueue(runDir, key, 'start');
    return { runId, runDir, status: this.active?.key === key ? 'running' : 'queued' };
  }

  /** Enqueues a cancelled or failed run to continue from its last checkpoint. */
  async resume(runDir: string): Promise<{ runId: string; runDir: string; status: RunStatus }> {
    const record = await readRun(runDir);
    const key = await canonicalRunDir(runDir);
    const place = this.placeOf(key);
    if (place) {
      throw new QueueConflictError(
        'running' in place
          ? `Run ${record.id} is already running in this sidecar; cancel it first to start it again.`
          : `Run ${record.id} is already queued to ${this.waiting[place.position - 1].kind === 'resume' ? 'resume' : 'start'}: position ${place.position} of ${place.of} waiting. The Queue view can move it up.`,
      );
    }
    if (!resumable.includes(record.status)) {
      throw new QueueConflictError(
        `Run ${runDir} is "${record.status}"; only a cancelled or failed run can be resumed.`,
      );
    }
    // Announced as queued, although run.json keeps its cancelled or failed status until the run starts
    // (it may never start: a cancel in the queue leaves it as it was), so that the views show it waiting.
    this.listener.runState({ kind: 'queued', runDir, record });
    this.enqueue(runDir, key, 'resume');
    return { runId: record.id, runDir, status: this.active?.key === key ? 'running' : 'queued' };
  }

  /**
   * Cancels a queued run at once, or asks the active run to stop and waits until it has (the
   * training job stops within one step and leaves it resumable). Returns the run's final status.
   */
  async cancel(runDir: string): Promise<RunStatus> {
    const key = await canonicalRunDir(runDir);
    const index = this.waiting.findIndex((e) => e.key === key);
    if (index >= 0) {
      const [entry] = this.waiting.splice(index, 1);
      entry.finish();
      this.announceOrder();
      const current = await readRun(entry.runDir);
      // A queued resume is still "cancelled" or "failed" on disk and stays so.
      const record = current.status === 'queued' ? await updateRun(entry.runDir, { status: 'cancelled' }) : current;
      // Announced under the name the queue announced it with, which is the one clients track. A resume
      // taken out of the queue is announced cancelled too (its waiting was), with run.json as it is.
      if (record.status === 'cancelled' || entry.kind === 'resume')
        this.listener.runState({ kind: 'cancelled', runDir: entry.runDir, record });
      return record.status;
    }
    if (this.active?.key === key) {
      const entry = this.active;
      entry.controller.abort();
      await entry.done;
      return (await readRun(entry.runDir)).status;
    }
    throw new QueueConflictError(`Run ${runDir} is neither queued nor running in this sidecar.`);
  }

  /** Cancels everything (shutdown): queued runs first, then the active one. */
  async cancelAll(): Promise<void> {
    for (const entry of [...this.waiting]) await this.cancel(entry.runDir).catch(() => undefined);
    if (this.active) await this.cancel(this.active.runDir).catch(() => undefined);
  }

  private enqueue(runDir: string, key: string, kind: Entry['kind']): void {
    let finish!: () => void;
    const done = new Promise<void>((resolveDone) => {
      finish = resolveDone;
    });
    this.waiting.push({ runDir, key, kind, controller: new AbortController(), done, finish });
    if (!this.pump()) this.announceOrder();
  }

  /** Starts the next waiting run when none runs; returns whether it did (and announced the new order). */
  private pump(): boolean {
    if (this.active || this.waiting.length === 0) return false;
    const entry = this.waiting.shift()!;
    this.active = entry;
    this.announceOrder();
    void this.execute(entry).finally(() => {
      this.active = null;
      entry.finish();
      if (!this.pump()) this.announceOrder();
    });
    return true;
  }

  private async execute(entry: Entry): Promise<void> {
    const { runDir } = entry;
    let announcedRunning = false;
    const announceRunning = () => {
      if (announcedRunning) return;
      announcedRunning = true;
      readRun(runDir).then(
        (record) => this.listener.runState({ kind: 'running', runDir, record: asStarting(record) }),
        () => undefined,
      );
    };
    let lastProgress = 0;
    let lastPhaseKind: string | null = null;
    let outcome: 'completed' | 'cancelled';
    try {
      announceRunning();
      outcome = await this.jobs.runTraining({
        runDir,
        signal: entry.controller.signal,
        events: {
          progress: (p) => {
            // Throttled alike for training steps and data phases ("simulating lightcones 12/300", where
            // step and totalSteps are both 0). Passed at once: the last training step, and the first
            // report of a new phase (its text without numbers differs), so no stage goes unseen.
            const now = Date.now();
            const phaseKind = p.phase === undefined ? 'training' : p.phase.replace(/[\d./]+/g, '#');
            const finalStep = p.phase === undefined && p.totalSteps > 0 && p.step >= p.totalSteps;
            if (now - lastProgress < this.progressThrottleMs && !finalStep && phaseKind === lastPhaseKind) return;
            lastProgress = now;
            lastPhaseKind = phaseKind;
            this.listener.progress(p);
          },
          metrics: (records) => this.listener.metrics(runDir, records),
          log: (level, message) => this.listener.log(level, message),
        },
      });
    } catch (error) {
      const message = errorMessage(error);
      this.listener.log(
        'error',
        `Run ${runDir} failed: ${(error instanceof Error ? error.stack : undefined) ?? message}`,
      );
      const record = await this.ensureFinal(runDir, 'failed', message);
      this.listener.runState({ kind: 'failed', runDir, record, message: record.error?.message ?? message });
      return;
    }
    const record = await this.ensureFinal(runDir, outcome);
    if (record.status === 'failed')
      this.listener.runState({ kind: 'failed', runDir, record, message: record.error?.message ?? 'failed' });
    else this.listener.runState({ kind: outcome, runDir, record });
  }

  /** Makes run.json final when the training job did not (it threw early, or returned without writing). */
  private async ensureFinal(
    runDir: string,
    status: 'completed' | 'cancelled' | 'failed',
    message?: string,
  ): Promise<RunRecord> {
    let record: RunRecord;
    try {
      record = await readRun(runDir);
    } catch {
      return {
        id: runDir,
        experiment: '',
        task: 'regression',
        status,
        createdAt: new Date().toISOString(),
        version: '',
      };
    }
    if (record.status === 'completed' || record.status === 'cancelled' || record.status === 'failed') return record;
    try {
      if (status === 'failed') return await failRun(runDir, message ?? 'the training engine failed');
      if (status === 'completed' && record.status === 'queued')
        return await failRun(runDir, 'the engine reported completion without starting the run');
      return await updateRun(runDir, { status });
    } catch (error) {
      this.listener.log('error', `Could not record the end of run ${runDir}: ${errorMessage(error)}`);
      return record;
    }
  }
}

/** A request that conflicts with the queue's state (maps to ErrorCodes.runStateConflict). */
export class QueueConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueConflictError';
  }
}

/**
 * The record a run will have once its job marks it running, announced before run.json says so: a resumed
 * run's record still holds the cancel or failure that ended its previous process, which the job clears
 * (runs/run_store.ts updateRun), and no reader may show it beside "running".
 */
export function asStarting(record: RunRecord): RunRecord {
  const { error: _error, endedAt: _endedAt, ...rest } = record;
  return { ...rest, status: 'running' };
}
