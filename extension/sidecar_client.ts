// The extension's side of the sidecar: spawns `node dist/sidecar.js serve`, speaks the protocol of
// sidecar/protocol/messages.ts over its stdio, and owns the policy for a sidecar that dies
// (docs/conventions.md#stdout-protocol), so that a dead sidecar never leaves a run looking alive:
//   - the death is noticed (exit event), logged with the exit code or signal;
//   - every run this sidecar had queued or running is marked failed in its run.json, with the
//     reason and the exit code, through a fresh `l3m runs --mark-failed` process (sidecar_cli.ts, the
//     same Node and environment as the sidecar; the extension may
//     only import the protocol, not the run store, and the dead sidecar cannot write it any more;
//     the fresh process applies the same checked transition and atomic write);
//   - nothing is restarted eagerly: the next request starts a new sidecar.
// This module does not import `vscode`, so the integration tests drive it in plain Node.
import type { ChildProcess } from 'node:child_process';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type CancellationToken,
  type MessageConnection,
  type NotificationType,
  type RequestType,
  type RequestType0,
} from 'vscode-jsonrpc/node';
import * as protocol from '../sidecar/protocol/messages';
import type { RunStatus } from '../sidecar/protocol/run_folder';
import type { SweepSummary } from '../sidecar/protocol/sweep_folder';
import { describeCommand, markRunFailed, spawnSidecar, startFailure, type SidecarCommand } from './sidecar_cli';
import { errorMessage } from '../sidecar/protocol/error_message';

/** How to run the sidecar (sidecar_cli.ts's sidecarCommand), and the client's own wiring. */
export interface SidecarClientOptions extends SidecarCommand {
  runsDir: string;
  clientName: string;
  /** Receives the sidecar's stderr and the client's own notes (the "L3M Sidecar" output channel). */
  output(text: string): void;
  /**
   * Whether a sidecar may be started now; the extension answers whether the workspace is trusted.
   * The commands refuse first with their own message; this is the backstop for any request.
   */
  mayStart?(): boolean;
}

export interface SidecarExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The runs that were queued or running and have been marked failed. */
  failedRuns: string[];
  /** A `sidecar/fatal` message received just before the exit, if any. */
  fatalMessage?: string;
  /** Whether the exit was asked for (shutdown), in which case nothing is marked failed. */
  expected: boolean;
}

type Listener<T> = (value: T) => void;

/** A small event emitter, since this module cannot use vscode.EventEmitter. */
class Emitter<T> {
  private listeners = new Set<Listener<T>>();
  on(listener: Listener<T>): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
}

/** The exit code a shell would report: the code, or 128 + the signal number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number | undefined {
  if (code !== null) return code;
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGABRT: 6,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGTERM: 15,
  };
  return signal && numbers[signal] !== undefined ? 128 + numbers[signal] : undefined;
}

/** A request without parameters: vscode-jsonrpc sends those with no params field at all. */
function isRequestType0(
  type: RequestType0<unknown, void> | RequestType<unknown, unknown, void>,
): type is RequestType0<unknown, void> {
  return type.numberOfParams === 0;
}

interface Running {
  child: ChildProcess;
  connection: MessageConnection;
  ready: Promise<protocol.InitializeResult>;
  fatal?: string;
  stopping: boolean;
}

export class SidecarClient {
  private current: Running | null = null;
  /** Runs queued or running in the current sidecar, from run/start, run/resume and run/state. */
  private readonly liveRuns = new Set<string>();
  readonly onRunState = new Emitter<protocol.RunStateParams>();
  readonly onProgress = new Emitter<protocol.ProgressParams>();
  readonly onMetrics = new Emitter<{ runDir: string; records: unknown[] }>();
  readonly onSweepState = new Emitter<protocol.SweepStateParams>();
  readonly onExit = new Emitter<SidecarExit>();
  /** The sidecar's queue changed (queue/changed); also fired, empty, when the sidecar exits. */
  readonly onQueueChanged = new Emitter<protocol.QueueState>();
  private queueNow: protocol.QueueState = { active: null, waiting: [] };
  /** The sidecar's log lines as notifications; the output gets them from its stderr. */
  readonly onLog = new Emitter<{ level: 'info' | 'warn' | 'error'; message: string }>();

