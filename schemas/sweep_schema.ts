// The sweep file's JSON schema (schemas/l3m-sweep.schema.json) and the JSON language service that
// validates, hovers and completes sweep files. The service's copy of the schema also lists every
// overridable field of the experiment config under `grid` and `setups[].overrides`, with the
// experiment schema's own description and values, so hover and completion over an override come from
// the one source of truth; validation uses the file's schema as written, and the sweep checks
// (sweep_check.ts) name unknown paths with a suggestion instead of the service's bare message.
import { getLanguageService, type LanguageService } from 'vscode-json-languageservice';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { pathToFileURL } from 'node:url';
import schemaJson from './l3m-sweep.schema.json';
import type { SchemaNode } from './resolve_config';
import { overridePaths, schemaAtPath, seedPath } from './sweep_paths';

/** The sweep schema as a typed object. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- the inferred JSON type is wrong (oneOf members), not the value; the schema tests check it
export const sweepSchema: SchemaNode = schemaJson as unknown as SchemaNode;

/** The URI the schema is registered under inside the language service. */
export const sweepSchemaUri = 'l3m://schemas/l3m-sweep.schema.json';

/** The sweep schema with every overridable experiment field spelled out, for hover and completion. */
function editorSchema(): SchemaNode {
  const schema = structuredClone(sweepSchema);
  const fields: Record<string, SchemaNode> = {};
  const gridFields: Record<string, SchemaNode> = {};
  for (const path of overridePaths()) {
    const field = path === seedPath ? undefined : schemaAtPath(path);
    if (!field) continue;
    fields[path] = field;
    gridFields[path] = {
      type: 'array',
      minItems: 1,
      items: field,
      description: field.description,
      markdownDescription: field.markdownDescription,
    };
  }
  const properties = schema.properties ?? {};
  const grid = properties.grid;
  const overrides = properties.setups?.items?.properties?.overrides;
  if (!grid || !overrides) throw new Error('schemas/l3m-sweep.schema.json lost grid or setups[].overrides.');
  grid.properties = gridFields;
  overrides.properties = fields;
  return schema;
}

let sharedService: LanguageService | undefined;

/** One JSON language service with the sweep schema registered for every document, built on first use. */
export function sweepLanguageService(): LanguageService {
  if (!sharedService) {
    const schema = editorSchema();
    sharedService = getLanguageService({
      // A sweep's own "$schema" (for editors without L3M Studio) gets the built-in copy; nothing is
      // fetched from disk or the network.
      schemaRequestService: (uri) =>
        /l3m-sweep\.schema\.json$/.test(uri)
          ? Promise.resolve(JSON.stringify(schema))
          : Promise.reject(new Error(`L3M Studio does not fetch schemas (${uri}); the sweep schema is built in.`)),
    });
    sharedService.configure({
      validate: true,
      allowComments: false,
      schemas: [{ uri: sweepSchemaUri, fileMatch: ['*'], schema }],
    });
  }
  return sharedService;
}

/** A text document for the language service; its URI is the sweep file's URI. */
export function sweepDocument(text: string, sweepPath: string, version = 0): TextDocument {
  return TextDocument.create(pathToFileURL(sweepPath).toString(), 'json', version, text);
}

/** Whether a path or URI names a sweep file. */
export function isSweepFile(pathOrUri: string): boolean {
  return /\.l3m-sweep\.json$/i.test(pathOrUri);
}
