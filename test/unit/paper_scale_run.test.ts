// The paper-scale example (examples/generation-paper-scale-cpu.l3m.json) shrunk to a tiny backbone and grid
// but otherwise as written (LoRA, chat prompt, recomputed activations, one-window micro-batches accumulated,
// one validation window): it trains, checkpoints, stops when cancelled after its first checkpoint, resumes to
// completion and samples a slice, all through the jobs the commands use. The full size runs in bench/paper_scale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import { sampleRun } from '../../sidecar/jobs/sample_job';
import { parseMetricsJsonl, type RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';

function events(onMetrics: (steps: number[]) => void = () => undefined): TrainingEvents {
  return {
    progress: () => undefined,
    metrics: (records) => onMetrics(records.filter((r) => r.split === 'train').map((r) => r.step)),
    log: () => undefined,
  };
}

test('the paper-scale example, shrunk: trains, checkpoints, resumes after a cancel and samples one slice', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-paper-scale-run-'));
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
          num_hidden_layers: 2,
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
      training: { ...example.training, steps: 3, gradient_accumulation_steps: 2, checkpoint_every: 1 },
      evaluation: { ...example.evaluation, every: 3 },
    };
    assert.equal(example.training.recompute_activations, true, 'the example recomputes activations');
    const configPath = join(workspace, 'generation-paper-scale-cpu.l3m.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));

    // Cancel once the first step's metrics arrive: the run stops within a step, resumable.
    const controller = new AbortController();
    const cancelled = await runTraining({
      runDir,
      signal: controller.signal,
      events: events((steps) => {
        if (steps.length > 0) controller.abort();
      }),
    });
    assert.equal(cancelled, 'cancelled');
    const record = readJson<RunRecord>(join(runDir, 'run.json'));
    assert.equal(record.status, 'cancelled');
    const checkpoints = () => readdirSync(join(runDir, 'checkpoints')).filter((n) => /^step-\d+\.json$/.test(n));
    assert.ok(
      checkpoints().length >= 1,
      `a checkpoint before the cancel: ${readdirSync(join(runDir, 'checkpoints')).join(', ')}`,
    );
    const stoppedAt = record.progress?.step ?? 0;
    assert.ok(stoppedAt >= 1 && stoppedAt < 3, `stopped at step ${stoppedAt}`);

    assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events: events() }), 'completed');
    const metrics = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records;
    const trainSteps = metrics.filter((m) => m.split === 'train').map((m) => m.step);
    assert.deepEqual([...new Set(trainSteps)].sort(), [1, 2, 3], 'each step once, across the resume');
    assert.ok(
      metrics.some((m) => m.split === 'val' && Number.isFinite(m.loss)),
      'a validation loss',
    );
    assert.ok(
      checkpoints().some((n) => /^step-0*3\.json$/.test(n)),
      'the last step is checkpointed',
    );

    const sample = await sampleRun({ runDir, lightcone: 0, contextSlices: 2, slices: 1 }, new AbortController().signal);
    assert.ok(existsSync(join(runDir, 'samples', 'index.json')));
    assert.equal(JSON.stringify(sample).includes('generated'), true, 'the sample entry names its generated slices');
  } finally {
    if (savedCache === undefined) delete process.env.L3M_CACHE_DIR;
    else process.env.L3M_CACHE_DIR = savedCache;
    rmSync(workspace, { recursive: true, force: true });
  }
});
