// Each semantic rule: one config that passes and one that fails with the right message and range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSeverity } from 'vscode-json-languageservice';
import { semanticDiagnostics } from '../../schemas/semantic_checks';
import { messageText } from '../../schemas/validate_config';
import type { ConfigContext, ConfigFileSystem } from '../../schemas/config_context';

/** An in-memory file system: paths ending in "/" are folders, others files with their text. */
function memoryFs(entries: Record<string, string>): ConfigFileSystem {
  const has = (p: string) => Object.keys(entries).some((k) => k === p || k === `${p}/` || k.startsWith(`${p}/`));
  return {
    exists: has,
    isDirectory: (p) => Object.keys(entries).some((k) => k.startsWith(`${p}/`)),
    list: (p) => [
      ...new Set(
        Object.keys(entries)
          .filter((k) => k.startsWith(`${p}/`))
          .map((k) => k.slice(p.length + 1).split('/')[0])
          .filter(Boolean),
      ),
    ],
    readText: (p) => entries[p],
  };
}

const qwenFiles = {
  '/w/models/qwen/config.json': JSON.stringify({
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 128,
    max_position_embeddings: 4096,
    vocab_size: 1000,
  }),
  '/w/models/qwen/model.safetensors': '',
};

function context(mode: 'edit' | 'run' = 'edit', files: Record<string, string> = qwenFiles): ConfigContext {
  return { configPath: '/w/cfg.l3m.json', mode, fileSystem: memoryFs(files) };
}

const random = (architecture: object, extra: object = {}) => ({
  name: 'x',
  task: 'regression',
  backbone: {
    source: 'random',
    architecture: { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, ...architecture },
  },
  ...extra,
});

function check(config: unknown, ctx = context()) {
  const text = JSON.stringify(config, null, 2);
  return { text, diagnostics: semanticDiagnostics(text, ctx) };
}

/** Asserts exactly one diagnostic with `code`, matching `message`, whose range covers `covered` in the text. */
function expectOne(
  config: unknown,
  code: string,
  message: RegExp,
  covered: string,
  severity: DiagnosticSeverity = DiagnosticSeverity.Error,
  ctx = context(),
) {
  const { text, diagnostics } = check(config, ctx);
  const hits = diagnostics.filter((d) => d.code === code);
  assert.equal(hits.length, 1, `expected one ${code}, got ${JSON.stringify(diagnostics.map((d) => d.message))}`);
  const [d] = hits;
  assert.match(messageText(d), message);
  assert.equal(d.severity, severity);
  const lines = text.split('\n');
  const start =
    lines.slice(0, d.range.start.line).join('\n').length + (d.range.start.line ? 1 : 0) + d.range.start.character;
  const end = lines.slice(0, d.range.end.line).join('\n').length + (d.range.end.line ? 1 : 0) + d.range.end.character;
  assert.equal(text.slice(start, end), covered);
}

function expectNone(config: unknown, code: string, ctx = context()) {
  const { diagnostics } = check(config, ctx);
  assert.deepEqual(
    diagnostics.filter((d) => d.code === code).map((d) => d.message),
    [],
    code,
  );
}

const pretrained = { source: 'pretrained', path: 'models/qwen' };

test('query heads must be a multiple of KV heads', () => {
  expectNone(random({}), 'gqa-heads');
  expectOne(
    random({ num_key_value_heads: 3 }),
    'gqa-heads',
    /num_key_value_heads \(3\) does not divide num_attention_heads \(4\).*Use one of 1, 2, 4/,
    '3',
  );
});

test('hidden size divisible by heads, and an even head dimension', () => {
  expectNone(random({}), 'hidden-heads');
  expectOne(
    random({ hidden_size: 66 }),
    'hidden-heads',
    /hidden_size \(66\) is not divisible by num_attention_heads \(4\)/,
    '66',
  );
  expectNone(random({}), 'rotary-even');
  expectOne(random({ hidden_size: 60, num_attention_heads: 4 }), 'rotary-even', /head dimension .* = 15 is odd/, '60');
});

