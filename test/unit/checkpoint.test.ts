// Our own checkpoints: weights + optimizer state as safetensors and JSON metadata, written atomically,
// restored exactly, and readable by an independent safetensors parser in Python (struct/json + numpy, because
// the `safetensors` Python package is not installable here; skipped when python3 + numpy are missing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { flattenGroups, trainableVariables } from '../../sidecar/model/finetune_groups';
import {
  assignNamedWeights,
  checkpointFormatVersion,
  loadCheckpoint,
  readCheckpointMetadata,
  saveCheckpoint,
} from '../../sidecar/checkpoint/checkpoint';
import { SpecialTokens } from '../../sidecar/model/special_tokens';
import { AdamOptimizer } from '../../sidecar/train/adam_optimizer';
import { readTrainerCheckpoint, writeTrainerCheckpoint } from '../../sidecar/train/trainer_checkpoints';

const config = qwen2Config({
  vocabSize: 20,
  hiddenSize: 16,
  numHiddenLayers: 1,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  intermediateSize: 24,
});
let dir: string;
before(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'l3m-ckpt-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function trainedModel(): { model: Qwen2Model; optimizer: tf.AdamOptimizer } {
  const model = Qwen2Model.random(config, 1);
  model.addLora({ rank: 2 });
  const optimizer = tf.train.adam(1e-2);
  const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
  optimizer.minimize(
    () => tf.sum<tf.Scalar>(tf.square(model.forward({ inputIds: ids }).hidden)),
    false,
    flattenGroups(trainableVariables(model, 'lora')),
  );
  ids.dispose();
  return { model, optimizer };
}

describe('checkpoints', () => {
  test('save and load round trip: weights, adapters, optimizer state and metadata', async () => {
    const { model, optimizer } = trainedModel();
    const weights = [...model.namedWeights(), ...model.namedLoraWeights()];
    const optimizerState = (await optimizer.getWeights()).map((w) => [w.name, w.tensor] as const);
    await saveCheckpoint({
      dir,
      name: 'step-000001',
      config,
      step: 1,
      weights,
      optimizerState,
      extra: { epoch: 0, mode: 'lora' },
    });
    // The manifest and two data files named by their content.
    assert.deepEqual(
      readdirSync(dir)
        .sort()
        .map((f) => f.replace(/\.[0-9a-f]{16}\./, '.<hash>.')),
      ['step-000001.<hash>.optimizer.safetensors', 'step-000001.<hash>.safetensors', 'step-000001.json'],
    );

    const loaded = loadCheckpoint(dir, 'step-000001');
    assert.equal(loaded.metadata.formatVersion, checkpointFormatVersion);
    assert.deepEqual(loaded.metadata.config, config);
    assert.deepEqual(loaded.metadata.extra, { epoch: 0, mode: 'lora' });
    assert.equal(loaded.optimizerState.size, optimizerState.length);

    const restored = Qwen2Model.random(loaded.metadata.config, 99);
    restored.addLora({ rank: 2 });
    const unused = assignNamedWeights([...restored.namedWeights(), ...restored.namedLoraWeights()], loaded.weights);
    assert.deepEqual(unused, []);
    for (const [[name, a], [, b]] of weights.map(
      (w, i) => [w, [...restored.namedWeights(), ...restored.namedLoraWeights()][i]] as const,
    )) {
      assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), name);
    }
    for (const [name, tensor] of optimizerState) {
      assert.deepEqual(Array.from(loaded.optimizerState.get(name)!.dataSync()), Array.from(tensor.dataSync()), name);
    }
    model.dispose();
    restored.dispose();
  });

  test('shape mismatches change nothing; newer formats and incomplete checkpoints are refused', async () => {
    const model = Qwen2Model.random(config, 1);
    await saveCheckpoint({ dir, name: 'small', config, step: 0, weights: model.namedWeights() });
    const wider = Qwen2Model.random({ ...config, intermediateSize: 32 }, 2);
    const before = wider.namedWeights()[0][1].dataSync().slice();
    const loaded = loadCheckpoint(dir, 'small');
    assert.throws(
      () => assignNamedWeights(wider.namedWeights(), loaded.weights),
      /expected shape \[32, 16\], found \[24, 16\]/,
    );
    assert.deepEqual(wider.namedWeights()[0][1].dataSync(), before, 'nothing assigned after a mismatch');
    writeFileSync(join(dir, 'future.json'), JSON.stringify({ formatVersion: checkpointFormatVersion + 1 }));
    assert.throws(() => readCheckpointMetadata(dir, 'future'), /format version 2; this L3M Studio reads up to 1/);
    assert.throws(() => loadCheckpoint(dir, 'never-written'), /does not exist \(or was never completed/);
    await assert.rejects(saveCheckpoint({ dir, name: '../escape', config, step: 0, weights: [] }), /plain file stem/);
    model.dispose();
    wider.dispose();
  });

  test('Python reads the files by the safetensors spec (struct/json + numpy) with identical values', async (t) => {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip('/usr/bin/python3 with numpy is not available');
      return;
    }
    const model = Qwen2Model.random(config, 3);
    await saveCheckpoint({ dir, name: 'for-python', config, step: 5, weights: model.namedWeights() });
    const script = `
import json, struct, sys, numpy as np
raw = open(sys.argv[1], 'rb').read()
n, = struct.unpack('<Q', raw[:8])
assert n % 8 == 0, 'header not 8-byte aligned'
header = json.loads(raw[8:8 + n])
meta = header.pop('__metadata__')
data = raw[8 + n:]
end = 0
out = {}
for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
    b, e = info['data_offsets']
    assert b == end, 'tensors must be contiguous'
    end = e
    assert info['dtype'] == 'F32'
    arr = np.frombuffer(data[b:e], dtype='<f4').reshape(info['shape'])
    out[name] = [float(arr.sum()), list(arr.shape)]
assert end == len(data), 'no trailing bytes'
print(json.dumps({'meta': meta, 'tensors': out}))
`;
    const result = spawnSync(
      '/usr/bin/python3',
      ['-c', script, join(dir, readCheckpointMetadata(dir, 'for-python').weightsFile)],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as {
      meta: Record<string, string>;
      tensors: Record<string, [number, number[]]>;
    };
    assert.equal(parsed.meta.step, '5');
    assert.equal(parsed.meta.format, 'pt');
    for (const [name, variable] of model.namedWeights()) {
      const [sum, shape] = parsed.tensors[name];
      assert.deepEqual(shape, variable.shape);
      const expected = Array.from(variable.dataSync()).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - expected) < 1e-4 * (1 + Math.abs(expected)), `${name}: ${sum} vs ${expected}`);
    }
    model.dispose();
  });
});

