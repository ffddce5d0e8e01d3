// The sidecar's JSON-RPC server: binds the requests of sidecar/protocol/messages.ts to the run queue,
// the backend probe and the jobs (train, resume, sample, evaluate). It takes any MessageConnection, so tests drive it over in-memory
// streams (docs/conventions.md#protocol-tests) and `l3m serve` over stdio.
import { ResponseError, type MessageConnection, type NotificationType } from 'vscode-jsonrpc';
import * as protocol from '../protocol/messages';
import { ErrorCodes } from '../protocol/messages';
import { packageVersion, RunUnreadableError, IllegalTransitionError } from '../runs/run_store';
import { probeBackends, BackendUnavailableError } from '../runtime/backends';
import { MemoryEstimateExceededError } from '../jobs/memory_check';
import { RunQueue, QueueConflictError, type TrainingJobs } from './run_queue';
import { prepareRun, runTraining } from '../jobs/train_job';
import { sampleRun } from '../jobs/sample_job';
import { evaluateRun } from '../jobs/evaluate_job';
import { isAbsolute, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { jsonPathAt } from './diagnostic_path';
import { registerSweepRequests, type SweepRequests } from './sweep_requests';
import { errorMessage } from '../protocol/error_message';

export interface ServerOptions {
  /** Replaces the training job (tests of the queue wiring). */
  trainingJobs?: TrainingJobs;
  /** Called after the shutdown response was sent; `l3m serve` exits there. */
  onShutdown?: () => void;
  progressThrottleMs?: number;
  /** The command prefix that starts `l3m` for a sweep's runs (default: this process's own entry). */
  sidecarCommand?: string[];
}

export interface Server {
  queue: RunQueue;
  sweeps: SweepRequests;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/**
 * Maps an exception to a JSON-RPC error with an application code (docs/conventions.md#error-codes). A config error
 * from a job carries its diagnostics as ConfigErrorData.
 */
export function toResponseError(error: unknown): ResponseError<unknown> {
  if (error instanceof ResponseError) return error;
  const messageField = fieldOf(error, 'message');
  const message = messageField != null ? errorMessage(messageField) : String(error);
  const data = fieldOf(error, 'data');
  if (fieldOf(data, 'kind') === 'config-invalid') return new ResponseError(ErrorCodes.configInvalid, message, data);
  const diagnostics = fieldOf(error, 'diagnostics');
  if (fieldOf(error, 'name') === 'ConfigInvalidError' || Array.isArray(diagnostics)) {
    const file = errorMessage(fieldOf(error, 'path') ?? fieldOf(error, 'file') ?? '');
    const text = readConfigText(file);
    const list: unknown[] = Array.isArray(diagnostics) ? diagnostics : [];
    const payload: protocol.ConfigErrorData = {
      kind: 'config-invalid',
      file,
      diagnostics: list.map((d) => toProtocolDiagnostic(d, text)),
    };
    return new ResponseError(ErrorCodes.configInvalid, message, payload);
  }
  if (error instanceof RunUnreadableError) return new ResponseError(ErrorCodes.runNotFound, message);
  if (error instanceof QueueConflictError || error instanceof IllegalTransitionError)
    return new ResponseError(ErrorCodes.runStateConflict, message);
  if (error instanceof BackendUnavailableError) return new ResponseError(ErrorCodes.backendUnavailable, message);
  if (error instanceof MemoryEstimateExceededError) return new ResponseError(ErrorCodes.memoryExceeded, message);
  return new ResponseError(ErrorCodes.internal, `Internal error in the sidecar: ${message}`);
}

type ProtocolDiagnostic = protocol.ConfigErrorData['diagnostics'][number];

/** The config's text, to recover JSON paths; null when it cannot be read. */
function readConfigText(file: string): string | null {
  try {
    return file ? readFileSync(file, 'utf8') : null;
  } catch {
    return null; // The file went away since validation; the diagnostics keep their positions.
  }
}

/**
 * The validator reports LSP diagnostics (0-based range, numeric severity); the protocol carries
 * 1-based line and column as a terminal prints them, and the JSON path of the offending field, which
 * is recovered from the config text when the diagnostic does not carry it. Both shapes are accepted.
 */
function toProtocolDiagnostic(d: unknown, text: string | null): ProtocolDiagnostic {
  const severity = fieldOf(d, 'severity');
  const message = errorMessage(fieldOf(d, 'message') ?? '');
  const start = fieldOf(fieldOf(d, 'range'), 'start');
  const startLine = fieldOf(start, 'line');
  const startCharacter = fieldOf(start, 'character');
  if (typeof startLine === 'number' && typeof startCharacter === 'number') {
    const path = fieldOf(fieldOf(d, 'data'), 'path');
    return {
      line: startLine + 1,
      column: startCharacter + 1,
      severity: severity === 1 || severity === 'error' ? 'error' : 'warning',
      message,
      path: typeof path === 'string' ? path : text !== null ? jsonPathAt(text, startLine, startCharacter) : '',
    };
  }
  return {
    line: Number(fieldOf(d, 'line') ?? 0),
    column: Number(fieldOf(d, 'column') ?? 0),
    severity: severity === 'error' ? 'error' : 'warning',
    message,
    path: errorMessage(fieldOf(d, 'path') ?? ''),
  };
}

/** A property of a thrown value or of a diagnostic, which may be anything; undefined for a primitive. */
function fieldOf(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const field: unknown = Reflect.get(value, key);
  return field;
}

function absolutePath(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ResponseError(-32602, `${name} must be a non-empty path string, got ${JSON.stringify(value)}.`);
  }
  return isAbsolute(value) ? value : resolve(value);
}

async function handle<T>(body: () => Promise<T> | T): Promise<T | ResponseError<unknown>> {
  try {
    return await body();
  } catch (error) {
    return toResponseError(error);
  }
}

/**
 * Sends a notification when the connection can still carry one. A connection whose input closed (the
 * client went away) throws at once and a broken pipe rejects; neither may fail the run that reports,
 * nor the cancellation that follows the client's departure.
 */
export function notifier(connection: MessageConnection): <P>(type: NotificationType<P>, params: P) => void {
  return (type, params) => {
    try {
      void connection.sendNotification(type, params).catch(() => undefined);
    } catch {
      // Closed or disposed: nobody is listening any more.
    }
  };
}

export function startServer(connection: MessageConnection, options: ServerOptions = {}): Server {
  let runsDirDefault: string | null = null;
  const notify = notifier(connection);
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    process.stderr.write(`[${level}] ${message}\n`);
    notify(protocol.log, { level, message });
  };
  let sweeps: SweepRequests | null = null;
  const queue = new RunQueue(
    options.trainingJobs ?? { prepareRun, runTraining },
    {
      runState: (params) => {
        notify(protocol.runState, params);
        sweeps?.queueChanged();
      },
      progress: (params) => notify(protocol.progress, params),
      metrics: (runDir, records) => notify(protocol.metrics, { runDir, records }),
      log,
      queueChanged: (state) => notify(protocol.queueChanged, state),
    },
    { progressThrottleMs: options.progressThrottleMs },
  );

  connection.onRequest(protocol.initialize, (params) =>
    handle(() => {
      if (typeof params?.protocolVersion !== 'string') {
        throw new ResponseError(
          -32602,
          `initialize needs protocolVersion (a string like "${protocol.protocolVersion}"), got ${JSON.stringify(params?.protocolVersion)}.`,
        );
      }
      const [major] = params.protocolVersion.split('.');
      if (major !== protocol.protocolVersion.split('.')[0]) {
        throw new ResponseError(
          ErrorCodes.internal,
          `The client speaks protocol ${params.protocolVersion}, this sidecar ${protocol.protocolVersion}; rebuild the extension and the sidecar together (npm run build).`,
        );
      }
      if (typeof params.runsDir === 'string' && params.runsDir !== '')
        runsDirDefault = absolutePath('runsDir', params.runsDir);
      log('info', `initialized by ${params.clientName ?? 'a client'}; runs folder ${runsDirDefault ?? '(none)'}`);
      return { protocolVersion: protocol.protocolVersion, sidecarVersion: packageVersion, pid: process.pid };
    }),
  );

  connection.onRequest(protocol.status, () => queue.status());

  connection.onRequest(protocol.queueState, () => queue.state());

  connection.onRequest(protocol.moveInQueue, (params) =>
    handle(() => {
      const offset = params?.offset;
      if (typeof offset !== 'number' || !Number.isInteger(offset)) {
        throw new ResponseError(
          -32602,
          `queue/move needs offset, an integer (-1 moves a run one place earlier), got ${JSON.stringify(offset)}.`,
        );
      }
      return queue.move(absolutePath('runDir', params?.runDir), offset);
    }),
  );

  connection.onRequest(protocol.probeDevices, () =>
    handle(async () => {
      const backends = await probeBackends();
      return { backends, chosen: backends.find((b) => b.available)?.name ?? 'none' };
    }),
  );

  connection.onRequest(protocol.startRun, (params) =>
    handle(() => {
      const configPath = absolutePath('configPath', params?.configPath);
      const runsDir = params?.runsDir ? absolutePath('runsDir', params.runsDir) : runsDirDefault;
      if (!runsDir) throw new ResponseError(-32602, 'run/start needs runsDir (or a runsDir given at initialize).');
      return queue.start(configPath, runsDir);
    }),
  );

  connection.onRequest(protocol.resumeRun, (params) =>
    handle(() => queue.resume(absolutePath('runDir', params?.runDir))),
  );

  connection.onRequest(protocol.cancelRun, (params) =>
    handle(async () => ({ status: await queue.cancel(absolutePath('runDir', params?.runDir)) })),
  );

  connection.onRequest(protocol.sample, (params, token) =>
    handle(async () => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      const runDir = absolutePath('runDir', params?.runDir);
      const started = Date.now();
      // Each slice is in samples/ when onSlice fires: the inspector shows it at once, and the progress
      // notification (a phase, not training steps) tells the monitor how far sampling is.
      return sampleRun({ ...params, runDir }, controller.signal, {
        log: (message) => log('info', message),
        onSlice: (done, total, entry) => {
          notify(protocol.sampleWritten, { runDir, entry });
          const seconds = (Date.now() - started) / 1000;
          notify(protocol.progress, {
            runDir,
            step: done,
            totalSteps: total,
            epoch: 0,
            loss: null,
            lr: 0,
            stepsPerSecond: seconds > 0 ? done / seconds : 0,
            etaSeconds: done > 0 ? (seconds / done) * (total - done) : null,
            phase: `sampling slice ${done}/${total}`,
          });
        },
      });
    }),
  );

  connection.onRequest(protocol.evaluate, (params, token) =>
    handle(async () => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return evaluateRun(absolutePath('runDir', params?.runDir), controller.signal);
    }),
  );

  sweeps = registerSweepRequests(connection, handle, {
    notify,
    log,
    runsDirDefault: () => runsDirDefault,
    queueRunning: () => (queue.status().active ? 1 : 0),
    sidecarCommand: options.sidecarCommand,
  });
  const sweepRequests = sweeps;

  connection.onRequest(protocol.shutdown, async () => {
    log('info', 'shutdown requested; cancelling queued and running runs (they stay resumable)');
    await Promise.all([queue.cancelAll(), sweepRequests.cancelAll()]);
    if (options.onShutdown) setImmediate(options.onShutdown);
  });

  return { queue, sweeps: sweepRequests, log };
}
