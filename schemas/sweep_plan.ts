// A sweep file read, checked and expanded in one call: what `l3m sweep plan|run`, the sidecar and the
// editor's Sweep action need before anything starts. A sweep with errors has no plan, only its
// diagnostics (printed as file:line:col by formatDiagnostic, as for configs).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-json-languageservice';
import type { ConfigFileSystem } from './config_context';
import { configSizeDiagnostic } from './config_limits';
import { nodeFileSystem } from './node_file_system';
import { checkSweep } from './sweep_check';
import type { SweepPlan } from './sweep_types';

export type { JsonValue, PlannedRun, SlurmOptions, SweepPlan } from './sweep_types';
export { deriveSeed } from './sweep_expand';
export { checkSweep, type SweepCheck, type SweepContext } from './sweep_check';

export interface PlanOptions {
  /** `run` (the default) checks as a run would start: a missing data or checkpoint path is an error. */
  mode?: 'edit' | 'run';
  fileSystem?: ConfigFileSystem;
}

export type PlanResult =
  | { plan: SweepPlan; diagnostics: Diagnostic[]; path: string }
  | { plan: null; diagnostics: Diagnostic[]; path: string };

/**
 * Reads, checks and expands the sweep file at `path`. `plan` is null when there are errors; warnings
 * (e.g. more runs than max_runs) come with a plan. An unreadable or oversized file is one error
 * diagnostic, never an exception.
 */
export async function planSweep(path: string, options: PlanOptions = {}): Promise<PlanResult> {
  const absolute = resolve(path);
  let text: string;
  try {
    const tooLarge = configSizeDiagnostic(statSync(absolute).size);
    if (tooLarge) return { plan: null, diagnostics: [tooLarge], path: absolute };
    text = readFileSync(absolute, 'utf8');
  } catch (caught) {
    const reason = caught instanceof Error ? caught.message : String(caught);
    const start = { line: 0, character: 0 };
    return {
      plan: null,
      path: absolute,
      diagnostics: [
        {
          range: { start, end: start },
          severity: DiagnosticSeverity.Error,
          source: 'l3m',
          code: 'unreadable',
          message: `Cannot read the sweep file ${absolute}: ${reason}. Check the path and its permissions.`,
        },
      ],
    };
  }
  const check = await checkSweep(text, {
    sweepPath: absolute,
    mode: options.mode ?? 'run',
    fileSystem: options.fileSystem ?? nodeFileSystem,
  });
  return check.plan
    ? { plan: check.plan, diagnostics: check.diagnostics, path: absolute }
    : { plan: null, diagnostics: check.diagnostics, path: absolute };
}
