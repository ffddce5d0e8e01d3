// `l3m serve`: the sidecar process the extension talks to, JSON-RPC 2.0 over stdio (vscode-jsonrpc).
// stdout carries only the protocol, so everything that would print there (console.log in any
// module) is sent to stderr, which the extension shows in its "L3M Sidecar" output channel. On a
// fatal error the process sends `sidecar/fatal` before exiting non-zero (docs/conventions.md#stdout-protocol).
import { inspect } from 'node:util';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { fatal } from '../protocol/messages';
import { FramingGuard } from '../rpc/framing_guard';
import { notifier, startServer } from '../rpc/server';
import { exitCodes } from '../protocol/exit_codes';

const help = `Usage: l3m serve

Serves the L3M Studio protocol (JSON-RPC 2.0, vscode-jsonrpc framing) on stdin/stdout.
Started by the extension; logs go to stderr.`;

/** How long a run may take to stop (one training step) before the sidecar exits without it. */
const cancelTimeoutMs = 30_000;

function redirectConsoleToStderr(): void {
  const toStderr = (...parts: unknown[]) => {
    process.stderr.write(parts.map((p) => (typeof p === 'string' ? p : inspect(p))).join(' ') + '\n');
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(help);
    return exitCodes.ok;
  }
  if (args.length > 0) {
    console.error(`l3m serve: unexpected argument "${args[0]}".\n\n${help}`);
    return exitCodes.usage;
  }
  redirectConsoleToStderr();
  const input = new FramingGuard();
  process.stdin.pipe(input);
  const connection = createMessageConnection(new StreamMessageReader(input), new StreamMessageWriter(process.stdout));

  const notify = notifier(connection);

  return new Promise<number>((resolveExit) => {
    let exiting = false;
    const exit = (code: number) => {
      if (exiting) return;
      exiting = true;
      // Let the last messages drain before the process ends, unless the client stopped reading them.
      process.stdout.write('', () => {
        connection.dispose();
        resolveExit(code);
        setImmediate(() => process.exit(code));
      });
      setTimeout(() => process.exit(code), 2000).unref();
    };
    const onFatal = (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      process.stderr.write(`[fatal] ${e.stack ?? e.message}\n`);
      notify(fatal, { message: e.message, stack: e.stack });
      // exit() waits for stdout to drain, so the notification goes out first.
      exit(exitCodes.internal);
    };
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);

    const server = startServer(connection, { onShutdown: () => exit(exitCodes.ok) });
    // A broken framing leaves no way to find the next message, so no request (not even run/cancel or
    // shutdown) could reach us again: say why, stop the runs (they stay resumable; one that does not
    // stop in time is marked failed by the extension when we are gone) and exit non-zero, so that
    // the extension's next request starts a new sidecar.
    let inputBroken = false;
    input.on('error', (error) => {
      if (exiting || inputBroken) return;
      inputBroken = true;
      const message = `The sidecar's stdin is no longer the protocol: ${error.message} The sidecar cancels its runs (they can be resumed) and exits.`;
      process.stderr.write(`[fatal] ${message}\n`);
      notify(fatal, { message });
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolveWait) => {
        timer = setTimeout(resolveWait, cancelTimeoutMs);
      });
      void Promise.race([server.queue.cancelAll(), waited]).finally(() => {
        clearTimeout(timer);
        exit(exitCodes.internal);
      });
    });
    // The extension closing our stdin means it is gone: stop the run (it stays resumable) and exit.
    connection.onClose(() => {
      if (exiting || inputBroken) return;
      // The close callback cannot wait for the cancellation; exit() ends the process once it settles.
      void server.queue.cancelAll().finally(() => exit(exitCodes.ok));
    });
    connection.onError(([error]) => {
      if (!inputBroken) server.log('error', `protocol error: ${error.message}`);
    });
    connection.listen();
    server.log('info', `l3m sidecar ${process.pid} serving on stdio`);
  });
}
