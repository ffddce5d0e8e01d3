// Checks of an experiment config that JSON Schema cannot express, so that the editor reports them
// while typing rather than a run failing later: relations between fields (head counts, patch and
// slice sizes, LoRA rank, schedule lengths) and files on disk (the pretrained checkpoint, the
// data). One pure function, used by the language server and
// by `l3m validate`; the file system comes in through the context. Each diagnostic points at the
// field (or, when the field is not written, the nearest written ancestor), names it and says the fix.
import { findNodeAtLocation, getNodeValue, parseTree, type Node as JsonNode } from 'jsonc-parser';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-json-languageservice';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { resolveConfig } from './resolve_config';
import { isRecord } from './json_value';
import { backboneShape, resolveConfigPath, type BackboneShape } from './backbone_shape';
import { diagnosticSource, type ConfigContext } from './config_context';
import { simulatorPresets } from './simulator_presets';
import { labelParameterNames, parseLabelsFile } from './labels_file';
import type { ResolvedExperimentConfig } from './generated/experiment_config';
import { quickFixData, type QuickFix } from './config_quick_fixes';

type Path = Array<string | number>;

/** Collects diagnostics and turns JSON paths into ranges of the text. */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];
  private readonly document: TextDocument;

  constructor(
    text: string,
    private readonly root: JsonNode,
  ) {
    this.document = TextDocument.create('config.l3m.json', 'json', 0, text);
  }

  /**
   * Reports at `path` (its value, or its key when `at` is 'key'), or at the key of the nearest
   * ancestor the text contains.
   */
  report(
    code: string,
    path: Path,
    severity: DiagnosticSeverity,
    message: string,
    at: 'value' | 'key' = 'value',
    fixes: QuickFix[] = [],
  ): void {
    let range = { start: this.document.positionAt(0), end: this.document.positionAt(1) };
    for (let length = path.length; length >= 1; length--) {
      const node = findNodeAtLocation(this.root, path.slice(0, length));
      if (!node) continue;
      // The value itself when the field is written; the ancestor's key otherwise.
      const useKey = length < path.length || at === 'key';
      const target = useKey && node.parent?.type === 'property' ? (node.parent.children?.[0] ?? node) : node;
      range = {
        start: this.document.positionAt(target.offset),
        end: this.document.positionAt(target.offset + target.length),
      };
      break;
    }
    const diagnostic: Diagnostic = { range, severity, message, source: diagnosticSource, code };
    // A fix replaces the field's value, so it is offered only where the value itself is written.
    if (fixes.length > 0 && this.written(path)) diagnostic.data = quickFixData(fixes);
    this.diagnostics.push(diagnostic);
  }

  /** Whether the text itself writes the field at `path` (as opposed to a default filling it). */
  written(path: Path): boolean {
    return findNodeAtLocation(this.root, path) !== undefined;
  }
}

export interface RuleInput {
  config: ResolvedExperimentConfig;
  shape: BackboneShape | undefined;
  context: ConfigContext;
  sink: DiagnosticSink;
}

const { Error: error, Warning: warning, Information: information } = DiagnosticSeverity;

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}
function isNum(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}
/** Severity of a path that is missing on this machine: see ConfigContext.mode. */
function missingSeverity(context: ConfigContext): DiagnosticSeverity {
  return context.mode === 'run' ? error : warning;
}

/** The transverse slice size in cells of the configured data, and where it comes from. */
export function sliceCells(config: ResolvedExperimentConfig): { cells: number; origin: string } | undefined {
  const data = config.data;
  if (data?.source === 'simulator') {
    const preset = simulatorPresets[data.simulator?.preset];
    return preset && { cells: preset.n, origin: `simulator preset '${data.simulator.preset}'` };
  }
  if (data?.source === 'files' && isInt(data.files?.transverse_cells)) {
    return { cells: data.files.transverse_cells, origin: 'data.files.transverse_cells' };
  }
  return undefined;
}

