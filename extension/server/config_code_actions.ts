// The quick fixes of a *.l3m.json file as code actions: each diagnostic that carries fixes
// (schemas/config_quick_fixes.ts) under the requested range offers one action per fix, which replaces
// the diagnostic's range. The diagnostics are computed again from the text rather than taken from
// the request, so that an action never edits with a stale range or a client that dropped `data`.
import type { CodeAction, Diagnostic, Range } from 'vscode-json-languageservice';
import type { ConfigFileSystem } from '../../schemas/config_context';
import { quickFixesOf } from '../../schemas/config_quick_fixes';
import { configDiagnostics } from './config_features';

/** Whether two ranges share a position (a cursor inside or at either end of a diagnostic counts). */
function touches(a: Range, b: Range): boolean {
  const before = (p: Range['start'], q: Range['start']) =>
    p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

/** The quick-fix actions for the diagnostics of `text` that touch `range`, in diagnostic order. */
export async function configCodeActions(
  uri: string,
  text: string,
  range: Range,
  fileSystem: ConfigFileSystem,
): Promise<CodeAction[]> {
  const diagnostics: Diagnostic[] = await configDiagnostics(uri, text, fileSystem);
  return diagnostics
    .filter((d) => touches(d.range, range))
    .flatMap((diagnostic) => {
      const fixes = quickFixesOf(diagnostic);
      return fixes.map((fix): CodeAction => ({
        title: fix.title,
        kind: 'quickfix',
        diagnostics: [diagnostic],
        // The one fix of a diagnostic is what Ctrl+. applies by itself.
        isPreferred: fixes.length === 1,
        edit: { changes: { [uri]: [{ range: diagnostic.range, newText: fix.newText }] } },
      }));
    });
}
