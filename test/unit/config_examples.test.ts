// Every example validates with no errors; the reference networks have the sizes of Table 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DiagnosticSeverity } from 'vscode-json-languageservice';
import { validateConfig, formatDiagnostic } from '../../schemas/validate_config';
import { resolveConfig } from '../../schemas/resolve_config';
import { backboneShape } from '../../schemas/backbone_shape';
import { estimateParameters } from '../../schemas/config_estimates';
import { nodeFileSystem } from '../../schemas/node_file_system';
import type { ExperimentConfig } from '../../schemas/generated/experiment_config';
import { readJson } from '../read_json';

const folder = resolve('examples');
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.l3m.json'))
  .sort();

test('the examples cover the paper setups and the quickstarts', () => {
  for (const name of [
    'quickstart-regression',
    'quickstart-generation',
    'regression-pretrained-minimal',
    'regression-pretrained-chat',
    'regression-pretrained-chat-trainable',
    'regression-random-backbone',
    'regression-reference-small',
    'regression-reference-large',
    'generation-pretrained-full',
    'generation-pretrained-lora-r8',
    'generation-pretrained-lora-r2',
    'generation-pretrained-frozen',
    'generation-random-backbone',
    'generation-reference-small',
    'generation-reference-large',
  ]) {
    assert.ok(files.includes(`${name}.l3m.json`), name);
  }
});

test('every example validates without errors; the only warning is the missing Qwen checkpoint', async () => {
  for (const file of files) {
    const path = join(folder, file);
    const diagnostics = await validateConfig(readFileSync(path, 'utf8'), {
      configPath: path,
      mode: 'edit',
      fileSystem: nodeFileSystem,
    });
    const unexpected = diagnostics.filter(
      (d) =>
        d.severity === DiagnosticSeverity.Error ||
        (d.severity === DiagnosticSeverity.Warning && d.code !== 'checkpoint-missing'),
    );
    assert.deepEqual(
      unexpected.map((d) => formatDiagnostic(d, file)),
      [],
      file,
    );
  }
});

test('pretrained examples point at models/Qwen2.5-0.5B-Instruct; names match file names', () => {
  for (const file of files) {
    const config = resolveConfig(readJson<ExperimentConfig>(join(folder, file)));
    assert.equal(`${config.name}.l3m.json`, file);
    if (config.backbone.source === 'pretrained')
      assert.equal(config.backbone.path, 'models/Qwen2.5-0.5B-Instruct', file);
  }
});

test('Table 2 reference networks: about 32k and 990k parameters, non-causal, minimal, all trained, from scratch', () => {
  for (const [name, target] of [
    ['regression-reference-small', 32_000],
    ['regression-reference-large', 990_000],
  ] as const) {
    const config = resolveConfig(readJson<ExperimentConfig>(join(folder, `${name}.l3m.json`)));
    const estimate = estimateParameters(config, backboneShape(config)!);
    assert.ok(
      Math.abs(estimate.total - target) / target < 0.03,
      `${name}: ${estimate.total} parameters, expected about ${target}`,
    );
    assert.ok(
      estimate.trainable / estimate.total > 0.99,
      `${name}: everything but the (one-row) embeddings is trained`,
    );
    assert.equal(config.backbone.source, 'random');
    assert.equal(config.backbone.finetune, 'full');
    assert.equal(config.backbone.causal, false);
    assert.equal(config.prompt.template, 'minimal');
    assert.equal(config.training.interleaved, false);
  }
});

test('quickstarts use the built-in simulator and a tiny random backbone', () => {
  for (const name of ['quickstart-regression', 'quickstart-generation']) {
    const config = resolveConfig(readJson<ExperimentConfig>(join(folder, `${name}.l3m.json`)));
    assert.equal(config.data.source, 'simulator');
    assert.ok(['test', 'default', 'global_signal'].includes(config.data.simulator.preset));
    // A global_signal cone costs about a fifth of a default one (16-cell boxes, coarser steps), so the
    // regression quickstart affords a few hundred of them in the same time budget.
    assert.ok(config.data.simulator.count <= (config.data.simulator.preset === 'global_signal' ? 400 : 64));
    assert.equal(config.backbone.source, 'random');
    assert.ok(estimateParameters(config, backboneShape(config)!).total < 100_000);
  }
});
