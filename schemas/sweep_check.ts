// Every diagnostic of a sweep file (*.l3m-sweep.json) and, when it has no errors, its plan. Pure apart
// from the file system in the context, like validate_config.ts, so the language server and
// `l3m sweep` report the same problems at the same places: the sweep schema, then the checks it
// cannot express (bases that exist and validate, override paths that exist in the experiment schema,
// no override of training.seed, group_by entries, unique setup names, the number of runs) and last
// the validation of every expanded config with the same validateConfig the editor uses.
import { findNodeAtOffset, getNodePath, getNodeValue, parseTree, type Node as JsonNode } from 'jsonc-parser';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-json-languageservice';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { dirname, relative, resolve } from 'node:path';
import type { ConfigFileSystem } from './config_context';
import { configLimitDiagnostic } from './config_limits';
import { isRecord } from './json_value';
import { DiagnosticSink } from './semantic_checks';
import { defaultGroupBy, expandRuns, runCount, type SweepSetup, type SweepSpec } from './sweep_expand';
import { isOverridePath, nearestPath, seedPath } from './sweep_paths';
import { sweepDocument, sweepLanguageService, sweepSchema } from './sweep_schema';
import {
  defaultMaxRuns,
  expansionLimit,
  experimentNameOf,
  sweepNameOf,
  type JsonValue,
  type PlannedRun,
  type SlurmOptions,
  type SweepPlan,
} from './sweep_types';
import { formatDiagnostic, hasErrors, messageText, validateConfig } from './validate_config';

export interface SweepContext {
  /** Absolute path of the sweep file; bases are relative to its folder. */
  sweepPath: string;
  /** As for configs: `edit` in the editor (missing data paths are warnings), `run` before anything starts. */
  mode: 'edit' | 'run';
  /** Reads the base configs (readText) and answers the path checks of the expanded configs. */
  fileSystem: ConfigFileSystem;
}

export interface SweepCheck {
  diagnostics: Diagnostic[];
  /** The expansion; present only when there are no errors. */
  plan?: SweepPlan;
  /** How many runs the sweep expands to, when its structure is readable (errors or not). */
  runCount?: number;
}

type JsonPath = Array<string | number>;
const { Error: error, Warning: warning } = DiagnosticSeverity;

/** `setups[1].overrides["backbone.lora.rank"]`: a JSON path of the sweep file as a reader writes it. */
export function formatJsonPath(path: JsonPath): string {
  return path
    .map((key, i) =>
      typeof key === 'number'
        ? `[${key}]`
        : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
          ? `${i ? '.' : ''}${key}`
          : `[${JSON.stringify(key)}]`,
    )
    .join('');
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "runs 0–2, 6–8": run indexes as ranges, the first few only. */
function describeIndexes(indexes: number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j] + 1) j++;
    ranges.push(i === j ? String(indexes[i]) : `${indexes[i]}–${indexes[j]}`);
    i = j + 1;
  }
  const shown = ranges.slice(0, 4).join(', ') + (ranges.length > 4 ? ` and ${ranges.length - 4} more ranges` : '');
  return `${indexes.length === 1 ? 'run' : 'runs'} ${shown}`;
}

/** "quickstart-regression, setup full, training.lr=0.001": what tells one run's config from another's. */
function describeRun(run: PlannedRun): string {
  return [
    run.experiment,
    ...(run.setup !== null ? [`setup ${run.setup}`] : []),
    ...Object.entries(run.overrides).map(([path, value]) => `${path}=${JSON.stringify(value)}`),
  ].join(', ');
}

interface Base {
  path: string;
  /** Where the base is named in the sweep file. */
  at: JsonPath;
  config?: Record<string, JsonValue>;
  /** The messages of the base's own diagnostics, which its expanded configs repeat. */
  ownMessages: Set<string>;
}

