// Quick fixes carried by a config's diagnostics: each is a text that replaces the diagnostic's own
// range (a key, or a value), so that the editor can offer it as a code action and the CLI can print
// the same hint. Diagnostics keep them in their `data`, which LSP passes through untouched. An
// unknown key gets the nearest key its object allows ("did you mean"), read from the experiment schema.
import { getLocation } from 'jsonc-parser';
import type { Diagnostic } from 'vscode-json-languageservice';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { isRecord } from './json_value';
import { editDistance, overridePaths } from './sweep_paths';

/** One fix: `newText` replaces the text of the diagnostic's range. */
export interface QuickFix {
  /** What the editor's light bulb says, e.g. `Change to 2`. */
  title: string;
  newText: string;
}

/** The quick fixes in a diagnostic's `data` (none when it has none or another shape). */
export function quickFixesOf(diagnostic: { data?: unknown }): QuickFix[] {
  const data = diagnostic.data;
  if (!isRecord(data) || !Array.isArray(data.fixes)) return [];
  return data.fixes.filter(
    (f): f is QuickFix => isRecord(f) && typeof f.title === 'string' && typeof f.newText === 'string',
  );
}

/** `data` for a diagnostic that offers these fixes. */
export function quickFixData(fixes: QuickFix[]): { fixes: QuickFix[] } {
  return { fixes };
}

/** The keys the schema allows in the object at `parent` (a path of keys), from its field paths. */
function keysUnder(parent: readonly string[]): string[] {
  const prefix = parent.length === 0 ? '' : `${parent.join('.')}.`;
  const keys = new Set<string>();
  for (const path of overridePaths()) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    if (rest !== '' && !rest.includes('.')) keys.add(rest);
  }
  return [...keys];
}

/**
 * The allowed key nearest to `key` in the object at `parent`, when it is close enough to be a typo
 * (a third of the key's length, at least two edits) or differs only in case; undefined otherwise.
 */
export function nearestKey(parent: readonly string[], key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of keysUnder(parent)) {
    if (candidate === key) continue;
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

const unknownProperty = /^Property (.+) is not allowed\.$/;
const notAccepted = /^Value is not accepted\. Valid values: (.+)\.$/;

/** The values the schema's "Value is not accepted. Valid values: …" lists, as JSON texts; none when unreadable. */
function acceptedValues(list: string): string[] {
  try {
    const values: unknown = JSON.parse(`[${list}]`);
    return Array.isArray(values) ? values.map((v) => JSON.stringify(v)) : [];
  } catch {
    return [];
  }
}

/**
 * The schema's diagnostics with their quick fixes: "Property x is not allowed." gets the nearest
 * allowed key of its object ("Did you mean "y"?" and the rename), "Value is not accepted. Valid
 * values: …" one fix per value. Others pass unchanged.
 */
export function withSchemaQuickFixes(diagnostics: readonly Diagnostic[], text: string): Diagnostic[] {
  const document = TextDocument.create('config.l3m.json', 'json', 0, text);
  return diagnostics.map((d) => {
    const message = typeof d.message === 'string' ? d.message : undefined;
    if (message === undefined) return d;
    const values = notAccepted.exec(message);
    if (values) {
      const fixes = acceptedValues(values[1]).map((value) => ({ title: `Change to ${value}`, newText: value }));
      return fixes.length > 0 ? { ...d, data: quickFixData(fixes) } : d;
    }
    const match = unknownProperty.exec(message);
    if (!match) return d;
    const location = getLocation(text, document.offsetAt(d.range.start) + 1);
    const path = location.path;
    // Objects inside arrays have no field paths in the schema's listing: no hint there.
    if (!location.isAtPropertyKey || path.some((p) => typeof p !== 'string')) return d;
    const parent = path.slice(0, -1).filter((p): p is string => typeof p === 'string');
    const nearest = nearestKey(parent, match[1]);
    if (!nearest) return d;
    return {
      ...d,
      message: `${message} Did you mean "${nearest}"?`,
      data: quickFixData([{ title: `Rename to "${nearest}"`, newText: JSON.stringify(nearest) }]),
    };
  });
}
