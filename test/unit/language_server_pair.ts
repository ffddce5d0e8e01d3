// A real language server (startConfigServer) and a plain JSON-RPC client over in-memory streams
// (docs/conventions.md#protocol-tests): no process and no VS Code. Shared by the language server tests.
import { after } from 'node:test';
import { PassThrough } from 'node:stream';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import { startConfigServer } from '../../extension/server/config_server';
import type { ConfigFileSystem } from '../../schemas/config_context';

export const emptyFs: ConfigFileSystem = {
  exists: () => false,
  isDirectory: () => false,
  list: () => [],
  readText: () => undefined,
};

/** A connected client; both ends are disposed after the test file. */
export function startPair(fileSystem: ConfigFileSystem = emptyFs): MessageConnection {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  startConfigServer(server, fileSystem);
  const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  client.listen();
  after(() => {
    client.dispose();
    server.dispose();
  });
  return client;
}

export interface PublishParams {
  uri: string;
  version?: number;
  diagnostics: Array<{ message: string; severity: number; range: { start: { line: number; character: number } } }>;
}

/** Resolves with the next diagnostics published for `uri` (of `version`, when given). */
export function nextDiagnostics(client: MessageConnection, uri: string, version?: number): Promise<PublishParams> {
  return new Promise((resolve) => {
    const subscription = client.onNotification('textDocument/publishDiagnostics', (params: PublishParams) => {
      if (params.uri === uri && (version === undefined || params.version === version)) {
        subscription.dispose();
        resolve(params);
      }
    });
  });
}

/** Resolves with `promise`, or with `undefined` once `ms` have passed without it. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
