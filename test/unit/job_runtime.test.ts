// Every job selects its runtime the same way (sidecar/jobs/select_runtime.ts): evaluating and sampling
// a trained run honour L3M_BACKEND (the editor's l3m.backend setting) as training does, and say which
// backend was requested by what, before any data are read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { prepareRun } from '../../sidecar/jobs/train_job';
import { evaluateRun } from '../../sidecar/jobs/evaluate_job';
import { sampleRun } from '../../sidecar/jobs/sample_job';
import { writeTinyWorkspace } from '../integration/train_fixture';

async function withBackendVariable<T>(value: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.L3M_BACKEND;
  process.env.L3M_BACKEND = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.L3M_BACKEND;
    else process.env.L3M_BACKEND = saved;
  }
}

test('evaluate and sample honour L3M_BACKEND as training does', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-job-runtime-'));
  const signal = new AbortController().signal;
  try {
    // A regression run whose checkpoint holds no weights: loading them fails, after the runtime is chosen.
    const regression = (
      await prepareRun(writeTinyWorkspace(workspace, { runtime: { backend: 'cpu' } }), join(workspace, 'runs'))
    ).runDir;
    const config = qwen2Config({
      hiddenSize: 16,
      numAttentionHeads: 2,
      numKeyValueHeads: 1,
      maxPositionEmbeddings: 256,
    });
    await saveCheckpoint({
      dir: join(regression, 'checkpoints'),
      name: 'best',
      step: 1,
      weights: [],
      config,
      extra: { task: 'regression' },
    });
    await withBackendVariable('bogus', () =>
      assert.rejects(
        evaluateRun(regression, signal),
        /L3M_BACKEND is "bogus", which is not a backend; use one of auto, cuda/,
      ),
    );
    const logs: string[] = [];
    await withBackendVariable('cpu', () =>
      assert.rejects(evaluateRun(regression, signal, { log: (message) => logs.push(message) })),
    );
    assert.match(logs[0] ?? '', /^Backend cpu \(.*\); requested "cpu" by L3M_BACKEND\.$/);

    const generationConfig = join(workspace, 'generation.l3m.json');
    writeFileSync(
      generationConfig,
      readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'quickstart-generation.l3m.json')),
    );
    const generation = (await prepareRun(generationConfig, join(workspace, 'runs'))).runDir;
    await saveCheckpoint({
      dir: join(generation, 'checkpoints'),
      name: 'best',
      step: 1,
      weights: [],
      config,
      extra: { task: 'generation', transform: null, sliceScale: 100, n: 32, rows: 4, cols: 4, finetune: 'scratch' },
    });
    await withBackendVariable('bogus', () =>
      assert.rejects(
        sampleRun({ runDir: generation, lightcone: 0, contextSlices: 2, slices: 1 }, signal),
        /L3M_BACKEND is "bogus"/,
      ),
    );
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});
