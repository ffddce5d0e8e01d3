// The full validation of an experiment config text: JSON syntax and the JSON schema (through
// vscode-json-languageservice, the same engine VS Code's JSON support uses) plus the semantic
// checks (schemas/semantic_checks.ts). Pure apart from the file system passed in the context; no
// vscode imports, so the language server, the CLI and the sidecar share it (docs/conventions.md#thin-language-server).
import {
  getLanguageService,
  DiagnosticSeverity,
  type Diagnostic,
  type JSONDocument,
  type LanguageService,
} from 'vscode-json-languageservice';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { pathToFileURL } from 'node:url';
import { configLimitDiagnostic } from './config_limits';
import { isRecord } from './json_value';
import { experimentSchema } from './resolve_config';
import { semanticDiagnostics } from './semantic_checks';
import { withSchemaQuickFixes } from './config_quick_fixes';
import type { ConfigContext } from './config_context';

/** The URI the schema is registered under inside the language service. */
export const experimentSchemaUri = 'l3m://schemas/l3m-experiment.schema.json';

let sharedService: LanguageService | undefined;

/**
 * One JSON language service with the experiment schema registered for every document, built on
 * first use. The server reuses it for hover and completion; nothing is fetched over the network.
 */
export function configLanguageService(): LanguageService {
  if (!sharedService) {
    sharedService = getLanguageService({
      // A config's own "$schema" (e.g. ../schemas/l3m-experiment.schema.json, for editors without
      // L3M Studio) would replace the fileMatch association; any URI naming the experiment schema
      // gets the built-in copy, and nothing is fetched from disk or the network.
      schemaRequestService: (uri) =>
        /l3m-experiment\.schema\.json$/.test(uri)
          ? Promise.resolve(JSON.stringify(experimentSchema))
          : Promise.reject(new Error(`L3M Studio does not fetch schemas (${uri}); the experiment schema is built in.`)),
    });
    sharedService.configure({
      validate: true,
      allowComments: false,
      schemas: [{ uri: experimentSchemaUri, fileMatch: ['*'], schema: experimentSchema }],
    });
  }
  return sharedService;
}

/** A text document for the language service; its URI is the config's file URI. */
export function configDocument(text: string, configPath: string, version = 0): TextDocument {
  return TextDocument.create(pathToFileURL(configPath).toString(), 'json', version, text);
}

/** Schema diagnostics (syntax included) of an already parsed document. */
export async function schemaDiagnostics(document: TextDocument, json: JSONDocument): Promise<Diagnostic[]> {
  // The service reports schema violations as warnings by default; a config that breaks its
  // schema cannot run, so they are errors here.
  // The schema is passed explicitly so that a "$schema" naming some other schema cannot switch the
  // validation off.
  const diagnostics = await configLanguageService().doValidation(
    document,
    json,
    {
      comments: 'error',
      trailingCommas: 'error',
      schemaValidation: 'error',
      schemaRequest: 'ignore',
    },
    experimentSchema,
  );
  // `$schema` may name a file the service cannot load; the built-in schema applies anyway.
  return diagnostics
    .filter((d) => !/Unable to load schema|Problems loading reference/.test(messageText(d)))
    .map((d) => ({ ...d, source: d.source ?? 'json-schema' }));
}

/** The plain text of a diagnostic message (LSP 3.18 allows markup there). */
export function messageText(diagnostic: Diagnostic): string {
  const message: unknown = diagnostic.message;
  if (typeof message === 'string') return message;
  return isRecord(message) && typeof message.value === 'string' ? message.value : JSON.stringify(message);
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
}

/**
 * Every diagnostic of a config text, sorted by position. Never throws for any text: malformed
 * JSON, unknown keys and wrong types all come back as diagnostics, and a text over the size or
 * nesting limits (config_limits.ts) as the one diagnostic that says so.
 */
export async function validateConfig(text: string, context: ConfigContext): Promise<Diagnostic[]> {
  const document = configDocument(text, context.configPath);
  if (text.trim() === '') {
    return [
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: DiagnosticSeverity.Error,
        source: 'l3m',
        code: 'empty',
        message:
          'The config is empty: expected a JSON object with at least "name" and "task" (e.g. {"name": "my-run", "task": "regression"}).',
      },
    ];
  }
  const limit = configLimitDiagnostic(text);
  if (limit) return [limit];
  const service = configLanguageService();
  const json = service.parseJSONDocument(document);
  const schema = await schemaDiagnostics(document, json);
  return [...withSchemaQuickFixes(schema, text), ...semanticDiagnostics(text, context)].sort(byPosition);
}

/** Whether any diagnostic is an error (warnings and hints do not block a run). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === DiagnosticSeverity.Error);
}

/** `line:column: severity: message` with 1-based line and column, as compilers print them. */
export function formatDiagnostic(diagnostic: Diagnostic, file: string): string {
  const severity =
    diagnostic.severity === DiagnosticSeverity.Error
      ? 'error'
      : diagnostic.severity === DiagnosticSeverity.Warning
        ? 'warning'
        : diagnostic.severity === DiagnosticSeverity.Information
          ? 'info'
          : 'hint';
  const { line, character } = diagnostic.range.start;
  return `${file}:${line + 1}:${character + 1}: ${severity}: ${messageText(diagnostic)}`;
}
