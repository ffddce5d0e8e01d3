// Config hover's estimates: the training memory at the config's batch and sequence length, and the time per
// epoch from completed runs of the same shape in the runs folder (or where to get one when there are none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimateMarkdown } from '../../extension/server/config_features';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { resolveConfig } from '../../schemas/resolve_config';
import { appendMetrics, createRun, updateRun } from '../../sidecar/runs/run_store';

test('hover shows the memory estimate and the time per epoch measured on an earlier run of the same shape', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-estimate-hover-'));
  const saved = process.env.L3M_RUNS_DIR;
  delete process.env.L3M_RUNS_DIR;
  try {
    writeFileSync(join(workspace, 'package.json'), '{"private": true}\n');
    const text = readFileSync('examples/quickstart-regression.l3m.json', 'utf8');
    const configPath = join(workspace, 'q.l3m.json');
    writeFileSync(configPath, text);
    const context = { configPath, mode: 'edit' as const, fileSystem: nodeFileSystem };
    const before = estimateMarkdown(text, context) ?? '';
    assert.match(
      before,
      /\*\*Training memory:\*\* about [\d.]+ MiB to train \(weights [\d.]+ MiB, .* at \d+ × 55 tokens/,
    );
    assert.match(before, /\*\*Time per epoch:\*\* not measured yet/);

    // A completed run of the same shape (another seed): 960 steps over 60 epochs at 8 steps/s.
    const written = JSON.parse(text) as { training: Record<string, unknown> };
    const config = resolveConfig({ ...written, training: { ...written.training, seed: 5 } });
    const start = new Date('2026-01-01T00:00:00Z');
    const { runDir } = await createRun({
      runsDir: join(workspace, 'runs'),
      experiment: 'q',
      task: 'regression',
      config,
      status: 'running',
      now: start,
    });
    await appendMetrics(runDir, [{ step: 960, epoch: 60, wall_time: 140, split: 'train', loss: 0.5, steps_per_s: 8 }]);
    await updateRun(runDir, { progress: { step: 960, totalSteps: 960, epoch: 60 } });
    await updateRun(runDir, { status: 'completed' }, new Date(start.getTime() + 150_000));
    const after = estimateMarkdown(text, context) ?? '';
    assert.match(after, /\*\*Time per epoch:\*\* 2\.0 s at 8\.00 steps\/s, measured on 1 completed run of this shape/);
  } finally {
    if (saved !== undefined) process.env.L3M_RUNS_DIR = saved;
    rmSync(workspace, { recursive: true, force: true });
  }
});
