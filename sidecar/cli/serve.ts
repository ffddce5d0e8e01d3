// `l3m serve`: the sidecar process the extension talks to, JSON-RPC 2.0 over stdio (vscode-jsonrpc).
// stdout carries only the protocol, so everything that would print there (console.log in any
// module) is sent to stderr, which the extension shows in its "L3M Sidecar" output channel. On a
// fatal error the process sends `sidecar/fatal` before exiting non-zero (STYLE.md rule 24).
import { inspect } from 'node:util';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { fatal } from '../protocol/messages';
import { startServer } from '../rpc/server';
import { exitCodes } from './exit_codes';

const help = `Usage: l3m serve

Serves the L3M Studio protocol (JSON-RPC 2.0, vscode-jsonrpc framing) on stdin/stdout.
Started by the extension; logs go to stderr.`;

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
  const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));

  return new Promise<number>((resolveExit) => {
    let exiting = false;
    const exit = (code: number) => {
      if (exiting) return;
      exiting = true;
      // Let the last messages drain before the process ends.
      process.stdout.write('', () => {
        connection.dispose();
        resolveExit(code);
        setImmediate(() => process.exit(code));
      });
    };
    const onFatal = (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      process.stderr.write(`[fatal] ${e.stack ?? e.message}\n`);
      connection.sendNotification(fatal, { message: e.message, stack: e.stack }).catch(() => undefined).finally(() => exit(exitCodes.internal));
      setTimeout(() => exit(exitCodes.internal), 2000).unref();
    };
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);

    const server = startServer(connection, { onShutdown: () => exit(exitCodes.ok) });
    // The extension closing our stdin means it is gone: stop the run (it stays resumable) and exit.
    connection.onClose(() => {
      if (exiting) return;
      server.queue.cancelAll().finally(() => exit(exitCodes.ok));
    });
    connection.onError(([error]) => server.log('error', `protocol error: ${error.message}`));
    connection.listen();
    server.log('info', `l3m sidecar ${process.pid} serving on stdio`);
  });
}