/** Reads and validates one base config; its errors become one diagnostic at its entry. */
async function checkBase(written: string, at: JsonPath, context: SweepContext, sink: DiagnosticSink): Promise<Base> {
  const path = resolve(dirname(context.sweepPath), written);
  const base: Base = { path, at, ownMessages: new Set() };
  const where = `base ${JSON.stringify(written)} (${path})`;
  if (!context.fileSystem.exists(path)) {
    sink.report(
      'base-missing',
      at,
      error,
      `${where} does not exist. Point base at an experiment config (*.l3m.json) relative to this sweep file.`,
    );
    return base;
  }
  if (context.fileSystem.isDirectory(path)) {
    sink.report(
      'base-folder',
      at,
      error,
      `${where} is a folder; base names experiment config files (*.l3m.json) relative to this sweep file.`,
    );
    return base;
  }
  const text = context.fileSystem.readText?.(path);
  if (text === undefined) {
    sink.report('base-unreadable', at, error, `${where} cannot be read (permissions, or over 1 MiB). Check the file.`);
    return base;
  }
  const diagnostics = await validateConfig(text, {
    configPath: path,
    mode: context.mode,
    fileSystem: context.fileSystem,
  });
  const errors = diagnostics.filter((d) => d.severity === error);
  if (errors.length > 0) {
    sink.report(
      'base-invalid',
      at,
      error,
      `${where} has ${plural(errors.length, 'error')}, so no run of it can start; the first: ${formatDiagnostic(errors[0], path).replace(/\.$/, '')}. Fix the base config (l3m validate shows them all).`,
    );
    return base;
  }
  const root = parseTree(text);
  const value: unknown = root ? getNodeValue(root) : undefined;
  if (!isRecord(value)) return base;
  // A JSON document read by jsonc-parser holds JSON values only.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- parsed JSON text is JSON
  base.config = value as Record<string, JsonValue>;
  for (const d of diagnostics) base.ownMessages.add(messageText(d));
  return base;
}

/** Refuses override paths that are not fields of the experiment config, and the seed. */
function checkOverride(path: string, values: JsonValue[], at: JsonPath, sink: DiagnosticSink): boolean {
  const where = formatJsonPath(at);
  if (path === seedPath || (path === 'training' && values.some((value) => isRecord(value) && 'seed' in value))) {
    sink.report(
      'seed-override',
      at,
      error,
      `${where} sets training.seed, which the sweep derives for every run from its "seed" and the repeat (repeat r gets the same seed in every setup). Remove it; change the sweep's "seed" or "repeats" instead.`,
      'key',
    );
    return false;
  }
  if (!isOverridePath(path)) {
    const nearest = nearestPath(path);
    sink.report(
      'unknown-override',
      at,
      error,
      `${where}: "${path}" is not a field of the experiment config.${nearest ? ` Did you mean "${nearest}"?` : ''} An override names a field by its dotted path, e.g. "training.lr" or "backbone.lora.rank" (docs/config-reference.md lists them).`,
      'key',
    );
    return false;
  }
  return true;
}

