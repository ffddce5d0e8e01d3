// `l3m validate <files or folders...> [--strict]`: the editor's diagnostics (schema + semantic) in
// a terminal, one `file:line:column: severity: message` line each. Folders are searched for
// *.l3m.json files. Exit code 1 when any file has errors; warnings are printed but do not fail.
// `--strict` validates as a run would start (run mode): a missing checkpoint or data path is then
// an error instead of a warning.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSeverity } from 'vscode-json-languageservice';
import { loadConfigFile } from '../../schemas/load_config';
import { formatDiagnostic } from '../../schemas/validate_config';
import { exitCodes } from '../protocol/exit_codes';

const help = `Usage: l3m validate [--strict] <config.l3m.json | folder>...

Checks experiment configs against the schema and the semantic rules (the same diagnostics as the
editor) and prints them as file:line:column: severity: message.

Options:
  --strict   validate as a run would start: a missing checkpoint or data path is an error
  -h, --help show this help

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 usage error.`;

/** The *.l3m.json files under a folder, sorted, skipping node_modules and dot folders. */
function configsUnder(folder: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (name.startsWith('.') || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) found.push(...configsUnder(path));
    else if (name.endsWith('.l3m.json')) found.push(path);
  }
  return found;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(help);
    return exitCodes.ok;
  }
  const unknown = args.filter((a) => a.startsWith('-') && a !== '--strict');
  if (unknown.length > 0) {
    console.error(`l3m validate: unknown option ${unknown.join(', ')}.\n\n${help}`);
    return exitCodes.usage;
  }
  const mode = args.includes('--strict') ? 'run' : 'edit';
  const targets = args.filter((a) => !a.startsWith('-'));
  if (targets.length === 0) {
    console.error(`l3m validate: no config given.\n\n${help}`);
    return exitCodes.usage;
  }
  const files: string[] = [];
  for (const target of targets) {
    let isFolder = false;
    try {
      isFolder = statSync(target).isDirectory();
    } catch {
      /* a missing file is reported by loadConfigFile */
    }
    files.push(...(isFolder ? configsUnder(target) : [target]));
  }
  if (files.length === 0) {
    console.error(`l3m validate: no *.l3m.json file in ${targets.join(', ')}.`);
    return exitCodes.invalid;
  }
  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    const { diagnostics } = await loadConfigFile(file, mode);
    for (const diagnostic of diagnostics) {
      if (diagnostic.severity === DiagnosticSeverity.Error) errors++;
      else if (diagnostic.severity === DiagnosticSeverity.Warning) warnings++;
      console.log(formatDiagnostic(diagnostic, file));
    }
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  console.log(
    `${plural(files.length, 'config')} checked (${mode === 'run' ? 'strict' : 'edit'} mode): ${plural(errors, 'error')}, ${plural(warnings, 'warning')}.`,
  );
  return errors > 0 ? exitCodes.invalid : exitCodes.ok;
}
