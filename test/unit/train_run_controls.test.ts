// The training job's controls around the training loop: a cancel while the dataset is still being
// simulated, and the editor's backend setting (env L3M_BACKEND) over the config's runtime.backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import { backendRequestOf } from '../../sidecar/jobs/select_runtime';
import { writeTinyWorkspace } from '../integration/train_fixture';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';

function events(onLog: (message: string) => void = () => undefined): TrainingEvents {
  return { progress: () => undefined, metrics: () => undefined, log: (_level, message) => onLog(message) };
}

/** A generation config: the quickstart example with the given simulator settings. */
function writeGenerationWorkspace(workspace: string, simulator: Record<string, unknown>): string {
  const config = readJson<{ data: { simulator?: Record<string, unknown> } }>(
    join(import.meta.dirname, '..', '..', 'examples', 'quickstart-generation.l3m.json'),
  );
  config.data.simulator = { ...config.data.simulator, ...simulator };
  const path = join(workspace, 'generation.l3m.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

for (const task of ['regression', 'generation'] as const)
  test(`cancel while the dataset is simulated (${task}): the run ends cancelled at once, resumable, nothing cached`, async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
    const cacheDir = join(workspace, 'cache');
    const previous = process.env.L3M_CACHE_DIR;
    process.env.L3M_CACHE_DIR = cacheDir;
    try {
      // 40 cones of the default preset would take minutes on two cores.
      const simulator = { preset: 'default', count: 40, seed: 9 };
      const configPath =
        task === 'regression'
          ? writeTinyWorkspace(workspace, { data: { source: 'simulator', simulator } })
          : writeGenerationWorkspace(workspace, simulator);
      const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
      const controller = new AbortController();
      const started = { at: 0 };
      const outcome = await runTraining({
        runDir,
        signal: controller.signal,
        events: events((message) => {
          if (message.startsWith('Simulating 40 lightcones')) {
            started.at = performance.now();
            controller.abort();
          }
        }),
      });
      assert.ok(started.at > 0, 'the dataset was being simulated');
      assert.equal(outcome, 'cancelled');
      const record = readJson<RunRecord>(join(runDir, 'run.json'));
      assert.equal(record.status, 'cancelled');
      assert.ok(record.error, JSON.stringify(record));
      assert.match(record.error.message, /resume/);
      assert.deepEqual(readdirSync(join(cacheDir, 'datasets')), [], 'neither a dataset nor a temporary folder');
    } finally {
      if (previous === undefined) delete process.env.L3M_CACHE_DIR;
      else process.env.L3M_CACHE_DIR = previous;
      rmSync(workspace, { recursive: true, force: true });
    }
  });

test('L3M_BACKEND wins over runtime.backend and run.json records what was asked and by whom', async () => {
  assert.deepEqual(backendRequestOf('wasm', undefined), { backend: 'wasm', source: 'runtime.backend' });
  assert.deepEqual(backendRequestOf('wasm', ''), { backend: 'wasm', source: 'runtime.backend' });
  assert.deepEqual(backendRequestOf('auto', 'cpu'), { backend: 'cpu', source: 'L3M_BACKEND' });
  assert.throws(
    () => backendRequestOf('auto', 'tpu'),
    /L3M_BACKEND is "tpu", which is not a backend; use one of auto, cuda/,
  );

  const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
  const previous = process.env.L3M_BACKEND;
  process.env.L3M_BACKEND = 'cpu';
  try {
    const configPath = writeTinyWorkspace(workspace, {
      runtime: { backend: 'wasm' },
      training: { unit: 'steps', steps: 4, checkpoint_every: 4, schedule: { warmup: 1, decay: 2 } },
      evaluation: { every: 4 },
    });
    const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
    assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events: events() }), 'completed');
    const device = readJson<RunRecord>(join(runDir, 'run.json')).device;
    assert.equal(device?.backend, 'cpu');
    assert.equal(device?.requested, 'cpu');
    assert.equal(device?.requestedBy, 'L3M_BACKEND');
  } finally {
    if (previous === undefined) delete process.env.L3M_BACKEND;
    else process.env.L3M_BACKEND = previous;
    rmSync(workspace, { recursive: true, force: true });
  }
});
