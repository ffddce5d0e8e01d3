// The task registry (sidecar/tasks/registry.ts): every task the schema allows is registered and
// implements TaskDefinition in earnest — on a tiny workspace each one loads its data, builds its model
// and training task, and reads back the extra state its checkpoints write — and an unknown task is
// refused with the place it came from and the tasks this version knows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfigFile } from '../../schemas/load_config';
import { taskDefinition, taskDefinitions, taskNames } from '../../sidecar/tasks/registry';
import {
  tinyConfig,
  tinyGenerationData,
  tinyGenerationModel,
  writeSyntheticLightcones,
} from '../integration/train_fixture';

const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'schemas', 'l3m-experiment.schema.json'), 'utf8'),
) as { properties: { task: { enum: string[] } } };

/** A tiny valid config of each task, on the synthetic lightcones of train_fixture.ts. */
const tinyConfigs: Record<string, Record<string, unknown>> = {
  regression: tinyConfig(),
  generation: {
    ...tinyConfig(),
    name: 'tiny-generation',
    task: 'generation',
    ...tinyGenerationModel(),
    data: tinyGenerationData(),
    evaluation: {
      every: 2,
      batch_size: 4,
      next_patch_mse: true,
      next_patch_lightcones: 1,
      cfm_samples_per_patch: 1,
      generated_lightcones: 0,
    },
  },
};

test('the registry holds exactly the tasks the config schema allows, each once', () => {
  assert.deepEqual([...taskNames()].sort(), [...schema.properties.task.enum].sort());
  assert.equal(new Set(taskNames()).size, taskNames().length);
  for (const definition of taskDefinitions()) {
    assert.match(definition.evaluationFile, /^[a-z_]+\.json$/, `${definition.name}: eval/ file name`);
    assert.match(
      definition.emptyTestWarning,
      /data\.splits\.test_fraction/,
      `${definition.name}: the empty-test warning names the fix`,
    );
  }
});

test('an unknown task is refused with its source and the known tasks', () => {
  assert.throws(
    () => taskDefinition('classification', '/runs/demo/run-1/config.json'),
    /^Error: \/runs\/demo\/run-1\/config\.json has task "classification", which this version of L3M Studio does not know; the known tasks are "regression", "generation"\.$/,
  );
  assert.throws(() => taskDefinition(undefined, 'x.l3m.json'), /x\.l3m\.json has task undefined/);
});

test('each registered task loads data, builds its model and training task, and reads back its own checkpoint state', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-registry-'));
  try {
    writeSyntheticLightcones(workspace, { lightcones: 12, slices: 32 });
    for (const name of taskNames()) {
      assert.ok(tinyConfigs[name], `the test has no tiny config for task "${name}"; add one`);
      const configPath = join(workspace, `${name}.l3m.json`);
      writeFileSync(configPath, JSON.stringify(tinyConfigs[name]));
      const loaded = await loadConfigFile(configPath, 'run');
      assert.ok(loaded.config, `${name}: ${JSON.stringify(loaded.diagnostics)}`);
      const definition = taskDefinition(loaded.config.task, configPath);
      assert.equal(definition.name, name);
      assert.equal(typeof definition.evaluatesAfterTraining(loaded.config), 'boolean');

      const before = tf.memory().numTensors;
      const data = await definition.loadData(loaded.config, { configDir: workspace });
      assert.ok(data.description.length > 0 && data.testCount > 0, `${name}: ${data.description}`);
      const model = data.buildModel(loaded.config, { configPath, runDir: workspace });
      try {
        assert.ok(model.training.trainSize > 0 && model.training.phases.length > 0, `${name}: training task`);
        assert.ok(model.training.namedWeights().length > 0, `${name}: checkpointed weights`);
        const extra = model.checkpointExtra();
        assert.equal(extra.task, name);
        definition.checkCheckpointExtra(extra, 'own.json');
        data.restoreFromCheckpoint(extra);
        for (const other of taskNames().filter((n) => n !== name)) {
          assert.throws(
            () => definition.checkCheckpointExtra({ task: other }, `/runs/x/checkpoints/best`),
            /Checkpoint \/runs\/x\/checkpoints\/best was not written by a/,
          );
        }
      } finally {
        model.dispose();
      }
      assert.equal(tf.memory().numTensors, before, `${name}: the model's tensors are freed`);
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});