function checkHeadMatchesTask({ config, sink }: RuleInput): void {
  const kind = config.head?.kind;
  if (config.task === 'generation' && kind === 'gaussian') {
    sink.report(
      'head-task',
      ['head', 'kind'],
      error,
      "head.kind is 'gaussian' but task is 'generation': generating lightcones needs the flow-matching head. Set head.kind to 'cfm', or remove head to get the task's default.",
    );
  } else if (config.task === 'regression' && kind === 'cfm') {
    sink.report(
      'head-task',
      ['head', 'kind'],
      error,
      "head.kind is 'cfm' but task is 'regression': inferring parameters needs the Gaussian head. Set head.kind to 'gaussian', or remove head to get the task's default.",
    );
  }
}

function checkAttentionHeads({ config, sink }: RuleInput): void {
  if (config.backbone?.source !== 'random') {
    if (config.backbone?.source === 'pretrained' && sink.written(['backbone', 'architecture'])) {
      sink.report(
        'architecture-ignored',
        ['backbone', 'architecture'],
        information,
        "backbone.architecture is ignored for a pretrained backbone: the shape comes from the checkpoint's config.json. Remove it, or set backbone.source to 'random'.",
      );
    }
    return;
  }
  const a = config.backbone.architecture;
  const at = (field: string) => ['backbone', 'architecture', field];
  // Each relation is checked when its own fields are well typed, so that a type error in one field
  // (reported by the schema) does not hide the other relations.
  if (!a || !isInt(a.num_attention_heads) || a.num_attention_heads < 1) return;
  if (
    isInt(a.num_key_value_heads) &&
    a.num_key_value_heads >= 1 &&
    a.num_attention_heads % a.num_key_value_heads !== 0
  ) {
    const choices = divisors(a.num_attention_heads);
    sink.report(
      'gqa-heads',
      at('num_key_value_heads'),
      error,
      `backbone.architecture.num_key_value_heads (${a.num_key_value_heads}) does not divide num_attention_heads (${a.num_attention_heads}): grouped-query attention gives every key/value head the same number of query heads. Use one of ${choices.join(', ')}.`,
      'value',
      choices.map((n) => ({ title: `Change num_key_value_heads to ${n}`, newText: String(n) })),
    );
  }
  if (!isInt(a.hidden_size)) return;
  if (a.hidden_size % a.num_attention_heads !== 0) {
    sink.report(
      'hidden-heads',
      at('hidden_size'),
      error,
      `backbone.architecture.hidden_size (${a.hidden_size}) is not divisible by num_attention_heads (${a.num_attention_heads}): each head gets hidden_size / num_attention_heads dimensions. Use a multiple of ${a.num_attention_heads} (e.g. ${Math.max(1, Math.round(a.hidden_size / a.num_attention_heads)) * a.num_attention_heads}) or a head count that divides ${a.hidden_size}.`,
    );
  } else if ((a.hidden_size / a.num_attention_heads) % 2 !== 0) {
    sink.report(
      'rotary-even',
      at('hidden_size'),
      error,
      `The head dimension hidden_size / num_attention_heads = ${a.hidden_size}/${a.num_attention_heads} = ${a.hidden_size / a.num_attention_heads} is odd: rotary embeddings rotate pairs of dimensions. Choose backbone.architecture.hidden_size and num_attention_heads so that the head dimension is even.`,
    );
  }
}

