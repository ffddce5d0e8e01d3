// A checkpoint is one atomic unit: a write that dies half way (here, the optimizer file fails after the
// weights are written, as a kill at that moment would leave it) never mixes the new weights with the old
// metadata, and loading refuses files that disagree with their metadata (step or content hash), also
// for checkpoints in the older layout that an interrupted write tore.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import {
  loadCheckpoint,
  readCheckpointMetadata,
  removeUnreferencedCheckpointFiles,
  saveCheckpoint,
} from '../../sidecar/checkpoint/checkpoint';
import { writeSafetensors } from '../../sidecar/checkpoint/safetensors_writer';
import type { CheckpointMetadata } from '../../sidecar/checkpoint/checkpoint_metadata';
import { readJson } from '../read_json';

const config = qwen2Config({
  vocabSize: 8,
  hiddenSize: 4,
  numHiddenLayers: 1,
  numAttentionHeads: 1,
  numKeyValueHeads: 1,
  intermediateSize: 8,
});
let root: string;
before(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'l3m-ckpt-atomic-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const weightsAt = (value: number) => [['w', tf.fill([2, 3], value)] as const];
const valuesOf = (loaded: ReturnType<typeof loadCheckpoint>) => Array.from(loaded.weights.get('w')!.dataSync());
const disposeLoaded = (loaded: ReturnType<typeof loadCheckpoint>) =>
  tf.dispose([...loaded.weights.values(), ...loaded.optimizerState.values()]);

test('a replacement that dies after the weights are written leaves the previous best whole', async () => {
  const dir = join(root, 'interrupted');
  await saveCheckpoint({
    dir,
    name: 'best',
    config,
    step: 10,
    weights: weightsAt(10),
    optimizerState: [['w/m', tf.fill([2, 3], 0.5)]],
  });
  // A disposed tensor makes the optimizer file fail after the weights file is complete: the state a kill
  // between the two files leaves behind.
  const gone = tf.fill([2, 3], 1);
  gone.dispose();
  await assert.rejects(
    saveCheckpoint({ dir, name: 'best', config, step: 15, weights: weightsAt(15), optimizerState: [['w/m', gone]] }),
    /disposed/,
  );
  const loaded = loadCheckpoint(dir, 'best');
  assert.equal(loaded.metadata.step, 10);
  assert.deepEqual(valuesOf(loaded), [10, 10, 10, 10, 10, 10], 'the weights belong to the step the metadata names');
  disposeLoaded(loaded);
  // The weights of the failed write are not referenced by any metadata; the start-up sweep removes them.
  const removed = removeUnreferencedCheckpointFiles(dir);
  assert.equal(removed.length, 1, removed.join(', '));
  const files = readdirSync(dir).sort();
  const metadata = readCheckpointMetadata(dir, 'best');
  assert.deepEqual(files, ['best.json', metadata.weightsFile, metadata.optimizerFile!].sort());
});

test('replacing a checkpoint removes the files of the one it replaced', async () => {
  const dir = join(root, 'replaced');
  await saveCheckpoint({ dir, name: 'best', config, step: 1, weights: weightsAt(1) });
  await saveCheckpoint({ dir, name: 'best', config, step: 2, weights: weightsAt(2) });
  assert.deepEqual(readdirSync(dir).sort(), ['best.json', readCheckpointMetadata(dir, 'best').weightsFile].sort());
  const loaded = loadCheckpoint(dir, 'best');
  assert.equal(loaded.metadata.step, 2);
  assert.deepEqual(valuesOf(loaded), [2, 2, 2, 2, 2, 2]);
  disposeLoaded(loaded);
});

test('a checkpoint of the older layout torn by an interrupted write is refused with both steps', async () => {
  const dir = join(root, 'legacy');
  await saveCheckpoint({ dir, name: 'best', config, step: 10, weights: weightsAt(10) });
  // The older layout: best.json names best.safetensors, without content hashes; the weights were
  // replaced by step 15's before the metadata was.
  const metadata = readJson<CheckpointMetadata>(join(dir, 'best.json'));
  rmSync(join(dir, metadata.weightsFile));
  writeSafetensors(
    join(dir, 'best.safetensors'),
    [{ name: 'w', shape: [2, 3], values: () => new Float32Array(6).fill(15) }],
    { format: 'pt', l3m_format_version: '1', step: '15' },
  );
  delete metadata.contents;
  writeFileSync(join(dir, 'best.json'), JSON.stringify({ ...metadata, weightsFile: 'best.safetensors' }));
  assert.throws(() => loadCheckpoint(dir, 'best'), /best\.json records step 10 but best\.safetensors holds step 15/);
});

test('a checkpoint file whose content changed after it was written is refused', async () => {
  const dir = join(root, 'corrupt');
  await saveCheckpoint({ dir, name: 'step-00000003', config, step: 3, weights: weightsAt(3) });
  const file = join(dir, readCheckpointMetadata(dir, 'step-00000003').weightsFile);
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(file, bytes);
  assert.throws(() => loadCheckpoint(dir, 'step-00000003'), /content does not match the sha256 its metadata records/);
});