describe('trainer checkpoints (resume)', () => {
  test('save after one step, restore into a fresh model, continue: identical to training on without a restart', async () => {
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    // The trainable state of a task: LoRA adapters and norms, a special token and a connector, by checkpoint key.
    // The frozen backbone is not in the checkpoint; it is rebuilt from the same base weights (the same seed here).
    const setup = (tokenSeed: number, connectorInit: tf.Tensor) => {
      const model = Qwen2Model.random(config, 5);
      model.addLora({ rank: 2, alpha: 4 });
      const tokens = new SpecialTokens(16, ['<|a|>'], tokenSeed);
      const connector = tf.variable(connectorInit);
      const weights: [string, tf.Variable][] = [
        ...trainableVariables(model, 'lora', tokens).flatMap((group) =>
          group.variables.map(({ name, variable }) => [name, variable] as [string, tf.Variable]),
        ),
        ['connector.weight', connector],
      ];
      const optimizer = new AdamOptimizer([{ name: 'main', weights, lrRatio: 1, weightDecay: 0.01 }], {
        kind: 'adamw',
      });
      const step = () => {
        const { value, grads } = tf.variableGrads(
          () =>
            tf.tidy(() => {
              const embeds = tf.concat(
                [model.embed(ids), tokens.stack(['<|a|>']).expandDims(0), connector.expandDims(0)],
                1,
              ) as tf.Tensor3D;
              return tf.mean<tf.Scalar>(tf.square(model.forward({ inputsEmbeds: embeds }).hidden));
            }),
          weights.map(([, v]) => v),
        );
        optimizer.apply(grads, 1e-2);
        tf.dispose(grads);
        const loss = value.dataSync()[0];
        value.dispose();
        return loss;
      };
      return {
        model,
        tokens,
        weights,
        optimizer,
        step,
        dispose: () => {
          model.dispose();
          tokens.dispose();
          connector.dispose();
          optimizer.dispose();
        },
      };
    };
    const original = setup(2, tf.randomNormal([1, 16], 0, 1, 'float32', 3));
    original.step();
    const state = {
      step: 1,
      bestLoss: null,
      bestStep: null,
      evaluationsWithoutImprovement: 0,
      wallTime: 0.5,
      lastFiniteLoss: 1,
    };
    await writeTrainerCheckpoint(dir, 'resume', {
      weights: original.weights,
      optimizers: [{ phase: 'main', optimizer: original.optimizer }],
      state,
      config,
    });
    const continued = [original.step(), original.step()];

    // Different special-token and connector values before the restore, so only the checkpoint can make them agree.
    const resumed = setup(7, tf.zeros([1, 16]));
    const restoredState = readTrainerCheckpoint(dir, 'resume', {
      weights: resumed.weights,
      optimizers: [{ phase: 'main', optimizer: resumed.optimizer }],
    });
    assert.deepEqual(restoredState, state);
    assert.equal(resumed.optimizer.step, 1);
    assert.deepEqual([resumed.step(), resumed.step()], continued);
    original.dispose();
    resumed.dispose();
    ids.dispose();
  });
});