function checkLoraRank({ config, shape, sink }: RuleInput): void {
  if (config.backbone?.finetune !== 'lora' || !shape) return;
  const rank = config.backbone.lora?.rank;
  const targets = config.backbone.lora?.targets;
  if (!isInt(rank) || !Array.isArray(targets)) return;
  const h = shape.hidden_size;
  const kv = shape.num_key_value_heads * Math.floor(h / shape.num_attention_heads);
  const i = shape.intermediate_size;
  // [input, output] of each projection of a Qwen2 block (docs/design.md#network-shapes).
  const dims: Record<string, [number, number]> = {
    q_proj: [h, h],
    k_proj: [h, kv],
    v_proj: [h, kv],
    o_proj: [h, h],
    gate_proj: [h, i],
    up_proj: [h, i],
    down_proj: [i, h],
  };
  let smallest: { layer: string; size: number } | undefined;
  for (const target of targets) {
    const d = dims[target];
    if (!d) continue;
    const size = Math.min(d[0], d[1]);
    if (!smallest || size < smallest.size) smallest = { layer: target, size };
  }
  if (smallest && rank >= smallest.size) {
    sink.report(
      'lora-rank',
      ['backbone', 'lora', 'rank'],
      error,
      `backbone.lora.rank (${rank}) is not below the smallest dimension of the adapted layers (${smallest.layer}: ${smallest.size}, from the ${shape.origin === 'checkpoint' ? "checkpoint's config.json" : 'backbone.architecture'}): a low-rank adapter must have rank < min(in, out). Use a rank below ${smallest.size}, or drop ${smallest.layer} from backbone.lora.targets.`,
    );
  }
}

function checkPatches({ config, shape, sink }: RuleInput): void {
  const slice = sliceCells(config);
  const data = config.data;
  if (!slice || !data) return;
  if (config.task === 'generation' && isInt(data.patch_size)) {
    if (slice.cells % data.patch_size !== 0) {
      const options = divisors(slice.cells).filter((d) => d > 1 && d < slice.cells);
      sink.report(
        'patch-slice',
        ['data', 'patch_size'],
        error,
        `data.patch_size (${data.patch_size}) does not divide the ${slice.cells}-cell slices of ${slice.origin}: slices are cut into whole square patches. Use a divisor of ${slice.cells}${options.length ? ` (${options.join(', ')})` : ''}${data.source === 'simulator' ? ", or simulator preset 'half_paper' (70 cells) for 14-cell patches" : ''}.`,
      );
      return;
    }
    const sub = data.sublightcone;
    const side = slice.cells / data.patch_size;
    if (shape && isInt(sub?.length)) {
      // Per slice [patch × Y, <|nl_2|>] × X, <|nl_1|> tokens (docs/paper-mapping.md#tokenization), plus ~32 prompt tokens.
      const tokens = sub.length * (side * side + side + 1) + 32;
      if (tokens > shape.max_position_embeddings) {
        sink.report(
          'context-length',
          ['data', 'sublightcone', 'length'],
          error,
          `A training window of ${sub.length} slices is about ${tokens} tokens (${side}×${side} patches + separators per slice), more than max_position_embeddings (${shape.max_position_embeddings}). Use fewer slices in data.sublightcone.length, a larger data.patch_size, or a larger max_position_embeddings.`,
        );
      }
    }
  }
  if (config.task === 'regression' && data.preprocessing?.tokens === 'patch_mean') {
    const blocks = data.preprocessing.patch_mean_shape;
    if (
      Array.isArray(blocks) &&
      isInt(blocks[1]) &&
      isInt(blocks[2]) &&
      (slice.cells % blocks[1] !== 0 || slice.cells % blocks[2] !== 0)
    ) {
      sink.report(
        'patch-slice',
        ['data', 'preprocessing', 'patch_mean_shape'],
        error,
        `data.preprocessing.patch_mean_shape [${blocks.join(', ')}] has spatial sides that do not divide the ${slice.cells}-cell slices of ${slice.origin}. Use spatial sides from ${divisors(slice.cells).join(', ')}.`,
      );
    }
  }
}

function checkSublightcone({ config, sink }: RuleInput): void {
  const sub = config.data?.sublightcone;
  if (config.task !== 'generation' || !sub || !isInt(sub.length) || !isInt(sub.context)) return;
  if (sub.context >= sub.length) {
    sink.report(
      'sublightcone-context',
      ['data', 'sublightcone', 'context'],
      error,
      `data.sublightcone.context (${sub.context}) must be below data.sublightcone.length (${sub.length}): the context slices carry no loss, so at least one slice must remain to learn from. Lower context or raise length.`,
    );
  }
}

