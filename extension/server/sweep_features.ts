// The language features of *.l3m-sweep.json files as plain functions over text, beside
// config_features.ts for experiment configs: diagnostics (schemas/sweep_check.ts), hover (the
// schema's documentation, the experiment schema's over an override key, and over the file's own keys
// the number of runs with the parameter and memory estimates of their configs) and completion
// (override keys from the experiment schema's paths, values from its enums). No connection here.
import { getLocation } from 'jsonc-parser';
import type { CompletionList, Diagnostic, Hover, Position } from 'vscode-json-languageservice';
import type { ConfigFileSystem } from '../../schemas/config_context';
import { configLimitDiagnostic } from '../../schemas/config_limits';
import { checkSweep } from '../../schemas/sweep_check';
import { describeSweep } from '../../schemas/sweep_estimates';
import { sweepDocument, sweepLanguageService, isSweepFile } from '../../schemas/sweep_schema';
import { configPathOf } from './config_features';

export { isSweepFile };

/** The file path of a sweep document URI; untitled ones get a path in the working directory. */
export function sweepPathOf(uri: string): string {
  return uri.startsWith('file:') ? configPathOf(uri) : `${process.cwd()}/untitled.l3m-sweep.json`;
}

/** Every diagnostic of the sweep document, in edit mode (missing data paths are warnings). */
export async function sweepDiagnostics(uri: string, text: string, fileSystem: ConfigFileSystem): Promise<Diagnostic[]> {
  return (await checkSweep(text, { sweepPath: sweepPathOf(uri), mode: 'edit', fileSystem })).diagnostics;
}

function markdownOf(contents: Hover['contents']): string {
  if (typeof contents === 'string') return contents;
  if (Array.isArray(contents)) return contents.map((c) => (typeof c === 'string' ? c : c.value)).join('\n\n');
  return contents.value;
}

/** Keys of the sweep file itself (not inside an override), whose hover summarises the sweep. */
function onSweepKey(path: Array<string | number>): boolean {
  return path.length === 1 || (path[0] === 'base' && path.length <= 2);
}

/**
 * The documentation of the field under the cursor; over the sweep's own keys also its run count and
 * estimates, or why there are none. None for a text over the limits, as for configs.
 */
export async function sweepHover(
  uri: string,
  text: string,
  position: Position,
  fileSystem: ConfigFileSystem,
): Promise<Hover | null> {
  if (configLimitDiagnostic(text)) return null;
  const sweepPath = sweepPathOf(uri);
  const document = sweepDocument(text, sweepPath);
  const service = sweepLanguageService();
  const hover = await service.doHover(document, position, service.parseJSONDocument(document));
  const location = getLocation(text, document.offsetAt(position));
  let summary: string | undefined;
  if (onSweepKey(location.path)) {
    const check = await checkSweep(text, { sweepPath, mode: 'edit', fileSystem });
    summary = check.plan
      ? describeSweep(check.plan, fileSystem)
      : check.runCount !== undefined
        ? `**Sweep:** ${check.runCount} runs once its errors are fixed (see Problems).`
        : undefined;
  }
  if (!hover && !summary) return null;
  const parts = [hover ? markdownOf(hover.contents) : '', summary ?? ''].filter(Boolean);
  return { contents: { kind: 'markdown', value: parts.join('\n\n---\n\n') }, range: hover?.range };
}

/** Completion of the sweep's keys, override paths and enum values; none for a text over the limits. */
export async function sweepCompletion(uri: string, text: string, position: Position): Promise<CompletionList | null> {
  if (configLimitDiagnostic(text)) return null;
  const document = sweepDocument(text, sweepPathOf(uri));
  const service = sweepLanguageService();
  return service.doComplete(document, position, service.parseJSONDocument(document));
}
