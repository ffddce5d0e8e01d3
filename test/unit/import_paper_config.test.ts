// `l3m import`: the paper's reference configs (fixtures written after the reference code's example configs) become
// valid L3M Studio configs, with every field that has no counterpart listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { importPaperConfig, detectTask } from '../../schemas/paper_config_import';
import { validateConfig, hasErrors } from '../../schemas/validate_config';
import { resolveConfig } from '../../schemas/resolve_config';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { run } from '../../sidecar/cli/import';
import type { ExperimentConfig } from '../../schemas/generated/experiment_config';
import { readJson } from '../read_json';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join('test/fixtures/paper_configs', `${name}.json`), 'utf8')) as Record<string, unknown>;
const context = { configPath: '/nowhere/imported.l3m.json', mode: 'edit' as const, fileSystem: nodeFileSystem };

test('the task is detected from keys only one dataclass has', () => {
  assert.equal(detectTask(fixture('regression_example')), 'regression');
  assert.equal(detectTask(fixture('generation_example')), 'generation');
  assert.equal(detectTask({ batch_size: 4 }), undefined);
});

test('regression example: values carried over, the result validates, unmapped fields listed', async () => {
  const { task, config, unmapped } = importPaperConfig(fixture('regression_example'), 'example');
  assert.equal(task, 'regression');
  const text = JSON.stringify(config, null, 2);
  const diagnostics = await validateConfig(text, context);
  assert.equal(hasErrors(diagnostics), false, JSON.stringify(diagnostics.map((d) => d.message)));
  const r = resolveConfig(config);
  assert.equal(r.name, 'regression_example');
  assert.equal(r.prompt.template, 'minimal');
  assert.equal(r.backbone.source, 'pretrained');
  assert.equal(r.backbone.finetune, 'frozen');
  assert.equal(r.backbone.attention_dropout, 0.001);
  assert.deepEqual(r.data.preprocessing.patch_mean_shape, [10, 28, 28]);
  assert.equal(r.data.preprocessing.tokens, 'patch_mean');
  assert.equal(r.training.batch_size, 64);
  assert.equal(r.training.max_grad_norm, 30);
  assert.equal(r.training.train_ds_multiplicity, 2);
  assert.equal(r.training.weight_decay, 0);
  assert.equal(r.training.interleaved, true);
  assert.deepEqual(r.training.schedule, { warmup: 1, stable: null, decay: 1 });
  assert.equal(r.data.splits.validation_fraction, 0.2);
  const keys = unmapped.map((u) => u.key);
  for (const key of [
    'test_ds_size',
    'number_of_runs',
    'tf32',
    'compile',
    'lr_ratios',
    'convergence_patience',
    'LLM_DIR',
    'DATASET_DIR',
  ]) {
    assert.ok(keys.includes(key), `${key} should be listed as unmapped: ${keys.join(', ')}`);
  }
  for (const key of ['batch_size', 'lr', 'attn_drop', 'patch_size', 'minimalistic_chat_template'])
    assert.ok(!keys.includes(key), key);
});

test('generation examples: CFM head from cfm_connector, sublightcone from t_init/t_max, LoRA rank', async () => {
  for (const name of ['generation_example', 'generation_example_lora']) {
    const { config, unmapped } = importPaperConfig(fixture(name), name);
    const diagnostics = await validateConfig(JSON.stringify(config), context);
    assert.equal(hasErrors(diagnostics), false, `${name}: ${JSON.stringify(diagnostics.map((d) => d.message))}`);
    const r = resolveConfig(config);
    assert.equal(r.task, 'generation');
    assert.deepEqual(r.head, {
      kind: 'cfm',
      channels: 64,
      blocks: 6,
      residual_factor: 2,
      kernel_size: 3,
      cond_channels: 2,
      previous_slice_residual: false,
      solver: 'dopri5',
      steps: 20,
      rtol: 1e-3,
      atol: 1e-3,
    });
    assert.equal(r.data.patch_size, 14);
    assert.equal(r.data.files.transverse_cells, 140);
    assert.deepEqual([r.data.sublightcone.length, r.data.sublightcone.context], [3, 2]);
    assert.equal(r.training.weight_decay, 0.001);
    assert.equal(r.training.max_grad_norm, 1);
    assert.equal(r.training.keep_checkpoints, 2);
    assert.equal(r.evaluation.generation_context_slices, 2);
    assert.equal(r.evaluation.generation_slices, 1);
    assert.equal(r.data.preprocessing.slice_transform, 'sgn_log1p');
    assert.ok(unmapped.some((u) => u.key === 'chunked_sublc_size'));
    if (name === 'generation_example_lora') {
      assert.equal(r.backbone.finetune, 'lora');
      assert.equal(r.backbone.lora.rank, 2);
      assert.ok(unmapped.some((u) => u.key === 'lora.config.use_router'));
    } else {
      assert.equal(r.backbone.finetune, 'full');
    }
  }
});

test('from scratch: random backbone with the reference scratch defaults, non-causal regression', () => {
  const { config } = importPaperConfig(
    {
      run_name: 'scratch run!',
      train_from_scratch: true,
      number_of_runs: 1,
      scratch_config: { hidden_size: 64, num_hidden_layers: 3, bogus: 1 },
    },
    'x',
  );
  const r = resolveConfig(config);
  assert.equal(r.name, 'scratch-run-');
  assert.equal(r.backbone.source, 'random');
  assert.equal(r.backbone.finetune, 'full');
  assert.equal(r.backbone.causal, false);
  assert.equal(r.training.interleaved, false);
  assert.deepEqual(
    [
      r.backbone.architecture.hidden_size,
      r.backbone.architecture.num_hidden_layers,
      r.backbone.architecture.vocab_size,
    ],
    [64, 3, 1],
  );
});

test('the CLI writes the file, refuses to overwrite, and rejects non-JSON input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-import-'));
  const log = console.log;
  const error = console.error;
  const printed: string[] = [];
  console.log = (...p: unknown[]) => {
    printed.push(p.join(' '));
  };
  console.error = (...p: unknown[]) => {
    printed.push(p.join(' '));
  };
  try {
    const out = join(dir, 'reg.l3m.json');
    assert.equal(await run(['test/fixtures/paper_configs/regression_example.json', '-o', out]), 0);
    assert.equal(readJson<ExperimentConfig>(out).task, 'regression');
    assert.ok(printed.some((l) => /fields have no counterpart/.test(l)));
    assert.ok(printed.some((l) => /^ {2}number_of_runs = 2: /.test(l)));
    assert.equal(await run(['test/fixtures/paper_configs/regression_example.json', '-o', out]), 2);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    assert.equal(await run([bad]), 1);
    assert.ok(printed.some((l) => /cannot read .*bad\.json as JSON/.test(l)));
  } finally {
    console.log = log;
    console.error = error;
    rmSync(dir, { recursive: true, force: true });
  }
});
