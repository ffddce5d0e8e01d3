// Reads, validates and resolves a config file in one call: what `l3m train`, `l3m validate` and
// the sidecar's run preparation need. The config is only resolved when it has no errors.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-json-languageservice';
import { configSizeDiagnostic } from './config_limits';
import { nodeFileSystem } from './node_file_system';
import { resolveConfig } from './resolve_config';
import { hasErrors, validateConfig, formatDiagnostic } from './validate_config';
import type { ConfigFileSystem } from './config_context';
import type { ResolvedExperimentConfig } from './generated/experiment_config';

export interface LoadedConfig {
  /** Absolute path of the config file. */
  path: string;
  text: string;
  diagnostics: Diagnostic[];
  /** The resolved config; undefined when there are errors. */
  config?: ResolvedExperimentConfig;
}

/**
 * Loads a config file. An unreadable file gives one error diagnostic instead of an exception, so
 * callers treat every problem the same way; so does a file over the size limit, which is not read.
 */
export async function loadConfigFile(
  path: string,
  mode: 'edit' | 'run',
  fileSystem: ConfigFileSystem = nodeFileSystem,
): Promise<LoadedConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    const tooLarge = configSizeDiagnostic(statSync(absolute).size);
    if (tooLarge) return { path: absolute, text: '', diagnostics: [tooLarge] };
    text = readFileSync(absolute, 'utf8');
  } catch (caught) {
    const reason = caught instanceof Error ? caught.message : String(caught);
    return {
      path: absolute,
      text: '',
      diagnostics: [
        {
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
          severity: DiagnosticSeverity.Error,
          source: 'l3m',
          code: 'unreadable',
          message: `Cannot read the config file ${absolute}: ${reason}. Check the path and its permissions.`,
        },
      ],
    };
  }
  const diagnostics = await validateConfig(text, { configPath: absolute, mode, fileSystem });
  if (hasErrors(diagnostics)) return { path: absolute, text, diagnostics };
  return { path: absolute, text, diagnostics, config: resolveConfig(JSON.parse(text)) };
}

/** An error carrying the diagnostics of a config that cannot run; its message lists the errors. */
export class ConfigInvalidError extends Error {
  constructor(
    readonly path: string,
    readonly diagnostics: Diagnostic[],
  ) {
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    super(
      `The config ${path} has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map((d) => formatDiagnostic(d, path)).join('\n')}`,
    );
    this.name = 'ConfigInvalidError';
  }
}
