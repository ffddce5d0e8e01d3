// The LSP shell of the *.l3m.json and *.l3m-sweep.json language server (docs/conventions.md#thin-language-server) over
// the pure features in config_features.ts and sweep_features.ts: it publishes diagnostics on open and change, answers hover and completion,
// and re-validates the open configs when checkpoints or data files appear or vanish (they decide
// the path diagnostics). server.ts starts it on the process's connection; tests start it on
// in-memory streams.
import {
  DidChangeWatchedFilesNotification,
  TextDocuments,
  TextDocumentSyncKind,
  type CodeAction,
  type Connection,
  type Diagnostic,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ConfigFileSystem } from '../../schemas/config_context';
import { configCompletion, configDiagnostics, configHover, isExperimentConfig } from './config_features';
import { isSweepFile, sweepCompletion, sweepDiagnostics, sweepHover } from './sweep_features';
import { configCodeActions } from './config_code_actions';

/** Whether the server answers for a document: an experiment config or a sweep file. */
function isServed(uri: string): boolean {
  return isExperimentConfig(uri) || isSweepFile(uri);
}

/**
 * Wires the config features to an LSP connection and starts listening. The file system decides
 * the path diagnostics (tests pass an in-memory one).
 */
export function startConfigServer(connection: Connection, fileSystem: ConfigFileSystem): void {
  const documents = new TextDocuments(TextDocument);
  let canWatchFiles = false;

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    canWatchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['"', ':', ' '], resolveProvider: false },
        codeActionProvider: { codeActionKinds: ['quickfix'] },
      },
      serverInfo: { name: 'L3M Studio config server' },
    };
  });

  connection.onInitialized(() => {
    if (!canWatchFiles) return;
    // Files that decide the path diagnostics: a checkpoint's config.json and weights, and data files.
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      // A sweep's diagnostics also follow its base configs (*.l3m.json) on disk.
      watchers: [
        {
          globPattern: '**/{config.json,*.safetensors,model.safetensors.index.json,*.npz,*.npy,*.h5,*.hdf5,*.l3m.json}',
        },
      ],
    });
  });

  /** Validates a document and publishes the result unless a newer version arrived meanwhile. */
  async function validate(document: TextDocument): Promise<void> {
    if (!isServed(document.uri)) return;
    const version = document.version;
    let diagnostics: Diagnostic[];
    try {
      // vscode-json-languageservice and vscode-languageserver pin different copies of the same LSP
      // types package; the shapes are identical.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- two copies of one LSP types package; TypeScript cannot tell they are the same
      diagnostics = (await (isSweepFile(document.uri) ? sweepDiagnostics : configDiagnostics)(
        document.uri,
        document.getText(),
        fileSystem,
      )) as unknown as Diagnostic[];
    } catch (caught) {
      // validateConfig does not throw for any text; this guards against bugs (docs/conventions.md#user-input).
      connection.console.error(
        `L3M: validating ${document.uri} failed: ${caught instanceof Error ? (caught.stack ?? caught.message) : String(caught)}`,
      );
      return;
    }
    if (documents.get(document.uri)?.version !== version) return;
    await connection.sendDiagnostics({ uri: document.uri, version, diagnostics });
  }

  documents.onDidOpen((event) => {
    void validate(event.document);
  });
  documents.onDidChangeContent((event) => {
    void validate(event.document);
  });
  documents.onDidClose((event) => {
    void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
  });
  connection.onDidChangeWatchedFiles(() => {
    for (const document of documents.all()) void validate(document);
  });

  connection.onHover(async ({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    if (!document || !isServed(document.uri)) return null;
    try {
      const hover = isSweepFile(document.uri) ? sweepHover : configHover;
      return await hover(document.uri, document.getText(), position, fileSystem);
    } catch (caught) {
      connection.console.error(`L3M: hover failed: ${caught instanceof Error ? caught.message : String(caught)}`);
      return null;
    }
  });

  connection.onCompletion(async ({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    if (!document || !isServed(document.uri)) return null;
    try {
      const complete = isSweepFile(document.uri) ? sweepCompletion : configCompletion;
      return await complete(document.uri, document.getText(), position);
    } catch (caught) {
      connection.console.error(`L3M: completion failed: ${caught instanceof Error ? caught.message : String(caught)}`);
      return null;
    }
  });

  connection.onCodeAction(async ({ textDocument, range }) => {
    const document = documents.get(textDocument.uri);
    if (!document || !isExperimentConfig(document.uri)) return null;
    try {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- two copies of one LSP types package; TypeScript cannot tell they are the same
      return (await configCodeActions(document.uri, document.getText(), range, fileSystem)) as unknown as CodeAction[];
    } catch (caught) {
      connection.console.error(
        `L3M: code actions failed: ${caught instanceof Error ? caught.message : String(caught)}`,
      );
      return null;
    }
  });

  documents.listen(connection);
  connection.listen();
}
