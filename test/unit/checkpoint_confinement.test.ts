// A checkpoint's metadata names its weight and optimizer files; a name that leads out of the checkpoint
// folder (through "..", or a file that is a link to elsewhere) is refused with the reason, so a
// copied run folder cannot make training or sampling read any file on the machine as weights.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { loadCheckpoint, saveCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import { readCheckpointWeights } from '../../sidecar/train/trainer_checkpoints';

const config = qwen2Config({
  vocabSize: 20,
  hiddenSize: 16,
  numHiddenLayers: 1,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  intermediateSize: 24,
});
let root: string;
before(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'l3m-ckpt-confine-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

function metadataOf(dir: string, name: string): { weightsFile: string } {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { weightsFile: string };
}

function rewriteMetadata(dir: string, name: string, change: Record<string, unknown>): void {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...change }));
}

test('weightsFile or optimizerFile leading out of the checkpoint folder is refused', async () => {
  const model = Qwen2Model.random(config, 1);
  const dir = join(root, 'run', 'checkpoints');
  const outside = join(root, 'outside');
  mkdirSync(outside, { recursive: true });
  try {
    await saveCheckpoint({
      dir,
      name: 'a',
      config,
      step: 1,
      weights: model.namedWeights(),
      optimizerState: model.namedWeights(),
    });
    const saved = metadataOf(dir, 'a');
    copyFileSync(join(dir, saved.weightsFile), join(outside, 'w.safetensors'));
    const loaded = loadCheckpoint(dir, 'a');
    for (const t of [...loaded.weights.values(), ...loaded.optimizerState.values()]) t.dispose();

    rewriteMetadata(dir, 'a', { weightsFile: '../../outside/w.safetensors' });
    assert.throws(() => loadCheckpoint(dir, 'a'), /weightsFile/);
    rewriteMetadata(dir, 'a', { weightsFile: saved.weightsFile, optimizerFile: '../../outside/w.safetensors' });
    assert.throws(() => loadCheckpoint(dir, 'a'), /optimizerFile/);

    // The weights file itself a link to an identical file outside: its content checks pass, its place does not.
    await saveCheckpoint({ dir, name: 'b', config, step: 1, weights: model.namedWeights() });
    const weightsB = metadataOf(dir, 'b').weightsFile;
    copyFileSync(join(dir, weightsB), join(outside, 'b.safetensors'));
    rmSync(join(dir, weightsB));
    symlinkSync(join(outside, 'b.safetensors'), join(dir, weightsB));
    assert.throws(
      () => loadCheckpoint(dir, 'b'),
      new RegExp(
        `weightsFile "${weightsB.replace(/\./g, '\\.')}" of checkpoint .*b\\.json leads to .*outside.*b\\.safetensors, outside the checkpoint folder`,
      ),
    );

    // The same refusal on the way evaluation and sampling load a finished run's weights.
    assert.throws(
      () => readCheckpointWeights(dir, 'b', model.namedWeights()),
      /weightsFile .* outside the checkpoint folder/,
    );
  } finally {
    model.dispose();
  }
});
