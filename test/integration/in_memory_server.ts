// The real RPC server (sidecar/rpc/server.ts) reached over in-memory streams instead of a child
// process, so that a test drives the protocol with the engines in its own process.
import { PassThrough } from 'node:stream';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import * as protocol from '../../sidecar/protocol/messages';
import { startServer, type Server, type ServerOptions } from '../../sidecar/rpc/server';

/** A started server and a client connection to it; the client is not listening yet, so that handlers can be added first. */
export function inMemoryServer(options: ServerOptions = {}): {
  client: MessageConnection;
  server: Server;
  close: () => void;
} {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection = createMessageConnection(
    new StreamMessageReader(toServer),
    new StreamMessageWriter(toClient),
  );
  const server = startServer(serverConnection, { progressThrottleMs: 0, ...options });
  serverConnection.listen();
  const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  return {
    client,
    server,
    close: () => {
      client.dispose();
      serverConnection.dispose();
    },
  };
}

/** A listening client that records every run/state, run/samples and progress notification; `until` waits for a predicate on them. */
export function recordingClient(options: ServerOptions = {}) {
  const { client, close } = inMemoryServer(options);
  const states: protocol.RunStateParams[] = [];
  const samples: { runDir: string; entry: protocol.SampleResult['entry'] }[] = [];
  const progress: protocol.ProgressParams[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  client.onNotification(protocol.runState, (s) => {
    states.push(s);
    wake();
  });
  client.onNotification(protocol.sampleWritten, (s) => {
    samples.push(s);
    wake();
  });
  client.onNotification(protocol.progress, (p) => {
    progress.push(p);
    wake();
  });
  client.listen();
  const until = async (predicate: () => boolean) => {
    while (!predicate()) await new Promise<void>((r) => waiters.push(r));
  };
  return { client, states, samples, progress, until, close };
}
