// Starts the language server of *.l3m.json and *.l3m-sweep.json files (dist/server.js, written in extension/server/)
// over IPC. The server owns schema and semantic diagnostics, hover and completion; the client only
// routes the files to it.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { errorMessage } from '../sidecar/protocol/error_message';

export async function startLanguageClient(
  context: vscode.ExtensionContext,
  output: vscode.OutputChannel,
): Promise<LanguageClient | undefined> {
  const serverModule = context.asAbsolutePath('dist/server.js');
  if (!existsSync(serverModule)) {
    output.appendLine(
      `The L3M language server is missing (${serverModule}); run "npm run build". Schema validation still works through jsonValidation.`,
    );
    return undefined;
  }
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6019'] },
    },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'json', pattern: '**/*.{l3m,l3m-sweep}.json' },
      { scheme: 'file', language: 'jsonc', pattern: '**/*.{l3m,l3m-sweep}.json' },
    ],
    // Base configs on disk decide a sweep's diagnostics, so their changes reach the server too.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{l3m,l3m-sweep}.json') },
    outputChannel: output,
  };
  const client = new LanguageClient('l3mLanguageServer', 'L3M Language Server', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    output.appendLine(`The L3M language server failed to start: ${errorMessage(error)}`);
    return undefined;
  }
  return client;
}
