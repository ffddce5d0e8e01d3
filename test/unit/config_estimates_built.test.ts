// The parameter estimate shown in hover against the models the sidecar builds: for every example config
// with a random backbone small enough to build here, the estimate's trainable count must equal the
// built model's (an estimate that drifts from the model misleads the person sizing a run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { estimateParameters } from '../../schemas/config_estimates';
import { backboneShape } from '../../schemas/backbone_shape';
import { resolveConfig } from '../../schemas/resolve_config';
import type { ExperimentConfig } from '../../schemas/generated/experiment_config';
import { buildGenerationModel } from '../../sidecar/tasks/generation/generation_setup';
import { buildRegressionModel } from '../../sidecar/tasks/regression/regression_setup';

const examples = join(import.meta.dirname, '..', '..', 'examples');

test("the estimate's trainable count equals the built model's for the buildable examples", async () => {
  await tf.setBackend('cpu');
  const checked: string[] = [];
  for (const file of readdirSync(examples)
    .filter((f) => f.endsWith('.l3m.json'))
    .sort()) {
    const config = resolveConfig(JSON.parse(readFileSync(join(examples, file), 'utf8')) as ExperimentConfig);
    if (config.backbone.source !== 'random') continue;
    const estimate = estimateParameters(config, backboneShape(config)!);
    if (estimate.total > 2_000_000) continue; // the Qwen2.5-0.5B-shaped random backbones take minutes to build on the cpu backend
    const path = join(examples, file);
    let built: number;
    if (config.task === 'generation') {
      const grid = config.data.simulator.preset === 'test' ? 32 / config.data.patch_size : 70 / config.data.patch_size;
      const { model } = buildGenerationModel(config, path, examples, { rows: grid, cols: grid });
      built = model.trainableParameterCount();
      model.dispose();
    } else {
      const { model } = buildRegressionModel(config, path, examples);
      built = model.trainableParameterCount();
      model.dispose();
    }
    assert.equal(estimate.trainable, built, `${file}: estimate ${estimate.trainable}, built model ${built}`);
    checked.push(file);
  }
  assert.ok(
    checked.includes('quickstart-generation.l3m.json') &&
      checked.includes('quickstart-regression.l3m.json') &&
      checked.length >= 4,
    checked.join(', '),
  );
});
