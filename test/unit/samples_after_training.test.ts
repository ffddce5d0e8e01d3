// The samples a generation run makes when its training ends record the step of the checkpoint whose
// weights made them (the best one, which the test evaluation loads, when there is one), each truth
// slice's redshift and the simulator preset's slice side; a sample made later from the finished run
// records the step of the checkpoint it loaded. A tiny backbone on the simulator's `test` preset,
// through the jobs the commands use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareRun, runTraining } from '../../sidecar/jobs/train_job';
import { sampleRun } from '../../sidecar/jobs/sample_job';
import type { SampleIndex } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';

test("samples made after training record the best checkpoint's step, the slices' redshifts and the slice side", async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-samples-after-training-'));
  const savedCache = process.env.L3M_CACHE_DIR;
  process.env.L3M_CACHE_DIR = join(workspace, 'cache');
  try {
    writeFileSync(join(workspace, 'package.json'), '{"private": true}\n');
    const example = JSON.parse(readFileSync(resolve('examples/generation-paper-scale-cpu.l3m.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const config = {
      ...example,
      backbone: {
        ...example.backbone,
        architecture: {
          hidden_size: 32,
          num_hidden_layers: 1,
          num_attention_heads: 4,
          num_key_value_heads: 2,
          intermediate_size: 64,
          vocab_size: 64,
        },
      },
      head: { ...example.head, channels: 8, blocks: 1, steps: 2 },
      data: {
        ...example.data,
        simulator: { preset: 'test', count: 3, seed: 0 },
        patch_size: 8,
        sublightcone: { length: 4, context: 2, stride: null },
      },
      training: { ...example.training, steps: 4, gradient_accumulation_steps: 1, checkpoint_every: 1 },
      evaluation: {
        ...example.evaluation,
        every: 2,
        generated_lightcones: 1,
        generation_context_slices: 2,
        generation_slices: 1,
      },
    };
    const configPath = join(workspace, 'samples-after-training.l3m.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
    const events = { progress: () => undefined, metrics: () => undefined, log: () => undefined };
    assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events }), 'completed');

    const best = readJson<{ step: number }>(join(runDir, 'checkpoints', 'best.json')).step;
    const index = readJson<SampleIndex>(join(runDir, 'samples', 'index.json'));
    assert.equal(index.entries.length, 1, JSON.stringify(index));
    const [entry] = index.entries;
    assert.equal(entry.checkpointStep, best, `the best checkpoint (step ${best}) made the sample`);
    assert.match(entry.generated, new RegExp(`-step${String(best).padStart(6, '0')}\\.generated\\.npy$`));
    // Context and generated slices, cosmic-time order: redshift falls along them.
    assert.equal(entry.redshifts?.length, 3, JSON.stringify(entry.redshifts));
    const z = entry.redshifts ?? [];
    assert.ok(
      z.every((v, i) => i === 0 || v < z[i - 1]),
      `redshifts fall along the slices: ${z.join(', ')}`,
    );
    assert.equal(entry.boxMpc, 100, "the `test` preset's 100 Mpc side");

    // Sampling the finished run again loads the best checkpoint too, and keeps the first sample beside its own.
    const { entry: later } = await sampleRun(
      { runDir, lightcone: 0, contextSlices: 2, slices: 1, seed: 1 },
      new AbortController().signal,
    );
    assert.equal(later.checkpointStep, best);
    assert.equal(readJson<SampleIndex>(join(runDir, 'samples', 'index.json')).entries.length, 2);
  } finally {
    if (savedCache === undefined) delete process.env.L3M_CACHE_DIR;
    else process.env.L3M_CACHE_DIR = savedCache;
    rmSync(workspace, { recursive: true, force: true });
  }
});