test('LoRA rank below the layer dimensions, from the architecture or the checkpoint', () => {
  const lora = (rank: number, backbone: object) => ({
    name: 'x',
    task: 'generation',
    backbone: { finetune: 'lora', lora: { rank }, ...backbone },
    data: { simulator: { preset: 'half_paper' } },
  });
  const arch = {
    source: 'random',
    architecture: { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 1, intermediate_size: 128 },
  };
  expectNone(lora(15, arch), 'lora-rank');
  expectOne(lora(16, arch), 'lora-rank', /rank \(16\) is not below .*k_proj: 16.*backbone\.architecture/, '16');
  // Checkpoint: hidden 64, 4 heads, 2 KV heads → k_proj out = 32.
  expectNone(lora(31, pretrained), 'lora-rank');
  expectOne(lora(32, pretrained), 'lora-rank', /k_proj: 32, from the checkpoint's config.json/, '32');
});

test('patch size divides the slice size (generation), and patch-mean blocks (regression)', () => {
  expectNone(
    { name: 'x', task: 'generation', data: { patch_size: 8, simulator: { preset: 'default' } } },
    'patch-slice',
  );
  expectOne(
    { name: 'x', task: 'generation', data: { patch_size: 14, simulator: { preset: 'default' } } },
    'patch-slice',
    /patch_size \(14\) does not divide the 32-cell slices of simulator preset 'default'.*2, 4, 8, 16.*half_paper/,
    '14',
  );
  expectNone(
    { name: 'x', task: 'generation', data: { source: 'files', files: { transverse_cells: 140 } } },
    'patch-slice',
  );
  expectOne(
    {
      name: 'x',
      task: 'regression',
      data: { preprocessing: { tokens: 'patch_mean', patch_mean_shape: [10, 28, 28] } },
    },
    'patch-slice',
    /patch_mean_shape \[10, 28, 28\] .* 32-cell slices/,
    '[\n        10,\n        28,\n        28\n      ]',
  );
});

test('a generation window must fit the position embeddings', () => {
  const cfg = (length: number) => ({
    name: 'x',
    task: 'generation',
    backbone: {
      source: 'random',
      architecture: { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 1024 },
    },
    data: { patch_size: 4, simulator: { preset: 'default' }, sublightcone: { length } },
  });
  expectNone(cfg(10), 'context-length'); // 10 × (64 + 8 + 1) + 32 = 762
  expectOne(cfg(14), 'context-length', /14 slices is about 1054 tokens .* max_position_embeddings \(1024\)/, '14');
});

test('sublightcone context below its length', () => {
  expectNone(
    { name: 'x', task: 'generation', data: { patch_size: 8, sublightcone: { length: 3, context: 2 } } },
    'sublightcone-context',
  );
  expectOne(
    { name: 'x', task: 'generation', data: { patch_size: 8, sublightcone: { length: 2, context: 2 } } },
    'sublightcone-context',
    /context \(2\) must be below .*length \(2\)/,
    '2',
  );
});

test('warm-up + decay within the training length, in epochs or steps', () => {
  expectNone(
    { name: 'x', task: 'regression', training: { epochs: 3, schedule: { warmup: 1, decay: 2 } } },
    'schedule-length',
  );
  expectOne(
    { name: 'x', task: 'regression', training: { epochs: 3, schedule: { warmup: 2, decay: 2 } } },
    'schedule-length',
    /warm-up \(2\) \+ decay \(2\) = 4 epochs exceed the training length of 3 epochs \(training.epochs\)/,
    '2',
  );
  expectOne(
    { name: 'x', task: 'regression', training: { unit: 'steps', steps: 100, schedule: { warmup: 10, decay: 95 } } },
    'schedule-length',
    /= 105 steps exceed .* 100 steps \(training.steps\)/,
    '95',
  );
  expectOne(
    { name: 'x', task: 'regression', training: { epochs: 10, schedule: { warmup: 1, stable: 2, decay: 1 } } },
    'schedule-length',
    /zero for the last 6 epochs/,
    '2',
    DiagnosticSeverity.Warning,
  );
});

test('splits leave lightcones for training; prior ranges are ordered', () => {
  expectNone(
    { name: 'x', task: 'regression', data: { splits: { validation_fraction: 0.2, test_fraction: 0.2 } } },
    'splits',
  );
  expectOne(
    { name: 'x', task: 'regression', data: { splits: { validation_fraction: 0.5, test_fraction: 0.5 } } },
    'splits',
    /leave no lightcones for training/,
    '0.5',
  );
  expectNone(
    { name: 'x', task: 'regression', data: { simulator: { priors: { zeta: { min: 20, max: 30 } } } } },
    'prior-range',
  );
  expectOne(
    { name: 'x', task: 'regression', data: { simulator: { priors: { zeta: { min: 200, max: 30 } } } } },
    'prior-range',
    /priors.zeta: min \(200\) must be below max \(30\)/,
    '200',
  );
});

test('head kind matches the task; generation is causal', () => {
  expectNone({ name: 'x', task: 'generation', head: { kind: 'cfm' } }, 'head-task');
  expectOne(
    { name: 'x', task: 'generation', head: { kind: 'gaussian' } },
    'head-task',
    /head.kind is 'gaussian' but task is 'generation'.*Set head.kind to 'cfm'/,
    '"gaussian"',
  );
  expectNone({ name: 'x', task: 'regression', backbone: { causal: false } }, 'causal-generation');
  expectOne(
    { name: 'x', task: 'generation', backbone: { causal: false } },
    'causal-generation',
    /backbone.causal is false but task is generation/,
    'false',
  );
});

test('pretrained path: present and complete passes; missing is a warning while editing and an error at run time', () => {
  expectNone({ name: 'x', task: 'regression', backbone: pretrained }, 'checkpoint-missing');
  expectNone({ name: 'x', task: 'regression', backbone: pretrained }, 'checkpoint-incomplete');
  const missing = { name: 'x', task: 'regression', backbone: { path: 'models/none' } };
  expectOne(
    missing,
    'checkpoint-missing',
    /the checkpoint folder \/w\/models\/none does not exist here/,
    '"models/none"',
    DiagnosticSeverity.Warning,
  );
  expectOne(
    missing,
    'checkpoint-missing',
    /does not exist\. Download a Qwen2.5 checkpoint/,
    '"models/none"',
    DiagnosticSeverity.Error,
    context('run'),
  );
  // Not written at all: the default path is reported at the start of the text.
  const { diagnostics } = check({ name: 'x', task: 'regression' }, context('run', {}));
  assert.equal(diagnostics.find((d) => d.code === 'checkpoint-missing')?.range.start.line, 0);
  expectOne(
    { name: 'x', task: 'regression', backbone: pretrained },
    'checkpoint-incomplete',
    /has no model.safetensors/,
    '"models/qwen"',
    DiagnosticSeverity.Error,
    context('edit', { '/w/models/qwen/config.json': '{}', '/w/models/qwen/pytorch_model.bin': '' }),
  );
});

test('data files: present passes; missing path is mode-dependent; a folder without files of the format is an error', () => {
  const files = (path: string, format = 'npz') => ({
    name: 'x',
    task: 'regression',
    data: { source: 'files', files: { path, format } },
  });
  const fs = { ...qwenFiles, '/w/data/a.npz': '', '/w/h5/readme.txt': '' };
  expectNone(files('data'), 'data-missing', context('run', fs));
  expectNone(files('data'), 'data-empty', context('run', fs));
  expectOne(
    files('nowhere'),
    'data-missing',
    /\/w\/nowhere does not exist here/,
    '"nowhere"',
    DiagnosticSeverity.Warning,
    context('edit', fs),
  );
  expectOne(
    files('nowhere'),
    'data-missing',
    /does not exist\. Put the npz lightcones there/,
    '"nowhere"',
    DiagnosticSeverity.Error,
    context('run', fs),
  );
  expectOne(
    files('h5', 'hdf5'),
    'data-empty',
    /holds no .h5\/.hdf5 file/,
    '"h5"',
    DiagnosticSeverity.Error,
    context('edit', fs),
  );
});

test('bad input never throws: not JSON, not an object, wrong types', () => {
  for (const text of [
    '',
    '{',
    '[1]',
    'null',
    '{"backbone": 3}',
    '{"task":"generation","data":{"sublightcone":"x","patch_size":"y"}}',
    '{"backbone":{"source":"random","architecture":{"hidden_size":"big","num_attention_heads":0}}}',
    '{"training":{"schedule":null}}',
  ]) {
    assert.doesNotThrow(() => semanticDiagnostics(text, context()), text);
  }
});

test('split sizes: a fraction that rounds to no lightcones warns; a batch larger than the training set warns', () => {
  const cfg = (count: number, test: number, batch = 4) => ({
    name: 'x',
    task: 'regression',
    data: { simulator: { count }, splits: { validation_fraction: 0.1, test_fraction: test } },
    training: { batch_size: batch },
  });
  expectNone(cfg(20, 0.05), 'split-empty'); // round(1) = 1
  expectOne(
    cfg(8, 0.05),
    'split-empty',
    /test_fraction \(0.05\) of 8 lightcones rounds to an empty split/,
    '0.05',
    DiagnosticSeverity.Warning,
  );
  expectNone(cfg(20, 0.1, 16), 'batch-too-large');
  expectOne(
    cfg(20, 0.1, 17),
    'batch-too-large',
    /batch_size \(17\) is larger than the 16 training lightcones/,
    '17',
    DiagnosticSeverity.Warning,
  );
});

test('global-signal tokens cannot outnumber the slices', () => {
  const cfg = (tokens: number) => ({
    name: 'x',
    task: 'regression',
    data: { simulator: { preset: 'test' }, preprocessing: { global_signal_tokens: tokens } },
  });
  expectNone(cfg(1024), 'global-signal-tokens');
  expectOne(
    cfg(1025),
    'global-signal-tokens',
    /\(1025\) is more than the 1024 slices of simulator preset 'test'/,
    '1025',
  );
});

test('sections made irrelevant by other fields are hinted at their key', () => {
  expectNone({ name: 'x', task: 'generation', backbone: { finetune: 'lora', lora: { rank: 4 } } }, 'ignored-section');
  expectOne(
    { name: 'x', task: 'regression', backbone: { finetune: 'frozen', lora: { rank: 4 } } },
    'ignored-section',
    /backbone.lora is ignored because backbone.finetune is 'frozen'/,
    '"lora"',
    DiagnosticSeverity.Information,
  );
  expectOne(
    { name: 'x', task: 'regression', data: { files: { path: 'd' } } },
    'ignored-section',
    /data.files is ignored because data.source is 'simulator'/,
    '"files"',
    DiagnosticSeverity.Information,
  );
});

test('explicit labels: for hdf5 only; a labels file that exists, parses, lists every file in range, each parameter from one place', () => {
  const labelled = (labels: object, format = 'hdf5') => ({
    name: 'x',
    task: 'regression',
    data: { source: 'files', files: { path: 'h5', format, labels } },
  });
  const lightcones = { '/w/h5/a.h5': '', '/w/h5/b.h5': '' };
  const fs = (labelsText: string) => ({ ...qwenFiles, ...lightcones, '/w/labels.json': labelsText });
  const complete = '{\n "a.h5": {"zeta": 30},\n "b.h5": {}\n}';
  expectNone(labelled({ file: 'labels.json' }), 'labels-invalid', context('run', fs(complete)));
  expectNone(labelled({ file: 'labels.json' }), 'labels-incomplete', context('run', fs(complete)));
  expectNone(labelled({ file: 'labels.json', fixed: { m_wdm: 10 } }), 'labels-twice', context('run', fs(complete)));
  expectOne(
    labelled({ fixed: { m_wdm: 10 } }, 'npz'),
    'labels-format',
    /explicit labels are for 21cmFAST HDF5 files, but data\.files\.format is 'npz'/,
    '"labels"',
  );
  expectOne(
    labelled({ file: 'nowhere.json' }),
    'labels-missing',
    /\/w\/nowhere\.json does not exist here/,
    '"nowhere.json"',
    DiagnosticSeverity.Warning,
    context('edit', fs(complete)),
  );
  expectOne(
    labelled({ file: 'nowhere.json' }),
    'labels-missing',
    /\/w\/nowhere\.json does not exist\. Write the labels file there/,
    '"nowhere.json"',
    DiagnosticSeverity.Error,
    context('run', fs(complete)),
  );
  expectOne(
    labelled({ file: 'labels.json' }),
    'labels-invalid',
    /\/w\/labels\.json:2:\d+: "a\.h5" gives zeta = 900, outside \[10, 250\]/,
    '"labels.json"',
    DiagnosticSeverity.Error,
    context('edit', fs('{\n "a.h5": {"zeta": 900},\n "b.h5": {}\n}')),
  );
  expectOne(
    labelled({ file: 'labels.json' }),
    'labels-invalid',
    /\/w\/labels\.json:1:\d+: not valid JSON/,
    '"labels.json"',
    DiagnosticSeverity.Error,
    context('edit', fs('{ "a.h5": ')),
  );
  expectOne(
    labelled({ file: 'labels.json' }),
    'labels-incomplete',
    /has no entry for 1 of the 2 lightcone file\(s\) in \/w\/h5: "b\.h5"/,
    '"labels.json"',
    DiagnosticSeverity.Error,
    context('edit', fs('{ "a.h5": {} }')),
  );
  expectOne(
    labelled({ file: 'labels.json' }),
    'labels-unknown-file',
    /\/w\/labels\.json:3 names "c\.h5", which is not in \/w\/h5/,
    '"labels.json"',
    DiagnosticSeverity.Warning,
    context('edit', fs('{\n "a.h5": {}, "b.h5": {},\n "c.h5": {}\n}')),
  );
  expectOne(
    labelled({ file: 'labels.json', fixed: { zeta: 40 } }),
    'labels-twice',
    /data\.files\.labels\.fixed\.zeta is also given by \/w\/labels\.json:2 \("a\.h5"\)/,
    '40',
    DiagnosticSeverity.Error,
    context('edit', fs(complete)),
  );
});