function checkSchedule({ config, sink }: RuleInput): void {
  const t = config.training;
  const s = t?.schedule;
  if (!t || !s || !isNum(s.warmup) || !isNum(s.decay)) return;
  const total = t.unit === 'steps' ? t.steps : t.epochs;
  const totalField = t.unit === 'steps' ? 'training.steps' : 'training.epochs';
  if (!isNum(total)) return;
  const stable = isNum(s.stable) ? s.stable : 0;
  const used = s.warmup + stable + s.decay;
  const parts = `warm-up (${s.warmup})${isNum(s.stable) ? ` + stable (${s.stable})` : ''} + decay (${s.decay}) = ${used}`;
  if (used > total) {
    sink.report(
      'schedule-length',
      ['training', 'schedule', s.warmup >= s.decay ? 'warmup' : 'decay'],
      error,
      `training.schedule: ${parts} ${t.unit} exceed the training length of ${total} ${t.unit} (${totalField}). Shorten the warm-up or decay, or train longer.`,
    );
  } else if (isNum(s.stable) && used < total) {
    sink.report(
      'schedule-length',
      ['training', 'schedule', 'stable'],
      warning,
      `training.schedule: ${parts} ${t.unit} end before the training length of ${total} ${t.unit} (${totalField}); the learning rate would be zero for the last ${total - used} ${t.unit}. Set training.schedule.stable to null (the rest of training) or to ${total - s.warmup - s.decay}.`,
    );
  }
}

function checkDataSplitsAndPriors({ config, sink }: RuleInput): void {
  const splits = config.data?.splits;
  if (
    splits &&
    isNum(splits.validation_fraction) &&
    isNum(splits.test_fraction) &&
    splits.validation_fraction + splits.test_fraction >= 1
  ) {
    sink.report(
      'splits',
      ['data', 'splits', 'test_fraction'],
      error,
      `data.splits: validation_fraction (${splits.validation_fraction}) + test_fraction (${splits.test_fraction}) leave no lightcones for training. Keep their sum below 1.`,
    );
  }
  const priors = config.data?.source === 'simulator' ? config.data.simulator?.priors : undefined;
  // The config is resolved from text that may not have passed the schema: a range may be anything.
  for (const [name, range] of Object.entries<unknown>({ ...priors })) {
    if (isRecord(range) && isNum(range.min) && isNum(range.max) && range.min >= range.max) {
      sink.report(
        'prior-range',
        ['data', 'simulator', 'priors', name, 'min'],
        error,
        `data.simulator.priors.${name}: min (${range.min}) must be below max (${range.max}). Swap them, or widen the range.`,
      );
    }
  }
}

function checkSplitSizes({ config, sink }: RuleInput): void {
  const data = config.data;
  const splits = data?.splits;
  if (data?.source !== 'simulator' || !splits || !isInt(data.simulator?.count)) return;
  if (!isNum(splits.validation_fraction) || !isNum(splits.test_fraction)) return;
  // The same rounding as the dataset split (sidecar/data/splits.ts): round(n·f) per split.
  const count = data.simulator.count;
  const validation = Math.round(count * splits.validation_fraction);
  const test = Math.round(count * splits.test_fraction);
  const train = count - validation - test;
  if (train < 1) return; // reported by the splits rule, or a count the schema rejects
  for (const [name, fraction, size] of [
    ['validation_fraction', splits.validation_fraction, validation],
    ['test_fraction', splits.test_fraction, test],
  ] as const) {
    if (fraction > 0 && size === 0) {
      sink.report(
        'split-empty',
        ['data', 'splits', name],
        warning,
        `data.splits.${name} (${fraction}) of ${count} lightcones rounds to an empty split. Raise it to at least ${(1 / count).toFixed(3)} or simulate more lightcones (data.simulator.count).`,
      );
    }
  }
  const batch = config.training?.batch_size;
  if (config.task === 'regression' && isInt(batch) && batch > train * (config.training.train_ds_multiplicity ?? 1)) {
    sink.report(
      'batch-too-large',
      ['training', 'batch_size'],
      warning,
      `training.batch_size (${batch}) is larger than the ${train} training lightcones: an epoch has no full batch. Lower the batch size or simulate more lightcones (data.simulator.count).`,
    );
  }
}