  constructor(private readonly options: SidecarClientOptions) {}

  /** Whether a sidecar process is running now. */
  get isRunning(): boolean {
    return this.current !== null;
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  /** The sidecar's queue as last announced: the running run and the waiting ones in order. */
  get queue(): protocol.QueueState {
    return this.queueNow;
  }

  /** Runs this client believes are queued or running in the sidecar. */
  get activeRuns(): string[] {
    return [...this.liveRuns];
  }

  /** Starts the sidecar if none is running, and waits for `initialize`. */
  async ensureStarted(): Promise<protocol.InitializeResult> {
    if (!this.current && this.options.mayStart?.() === false) {
      throw new Error(
        'The sidecar is not started in an untrusted workspace: it runs code and reads files named by configs. Trust this workspace first.',
      );
    }
    if (!this.current) this.current = this.spawn();
    return this.current.ready;
  }

  private spawn(): Running {
    const { nodePath } = this.options;
    const output = (text: string): void => this.options.output(text);
    output(`Starting the sidecar: ${describeCommand(this.options, ['serve'])}\n`);
    const child = spawnSidecar(this.options, ['serve']);
    // Writes to a process that failed to start or died fail here; the exit handler reports it.
    child.stdin!.on('error', () => undefined);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => output(text));
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout!),
      new StreamMessageWriter(child.stdin!),
    );
    // `ready` is replaced below, before spawn() returns, once the handlers that settle it exist.
    const running: Running = {
      child,
      connection,
      ready: new Promise<protocol.InitializeResult>(() => undefined),
      stopping: false,
    };

    connection.onNotification(protocol.runState, (params) => {
      if (params.kind === 'queued' || params.kind === 'running') this.liveRuns.add(params.runDir);
      else this.liveRuns.delete(params.runDir);
      this.onRunState.fire(params);
    });
    connection.onNotification(protocol.queueChanged, (state) => {
      this.queueNow = state;
      this.onQueueChanged.fire(state);
    });
    connection.onNotification(protocol.progress, (p) => this.onProgress.fire(p));
    connection.onNotification(protocol.metrics, (p) => this.onMetrics.fire(p));
    connection.onNotification(protocol.sweepState, (p) => this.onSweepState.fire(p));
    // The sidecar writes each log line to its stderr as well, and stderr is already in the output: printing
    // the notification too showed every line twice. It still reaches listeners, for clients without stderr.
    connection.onNotification(protocol.log, (p) => this.onLog.fire(p));
    connection.onNotification(protocol.fatal, (p) => {
      // Its stderr carries the same line (see the log notification above).
      running.fatal = p.message;
    });
    connection.onError(([error]) => output(`[client] protocol error: ${error.message}\n`));
    connection.listen();

    const exited = new Promise<never>((_, reject) => {
      child.on('error', (error) => {
        const message = startFailure(nodePath, error);
        output(`[client] ${message}\n`);
        reject(new Error(message));
        // A spawn failure may come without an exit event: forget this process here.
        if (this.current === running) this.current = null;
        setImmediate(() => connection.dispose());
      });
      child.on('exit', (code, signal) => {
        reject(
          new Error(
            `The L3M sidecar exited (${signal ?? `code ${code}`}) before it was ready${running.fatal ? `: ${running.fatal}` : ''}; see the "L3M Sidecar" output.`,
          ),
        );
        void this.handleExit(running, code, signal);
      });
    });
    exited.catch(() => undefined);
    // Send nothing before the process exists: a write to a process that failed to start makes
    // vscode-jsonrpc reject a promise nobody can catch.
    const spawned = new Promise<void>((res) => child.once('spawn', () => res()));
    const initialized = spawned.then(() =>
      connection.sendRequest(protocol.initialize, {
        clientName: this.options.clientName,
        protocolVersion: protocol.protocolVersion,
        runsDir: this.options.runsDir,
      }),
    );
    initialized.catch(() => undefined);
    running.ready = Promise.race([initialized, exited]);
    running.ready.catch(() => undefined);
    return running;
  }

  private async handleExit(running: Running, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.current === running) this.current = null;
    running.connection.dispose();
    const expected = running.stopping && code === 0;
    const runs = [...this.liveRuns];
    this.liveRuns.clear();
    this.queueNow = { active: null, waiting: [] };
    this.onQueueChanged.fire(this.queueNow);
    const failedRuns: string[] = [];
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.options.output(
      `[client] the sidecar (pid ${running.child.pid}) ${how}${expected ? ' after shutdown' : ''}.\n`,
    );
    {
      const reason = `The L3M sidecar ${how}${running.fatal ? `: ${running.fatal}` : ''}.`;
      const exitCode = exitCodeOf(code, signal);
      for (const runDir of runs) {
        try {
          await this.markFailed(runDir, reason, exitCode);
          failedRuns.push(runDir);
        } catch (error) {
          this.options.output(`[client] could not mark ${runDir} failed: ${errorMessage(error)}\n`);
        }
      }
    }
    this.onExit.fire({ code, signal, failedRuns, fatalMessage: running.fatal, expected });
  }

  /** Records a failed run through a fresh `l3m runs --mark-failed` process (see the header). */
  async markFailed(runDir: string, reason: string, exitCode?: number): Promise<void> {
    await markRunFailed(this.options, runDir, reason, exitCode);
    this.options.output(`[client] marked ${runDir} failed: ${reason}\n`);
  }

  async request<R>(type: RequestType0<R, void>): Promise<R>;
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R>;
  async request(
    type: RequestType0<unknown, void> | RequestType<unknown, unknown, void>,
    params?: unknown,
    token?: CancellationToken,
  ): Promise<unknown> {
    await this.ensureStarted();
    const running = this.current;
    if (!running) throw new Error('The L3M sidecar exited while starting; see the "L3M Sidecar" output.');
    return isRequestType0(type)
      ? running.connection.sendRequest(type)
      : running.connection.sendRequest(type, params, token);
  }

  /**
   * Tells the client that a run belongs to the current sidecar, so that the sidecar's death marks it
   * failed. startRun and resumeRun call it; run/state notifications keep the set current.
   */
  trackRun(runDir: string): void {
    this.liveRuns.add(runDir);
  }

  /** Starts a run; remembers it so that a sidecar crash marks it failed. */
  async startRun(params: protocol.StartRunParams): Promise<protocol.StartRunResult> {
    const result = await this.request(protocol.startRun, params);
    this.liveRuns.add(result.runDir);
    return result;
  }

  async resumeRun(params: protocol.ResumeRunParams): Promise<protocol.StartRunResult> {
    const result = await this.request(protocol.resumeRun, params);
    this.liveRuns.add(result.runDir);
    return result;
  }

  async cancelRun(runDir: string): Promise<RunStatus> {
    const { status } = await this.request(protocol.cancelRun, { runDir });
    this.liveRuns.delete(runDir);
    return status;
  }

  /** Moves a waiting run `offset` places in the queue (negative: earlier); answers the new order. */
  async moveInQueue(runDir: string, offset: number): Promise<protocol.QueueState> {
    const state = await this.request(protocol.moveInQueue, { runDir, offset });
    this.queueNow = state;
    return state;
  }

  /** Plans and starts a sweep file's runs (local) or submits them (slurm); its progress comes as sweep/state. */
  runSweep(params: protocol.SweepRunParams): Promise<protocol.SweepRunResult> {
    return this.request(protocol.runSweep, params);
  }

  /** Cancels every unfinished run of a sweep: they end cancelled and resumable. */
  cancelSweep(sweepDir: string): Promise<{ summary: SweepSummary }> {
    return this.request(protocol.cancelSweep, { sweepDir });
  }

  /** Starts again only the runs of a sweep that did not complete. */
  resumeSweep(params: protocol.SweepResumeParams): Promise<protocol.SweepRunResult> {
    return this.request(protocol.resumeSweep, params);
  }

  /** Listens to a notification type not covered by the emitters above. */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): void {
    this.current?.connection.onNotification(type, handler);
  }

  /** Asks the sidecar to shut down (it cancels its runs, which stay resumable) and waits for it to exit. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const running = this.current;
    if (!running) return;
    running.stopping = true;
    const exited = new Promise<void>((res) => running.child.once('exit', () => res()));
    try {
      await Promise.race([
        running.connection.sendRequest(protocol.shutdown),
        new Promise((res) => setTimeout(res, timeoutMs)),
      ]);
    } catch {
      // The sidecar may already be gone; the exit handler records that.
    }
    const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
