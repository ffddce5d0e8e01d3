// Sampling refuses bad requests before any work (no data read, no model built): a regression run, a
// run without a checkpoint, and more slices than the model's maximum sequence; bad numbers too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { prepareRun } from '../../sidecar/train/run_training';
import { sampleRun } from '../../sidecar/train/sampling';

const examples = join(import.meta.dirname, '..', '..', 'examples');

async function runFolder(example: string, runs: string): Promise<string> {
  // A copy of the example next to the runs, so its relative paths and name stay as they are.
  const config = join(runs, example);
  writeFileSync(config, readFileSync(join(examples, example)));
  return (await prepareRun(config, runs)).runDir;
}

test('sampling errors: regression run, no checkpoint, too many slices, bad numbers — all before any work', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'l3m-sample-'));
  const signal = new AbortController().signal;
  try {
    const regression = await runFolder('quickstart-regression.l3m.json', runs);
    await assert.rejects(sampleRun({ runDir: regression, lightcone: 0, contextSlices: 2, slices: 1 }, signal), /is a regression run; sampling and next-patch evaluation need a generation run/);

    const generation = await runFolder('quickstart-generation.l3m.json', runs);
    await assert.rejects(sampleRun({ runDir: generation, lightcone: 0, contextSlices: 2, slices: 1 }, signal), /has no checkpoint yet \(status queued\); train it/);

    // A checkpoint whose metadata says 4×4 patches per slice (21 tokens) and 256 positions: 11 slices fit after the 8-token prompt.
    saveCheckpoint({
      dir: join(generation, 'checkpoints'), name: 'best', step: 1, weights: [],
      config: qwen2Config({ hiddenSize: 32, numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 256 }),
      extra: { task: 'generation', transform: null, sliceScale: 100, n: 32, rows: 4, cols: 4, finetune: 'scratch' },
    });
    await assert.rejects(sampleRun({ runDir: generation, lightcone: 0, contextSlices: 8, slices: 4 }, signal),
      /8 context \+ 4 generated slices exceed the model's maximum sequence of 11 slices \(max_position_embeddings 256\)/);
    await assert.rejects(sampleRun({ runDir: generation, lightcone: -1, contextSlices: 2, slices: 1 }, signal), /lightcone must be an integer ≥ 0, got -1/);
    await assert.rejects(sampleRun({ runDir: generation, lightcone: 0, contextSlices: 2, slices: 0 }, signal), /slices must be an integer ≥ 1, got 0/);
    await assert.rejects(sampleRun({ runDir: join(runs, 'nowhere'), lightcone: 0, contextSlices: 2, slices: 1 }, signal), /nowhere/);
  } finally {
    rmSync(runs, { recursive: true, force: true });
  }
});