function checkGlobalSignalTokens({ config, sink }: RuleInput): void {
  const data = config.data;
  if (config.task !== 'regression' || data?.source !== 'simulator' || data.preprocessing?.tokens !== 'global_signal')
    return;
  const preset = simulatorPresets[data.simulator?.preset];
  const tokens = data.preprocessing.global_signal_tokens;
  if (preset && isInt(tokens) && tokens > preset.nLos) {
    sink.report(
      'global-signal-tokens',
      ['data', 'preprocessing', 'global_signal_tokens'],
      error,
      `data.preprocessing.global_signal_tokens (${tokens}) is more than the ${preset.nLos} slices of simulator preset '${data.simulator.preset}': each token averages at least one slice. Use at most ${preset.nLos} (the paper: 47).`,
    );
  }
}

/** Sections written in the text that the rest of the config makes irrelevant: a hint, not an error. */
function checkIgnoredSections({ config, sink }: RuleInput): void {
  const ignored: Array<[Array<string>, string]> = [];
  if (config.backbone?.finetune !== 'lora')
    ignored.push([
      ['backbone', 'lora'],
      `backbone.lora is ignored because backbone.finetune is '${String(config.backbone?.finetune)}'. Set finetune to 'lora' to use it.`,
    ]);
  if (config.data?.source !== 'files')
    ignored.push([
      ['data', 'files'],
      "data.files is ignored because data.source is 'simulator'. Set data.source to 'files' to read them.",
    ]);
  if (config.data?.source !== 'simulator')
    ignored.push([
      ['data', 'simulator'],
      "data.simulator is ignored because data.source is 'files'. Set data.source to 'simulator' to use it.",
    ]);
  if (config.task !== 'generation') {
    for (const key of ['sublightcone', 'augmentation', 'patch_size']) {
      ignored.push([['data', key], `data.${key} only applies to generation; this is a regression config.`]);
    }
  }
  for (const [path, message] of ignored) {
    if (sink.written(path)) sink.report('ignored-section', path, information, message, 'key');
  }
}

function checkCausal({ config, sink }: RuleInput): void {
  if (config.task === 'generation' && config.backbone?.causal === false) {
    sink.report(
      'causal-generation',
      ['backbone', 'causal'],
      error,
      'backbone.causal is false but task is generation: next-patch generation must not see future patches. Set backbone.causal to true (non-causal attention is for the regression reference networks).',
    );
  }
}

const safetensorsPattern = /\.safetensors$|^model\.safetensors\.index\.json$/;

function checkPretrainedPath({ config, context, sink }: RuleInput): void {
  const backbone = config.backbone;
  if (backbone?.source !== 'pretrained' || typeof backbone.path !== 'string') return;
  const folder = resolveConfigPath(context.configPath, backbone.path);
  const fs = context.fileSystem;
  const at = ['backbone', 'path'];
  if (!fs.exists(folder)) {
    sink.report(
      'checkpoint-missing',
      at,
      missingSeverity(context),
      `backbone.path: the checkpoint folder ${folder} does not exist${context.mode === 'edit' ? ' here (fine if it lives on the training machine)' : ''}. Download a Qwen2.5 checkpoint there (e.g. Qwen2.5-0.5B-Instruct: config.json, tokenizer.json, model.safetensors) or point backbone.path at one.`,
    );
    return;
  }
  if (!fs.isDirectory(folder)) {
    sink.report(
      'checkpoint-not-folder',
      at,
      error,
      `backbone.path: ${folder} is a file; it must be the checkpoint folder holding config.json and model.safetensors. Point backbone.path at that folder.`,
    );
    return;
  }
  const names = fs.list(folder);
  const missing = [
    ...(names.includes('config.json') ? [] : ['config.json']),
    ...(names.some((n) => safetensorsPattern.test(n))
      ? []
      : ['model.safetensors (or model.safetensors.index.json with its shards)']),
  ];
  if (missing.length > 0) {
    sink.report(
      'checkpoint-incomplete',
      at,
      error,
      `backbone.path: the folder ${folder} has no ${missing.join(' and no ')}. Copy the complete Hugging Face checkpoint there (PyTorch .bin weights are not read; convert them to safetensors).`,
    );
  }
}