function readSetups(value: unknown, sink: DiagnosticSink): SweepSetup[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  const setups: SweepSetup[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  value.forEach((setup: unknown, index) => {
    if (!isRecord(setup) || typeof setup.name !== 'string' || !isRecord(setup.overrides)) {
      ok = false;
      return;
    }
    const first = seen.get(setup.name);
    if (first !== undefined) {
      sink.report(
        'duplicate-setup',
        ['setups', index, 'name'],
        error,
        `setups[${index}].name "${setup.name}" is also the name of setups[${first}]; each setup names one row of the group tables. Rename one of them.`,
      );
      ok = false;
    }
    seen.set(setup.name, index);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- parsed JSON text is JSON
    const overrides = setup.overrides as Record<string, JsonValue>;
    for (const [path, override] of Object.entries(overrides)) {
      if (!checkOverride(path, [override], ['setups', index, 'overrides', path], sink)) ok = false;
    }
    setups.push({ name: setup.name, overrides });
  });
  return ok ? setups : undefined;
}

function readGrid(value: unknown, sink: DiagnosticSink): Array<[string, JsonValue[]]> | undefined {
  if (value === undefined) return [];
  if (!isRecord(value)) return undefined;
  const grid: Array<[string, JsonValue[]]> = [];
  let ok = true;
  for (const [path, values] of Object.entries(value)) {
    if (!Array.isArray(values) || values.length === 0) {
      ok = false;
      continue;
    }
    // eslint-disable-next-line @typescript-eslint/no-unsafe-type-assertion -- parsed JSON text is JSON
    const list = values as JsonValue[];
    if (!checkOverride(path, list, ['grid', path], sink)) ok = false;
    grid.push([path, list]);
  }
  return ok ? grid : undefined;
}

function readGroupBy(
  value: unknown,
  setups: SweepSetup[] | undefined,
  gridKeys: string[],
  baseCount: number,
  sink: DiagnosticSink,
): string[] | undefined {
  if (value === undefined) return defaultGroupBy(baseCount, (setups ?? []).length > 0, gridKeys);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return undefined;
  let ok = true;
  value.forEach((entry: string, index) => {
    if (entry === 'base') return;
    if (entry === 'setup') {
      if (setups !== undefined && setups.length === 0) {
        sink.report(
          'group-by-setup',
          ['group_by', index],
          error,
          `group_by[${index}] is "setup", but the sweep has no setups. Remove it, or add "setups".`,
        );
        ok = false;
      }
      return;
    }
    if (gridKeys.includes(entry)) return;
    sink.report(
      'group-by-unknown',
      ['group_by', index],
      error,
      `group_by[${index}] is "${entry}"; expected "base", "setup" or a grid key (${gridKeys.length > 0 ? gridKeys.map((k) => `"${k}"`).join(', ') : 'the sweep has no grid'}). A group is named by what its runs share; add "${entry}" to the grid or remove it here.`,
    );
    ok = false;
  });
  return ok ? value : undefined;
}

function readSlurm(value: unknown, sweepPath: string): SlurmOptions {
  const slurm = isRecord(value) ? value : {};
  const text = (key: string): string | undefined => (typeof slurm[key] === 'string' ? slurm[key] : undefined);
  const options: SlurmOptions = {
    array: typeof slurm.array === 'boolean' ? slurm.array : true,
    extra: Array.isArray(slurm.extra) ? slurm.extra.filter((e): e is string => typeof e === 'string') : [],
    shared_dir: typeof slurm.shared_dir === 'string' ? resolve(dirname(sweepPath), slurm.shared_dir) : null,
  };
  for (const key of ['partition', 'time', 'mem', 'gres', 'account'] as const) {
    const written = text(key);
    if (written !== undefined) options[key] = written;
  }
  if (typeof slurm.cpus_per_task === 'number') options.cpus_per_task = slurm.cpus_per_task;
  return options;
}

interface OverrideSource {
  path: string;
  /** Where the override's value is written in the sweep file. */
  at: JsonPath;
  /** How the message names it: `grid "training.lr" = 20`. */
  label: string;
}

/** Where each override of a run comes from in the sweep file (the grid's where both set a path). */
function overrideSources(run: PlannedRun, setups: SweepSetup[], grid: Array<[string, JsonValue[]]>): OverrideSource[] {
  const sources = new Map<string, OverrideSource>();
  const setupIndex = setups.findIndex((s) => s.name === run.setup);
  if (setupIndex >= 0) {
    for (const [path, value] of Object.entries(setups[setupIndex].overrides)) {
      sources.set(path, {
        path,
        at: ['setups', setupIndex, 'overrides', path],
        label: `setup "${run.setup}" override "${path}" = ${JSON.stringify(value)}`,
      });
    }
  }
  for (const [path, values] of grid) {
    const value = JSON.stringify(run.overrides[path]);
    const valueIndex = Math.max(
      0,
      values.findIndex((v) => JSON.stringify(v) === value),
    );
    sources.set(path, { path, at: ['grid', path, valueIndex], label: `grid "${path}" = ${value}` });
  }
  return [...sources.values()];
}

/** The override a diagnostic at `diagnosticPath` of the expanded config most likely comes from. */
function culprit(sources: OverrideSource[], diagnosticPath: string[]): OverrideSource | undefined {
  let best: OverrideSource | undefined;
  let bestShared = -1;
  for (const source of sources) {
    const keys = source.path.split('.');
    let shared = 0;
    while (shared < keys.length && shared < diagnosticPath.length && keys[shared] === diagnosticPath[shared]) shared++;
    // Later sources (the grid after the setup) win ties: they were applied last.
    if (shared >= bestShared) [best, bestShared] = [source, shared];
  }
  return best;
}

/** The JSON path of the expanded config at a diagnostic's start. */
function diagnosticPathIn(text: string, root: JsonNode | undefined, diagnostic: Diagnostic): string[] {
  if (!root) return [];
  const offset = TextDocument.create('expanded.json', 'json', 0, text).offsetAt(diagnostic.range.start);
  const node = findNodeAtOffset(root, offset, true);
  return node ? getNodePath(node).map(String) : [];
}

/**
 * Validates the config of every distinct base × setup × grid point (repeats differ only in the seed,
 * which the sweep derives within the schema's range) and reports each new diagnostic at the override
 * that most likely caused it, naming the runs it breaks and the experiment's own message.
 */
async function checkExpandedConfigs(
  runs: PlannedRun[],
  bases: Base[],
  spec: SweepSpec,
  context: SweepContext,
  sink: DiagnosticSink,
): Promise<void> {
  const found = new Map<
    string,
    { at: JsonPath; severity: DiagnosticSeverity; runs: number[]; text: (runs: string) => string }
  >();
  for (const run of runs) {
    if (run.repeat !== 0) continue;
    const base = bases.find((b) => b.path === run.base);
    const text = JSON.stringify(run.config, null, 2);
    const diagnostics = await validateConfig(text, {
      configPath: run.base,
      mode: context.mode,
      fileSystem: context.fileSystem,
    });
    const fresh = diagnostics.filter((d) => !base?.ownMessages.has(messageText(d)));
    if (fresh.length === 0) continue;
    const root = parseTree(text);
    const sources = overrideSources(run, spec.setups, spec.grid);
    const indexes = Array.from({ length: spec.repeats }, (_, r) => run.index + r);
    for (const diagnostic of fresh) {
      const fieldPath = diagnosticPathIn(text, root, diagnostic);
      const source = culprit(sources, fieldPath);
      const at = source?.at ?? base?.at ?? [];
      const message = messageText(diagnostic);
      const key = `${JSON.stringify(at)}\n${message}`;
      const entry = found.get(key);
      if (entry) {
        entry.runs.push(...indexes);
        continue;
      }
      const field = fieldPath.length > 0 ? ` at ${fieldPath.join('.')}` : '';
      const cause = source ? source.label : `the base ${experimentNameOf(run.base)}`;
      found.set(key, {
        at,
        severity: diagnostic.severity ?? error,
        runs: [...indexes],
        text: (describedRuns) =>
          `${cause} breaks ${describedRuns} (${describeRun(run)}): the expanded config of ${relative(dirname(context.sweepPath), run.base) || run.base}${field}: ${message}`,
      });
    }
  }
  for (const [, entry] of found) {
    sink.report('override-invalid', entry.at, entry.severity, entry.text(describeIndexes(entry.runs)));
  }
}

/**
 * Every diagnostic of a sweep text, sorted by position, and its plan when there are no errors. Never
 * throws for any text: syntax, schema and semantic problems all come back as diagnostics.
 */
export async function checkSweep(text: string, context: SweepContext): Promise<SweepCheck> {
  const start = { line: 0, character: 0 };
  if (text.trim() === '') {
    return {
      diagnostics: [
        {
          range: { start, end: start },
          severity: error,
          source: 'l3m',
          code: 'empty',
          message:
            'The sweep file is empty: expected a JSON object with at least "base" (e.g. {"base": "quickstart-regression.l3m.json", "repeats": 3}).',
        },
      ],
    };
  }
  const limit = configLimitDiagnostic(text);
  if (limit) return { diagnostics: [limit] };
  const document = sweepDocument(text, context.sweepPath);
  const service = sweepLanguageService();
  const schemaDiagnostics = (
    await service.doValidation(
      document,
      service.parseJSONDocument(document),
      { comments: 'error', trailingCommas: 'error', schemaValidation: 'error', schemaRequest: 'ignore' },
      sweepSchema,
    )
  )
    .filter((d) => !/Unable to load schema|Problems loading reference/.test(messageText(d)))
    .map((d) => ({ ...d, source: d.source ?? 'json-schema' }));
  const root = parseTree(text);
  if (!root || root.type !== 'object') return { diagnostics: schemaDiagnostics };
  const sink = new DiagnosticSink(text, root);
  const sweep: unknown = getNodeValue(root);
  if (!isRecord(sweep)) return { diagnostics: schemaDiagnostics };

  const written: unknown[] =
    typeof sweep.base === 'string' ? [sweep.base] : Array.isArray(sweep.base) ? sweep.base : [];
  const bases: Base[] = [];
  for (const [index, entry] of written.entries()) {
    if (typeof entry !== 'string' || entry === '') continue;
    bases.push(await checkBase(entry, typeof sweep.base === 'string' ? ['base'] : ['base', index], context, sink));
  }
  const setups = readSetups(sweep.setups, sink);
  const grid = readGrid(sweep.grid, sink);
  const gridKeys = isRecord(sweep.grid) ? Object.keys(sweep.grid) : [];
  const groupBy = readGroupBy(sweep.group_by, setups, gridKeys, written.length, sink);
  const repeats =
    typeof sweep.repeats === 'number' && Number.isInteger(sweep.repeats) && sweep.repeats >= 1 ? sweep.repeats : 1;
  const maxRuns = typeof sweep.max_runs === 'number' ? sweep.max_runs : defaultMaxRuns;

  let count: number | undefined;
  if (setups && grid) {
    count = runCount({ bases: written, setups, grid, repeats });
    const where: JsonPath =
      'max_runs' in sweep ? ['max_runs'] : 'grid' in sweep ? ['grid'] : 'repeats' in sweep ? ['repeats'] : ['base'];
    if (count > expansionLimit) {
      sink.report(
        'too-many-runs',
        where,
        error,
        `The sweep expands to ${count.toLocaleString('en-US')} runs (${written.length} base × ${Math.max(1, setups.length)} setup × ${count / (written.length * Math.max(1, setups.length) * repeats)} grid point × ${repeats} repeat); L3M Studio expands at most ${expansionLimit.toLocaleString('en-US')}. Shorten the grid or split the sweep.`,
        'key',
      );
    } else if (count > maxRuns) {
      sink.report(
        'over-max-runs',
        where,
        warning,
        `The sweep expands to ${count} runs, more than max_runs (${maxRuns}${'max_runs' in sweep ? '' : ', the default'}): \`l3m sweep run\` needs --yes and the editor asks before starting. Raise max_runs to ${count} if this is intended.`,
        'key',
      );
    }
  }

  const diagnostics = (): Diagnostic[] => [...schemaDiagnostics, ...sink.diagnostics].sort(byPosition);
  const complete = bases.length === written.length && bases.every((b) => b.config !== undefined);
  if (
    !complete ||
    !setups ||
    !grid ||
    !groupBy ||
    count === undefined ||
    count > expansionLimit ||
    hasErrors(diagnostics())
  ) {
    return { diagnostics: diagnostics(), runCount: count };
  }
  const name = typeof sweep.name === 'string' ? sweep.name : sweepNameOf(context.sweepPath);
  const sweepSeed = typeof sweep.seed === 'number' ? sweep.seed : 0;
  const spec: SweepSpec = {
    name,
    // Checked above: every base has its config.
    bases: bases.map((b) => ({ path: b.path, config: b.config ?? {} })),
    setups,
    grid,
    repeats,
    sweepSeed,
    groupBy,
  };
  const runs = expandRuns(spec);
  await checkExpandedConfigs(runs, bases, spec, context, sink);
  if (hasErrors(diagnostics())) return { diagnostics: diagnostics(), runCount: count };
  const local =
    isRecord(sweep.local) && typeof sweep.local.parallel === 'number' && sweep.local.parallel > 0
      ? sweep.local.parallel
      : null;
  const plan: SweepPlan = {
    sweepPath: context.sweepPath,
    name,
    sweepSeed,
    repeats,
    groupBy,
    executor: sweep.executor === 'slurm' ? 'slurm' : 'local',
    local: { parallel: local },
    slurm: readSlurm(sweep.slurm, context.sweepPath),
    maxRuns,
    runs,
  };
  return { diagnostics: diagnostics(), plan, runCount: count };
}
