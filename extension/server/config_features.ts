// The language features of *.l3m.json files as plain functions over text (docs/conventions.md#thin-language-server):
// diagnostics, hover and completion. The JSON schema part comes from vscode-json-languageservice;
// L3M Studio adds the semantic checks and, in hovers over the model sections, the parameter and
// memory estimates. Only server.ts talks LSP; this module has no connection and no vscode import.
import { getLocation, parseTree, getNodeValue } from 'jsonc-parser';
import type { CompletionList, Diagnostic, Hover, Position } from 'vscode-json-languageservice';
import { fileURLToPath } from 'node:url';
import { backboneShape } from '../../schemas/backbone_shape';
import { describeEstimate, estimateParameters } from '../../schemas/config_estimates';
import { describeMemoryMarkdown, estimateTrainingMemory } from '../../schemas/memory_estimate';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { formatDuration, measuredRuns, timeFromEarlierRuns } from '../../sidecar/protocol/measured_step_rate';
import { defaultRunsDir } from '../../sidecar/protocol/workspace_folders';
import type { ConfigContext, ConfigFileSystem } from '../../schemas/config_context';
import { configLimitDiagnostic } from '../../schemas/config_limits';
import { resolveConfig } from '../../schemas/resolve_config';
import { configDocument, configLanguageService, validateConfig } from '../../schemas/validate_config';

/** Whether a document URI is an experiment config the server should handle. */
export function isExperimentConfig(uri: string): boolean {
  return /\.l3m\.json$/i.test(uri);
}

/** The file path of a document URI; untitled documents get a path in the working directory. */
export function configPathOf(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      /* fall through to the untitled case */
    }
  }
  return `${process.cwd()}/untitled.l3m.json`;
}

export function contextFor(uri: string, fileSystem: ConfigFileSystem): ConfigContext {
  return { configPath: configPathOf(uri), mode: 'edit', fileSystem };
}

/** Every diagnostic of the document (schema + semantic), in edit mode. */
export function configDiagnostics(uri: string, text: string, fileSystem: ConfigFileSystem): Promise<Diagnostic[]> {
  return validateConfig(text, contextFor(uri, fileSystem));
}

/** The sections whose hover shows the model's size. */
const estimatedSections = new Set(['backbone', 'head', 'connectors', 'prompt', 'task']);

/** Run folders read per hover at most: the newest of the experiment, so that a long history keeps hover quick. */
const measuredRunsRead = 20;

/**
 * The time per epoch (or per run, for a length in steps) from completed runs of the same shape in the config's
 * runs folder, or where to get one.
 */
function timeLine(config: ResolvedExperimentConfig, configPath: string): string | undefined {
  if (!configPath) return undefined;
  const experiment = (configPath.split(/[\\/]/).pop() ?? '').replace(/\.l3m\.json$/, '').replace(/\.json$/, '');
  const measured = timeFromEarlierRuns(config, measuredRuns(defaultRunsDir(configPath), experiment, measuredRunsRead));
  if (!measured) {
    return '**Time per epoch:** not measured yet: no completed run of this shape in the runs folder (`l3m sweep plan` estimates it from a benchmark of the backend).';
  }
  const from = `at ${measured.stepsPerSecond.toPrecision(3)} steps/s, measured on ${measured.runs} completed run${measured.runs === 1 ? '' : 's'} of this shape`;
  return measured.epochSeconds !== undefined
    ? `**Time per epoch:** ${formatDuration(measured.epochSeconds)} ${from}; the run about ${formatDuration(measured.seconds)}`
    : `**Run time:** about ${formatDuration(measured.seconds)} (${measured.steps} steps ${from}, with data and evaluation)`;
}

/** Markdown with the parameter and memory estimates of the text, or undefined when unknown. */
export function estimateMarkdown(text: string, context: ConfigContext): string | undefined {
  const root = parseTree(text);
  if (!root || root.type !== 'object') return undefined;
  try {
    const config = resolveConfig(getNodeValue(root));
    const shape = backboneShape(config, context);
    if (!shape) {
      return config.backbone?.source === 'pretrained'
        ? "**Parameters:** unknown until the checkpoint's config.json is readable at backbone.path."
        : undefined;
    }
    const parameters = estimateParameters(config, shape);
    const memory = estimateTrainingMemory(config, shape, parameters);
    const time = timeLine(config, context.configPath);
    return `${describeEstimate(parameters, memory && describeMemoryMarkdown(memory))}${time ? `  \n${time}` : ''}`;
  } catch {
    // Ill-typed fields: the diagnostics say what is wrong; the hover just has no estimate.
    return undefined;
  }
}

function markdownOf(contents: Hover['contents']): string {
  if (typeof contents === 'string') return contents;
  if (Array.isArray(contents)) return contents.map((c) => (typeof c === 'string' ? c : c.value)).join('\n\n');
  return contents.value;
}

/**
 * Schema documentation of the field under the cursor, plus estimates inside the model sections.
 * None for a text over the limits: its one diagnostic says why, and parsing it is what the limits avoid.
 */
export async function configHover(
  uri: string,
  text: string,
  position: Position,
  fileSystem: ConfigFileSystem,
): Promise<Hover | null> {
  if (configLimitDiagnostic(text)) return null;
  const document = configDocument(text, configPathOf(uri));
  const service = configLanguageService();
  const hover = await service.doHover(document, position, service.parseJSONDocument(document));
  const location = getLocation(text, document.offsetAt(position));
  const section = location.path[0];
  const estimate =
    typeof section === 'string' && estimatedSections.has(section)
      ? estimateMarkdown(text, contextFor(uri, fileSystem))
      : undefined;
  if (!hover && !estimate) return null;
  const parts = [hover ? markdownOf(hover.contents) : '', estimate ?? ''].filter(Boolean);
  return { contents: { kind: 'markdown', value: parts.join('\n\n---\n\n') }, range: hover?.range };
}

/** Completion of keys and enum values from the schema; none for a text over the limits (as hover). */
export async function configCompletion(uri: string, text: string, position: Position): Promise<CompletionList | null> {
  if (configLimitDiagnostic(text)) return null;
  const document = configDocument(text, configPathOf(uri));
  const service = configLanguageService();
  return service.doComplete(document, position, service.parseJSONDocument(document));
}