const dataExtensions: Record<string, RegExp> = { npz: /\.npz$/i, hdf5: /\.(h5|hdf5)$/i, npy: /\.npy$/i };

function checkDataPath({ config, context, sink }: RuleInput): void {
  const data = config.data;
  if (data?.source !== 'files' || typeof data.files?.path !== 'string') return;
  const path = resolveConfigPath(context.configPath, data.files.path);
  const fs = context.fileSystem;
  const pattern = dataExtensions[data.files.format] ?? /./;
  if (!fs.exists(path)) {
    sink.report(
      'data-missing',
      ['data', 'files', 'path'],
      missingSeverity(context),
      `data.files.path: ${path} does not exist${context.mode === 'edit' ? ' here (fine if the data live on the training machine)' : ''}. Put the ${data.files.format} lightcones there, point data.files.path at them, or use data.source 'simulator'.`,
    );
    return;
  }
  const found = fs.isDirectory(path) ? fs.list(path).filter((n) => pattern.test(n)) : pattern.test(path) ? [path] : [];
  if (found.length === 0) {
    sink.report(
      'data-empty',
      ['data', 'files', 'path'],
      error,
      `data.files.path: ${path} holds no .${data.files.format === 'hdf5' ? 'h5/.hdf5' : data.files.format} file. Check data.files.format ('${data.files.format}') and the folder.`,
    );
  }
}

/**
 * The explicit labels (`data.files.labels`): only for HDF5 files, each parameter from one place, and a
 * labels file that exists, parses, lists every lightcone file with values in range. Problems inside the
 * labels file are reported at the config's `file` field, naming the labels file's line and column.
 */
function checkDataLabels({ config, context, sink }: RuleInput): void {
  const data = config.data;
  const labels = data?.files?.labels;
  if (data?.source !== 'files' || !isRecord(labels)) return;
  const fixed: Record<string, unknown> = isRecord(labels.fixed) ? labels.fixed : {};
  const fixedNames = labelParameterNames.filter((name) => isNum(fixed[name]));
  const file = typeof labels.file === 'string' && labels.file.length > 0 ? labels.file : undefined;
  const at = ['data', 'files', 'labels', 'file'];
  if (data.files.format !== 'hdf5') {
    if (file !== undefined || fixedNames.length > 0) {
      sink.report(
        'labels-format',
        ['data', 'files', 'labels'],
        error,
        `data.files.labels: explicit labels are for 21cmFAST HDF5 files, but data.files.format is '${data.files.format}', whose files carry their own labels. Remove data.files.labels, or set data.files.format to 'hdf5'.`,
        'key',
      );
    }
    return;
  }
  if (file === undefined) return;
  const path = resolveConfigPath(context.configPath, file);
  const fs = context.fileSystem;
  if (!fs.exists(path)) {
    sink.report(
      'labels-missing',
      at,
      missingSeverity(context),
      `data.files.labels.file: ${path} does not exist${context.mode === 'edit' ? ' here (fine if it lives on the training machine)' : ''}. Write the labels file there ({"<lightcone file>": {"zeta": 30, …}, …}) or point data.files.labels.file at it.`,
    );
    return;
  }
  const text = fs.isDirectory(path) ? undefined : fs.readText?.(path);
  // A labels file too large to read while editing is still checked by the loader before training.
  if (text === undefined) return;
  const parsed = parseLabelsFile(text);
  if (parsed.problems.length > 0) {
    const { line, column, message } = parsed.problems[0];
    const more = parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more)` : '';
    sink.report('labels-invalid', at, error, `data.files.labels.file: ${path}:${line}:${column}: ${message}${more}`);
    return;
  }
  for (const row of parsed.rows) {
    const twice = fixedNames.find((name) => row.values[name] !== undefined);
    if (twice) {
      sink.report(
        'labels-twice',
        ['data', 'files', 'labels', 'fixed', twice],
        error,
        `data.files.labels.fixed.${twice} is also given by ${path}:${row.line} ("${row.file}"); a parameter comes from one place. Remove one of them.`,
      );
      return;
    }
  }
  const folder = resolveConfigPath(context.configPath, data.files.path);
  if (!fs.isDirectory(folder)) return;
  const listed = new Set(parsed.rows.map((row) => row.file));
  const lightcones = fs.list(folder).filter((name) => dataExtensions.hdf5.test(name));
  const missing = lightcones.filter((name) => !listed.has(name)).sort();
  if (missing.length > 0) {
    const shown = missing
      .slice(0, 3)
      .map((name) => `"${name}"`)
      .join(', ');
    sink.report(
      'labels-incomplete',
      at,
      error,
      `data.files.labels.file: ${path} has no entry for ${missing.length} of the ${lightcones.length} lightcone file(s) in ${folder}: ${shown}${missing.length > 3 ? ', …' : ''}. Add an entry for each ({} keeps the file's own values).`,
    );
  }
  const present = new Set(lightcones);
  const extra = parsed.rows.filter((row) => !present.has(row.file));
  if (extra.length > 0 && lightcones.length > 0) {
    sink.report(
      'labels-unknown-file',
      at,
      warning,
      `data.files.labels.file: ${path}:${extra[0].line} names "${extra[0].file}", which is not in ${folder}${extra.length > 1 ? ` (and ${extra.length - 1} more such entries)` : ''}; its labels are not used. Check the file name.`,
    );
  }
}

/** Every semantic rule, in the order their diagnostics are reported. */
export const semanticRules: ReadonlyArray<(input: RuleInput) => void> = [
  checkHeadMatchesTask,
  checkAttentionHeads,
  checkLoraRank,
  checkPatches,
  checkSublightcone,
  checkSchedule,
  checkDataSplitsAndPriors,
  checkSplitSizes,
  checkGlobalSignalTokens,
  checkCausal,
  checkIgnoredSections,
  checkPretrainedPath,
  checkDataPath,
  checkDataLabels,
];

/**
 * Semantic diagnostics of a config text. Never throws: text that is not a JSON object gives no
 * semantic diagnostics (the schema validation reports it), and ill-typed fields skip the rules
 * that need them.
 */
export function semanticDiagnostics(text: string, context: ConfigContext): Diagnostic[] {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root || root.type !== 'object') return [];
  const sink = new DiagnosticSink(text, root);
  let config: ResolvedExperimentConfig;
  try {
    config = resolveConfig(getNodeValue(root));
  } catch {
    return [];
  }
  const input: RuleInput = { config, shape: backboneShape(config, context), context, sink };
  for (const rule of semanticRules) {
    try {
      rule(input);
    } catch (caught) {
      // A rule that trips over an unexpected shape must not take the server down (docs/conventions.md#user-input).
      sink.report(
        'internal',
        [],
        warning,
        `L3M Studio could not finish a semantic check (${caught instanceof Error ? caught.message : String(caught)}); the schema diagnostics still apply. Please report this.`,
      );
    }
  }
  return sink.diagnostics;
}
