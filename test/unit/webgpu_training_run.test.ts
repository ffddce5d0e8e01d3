// Whole runs on the webgpu backend, as `l3m train`, `l3m resume`, `l3m evaluate` and `l3m sample` run them: a
// tiny run of each task trains, checkpoints, evaluates and (generation) samples; the same run cancelled after a
// checkpoint and resumed ends with checkpoints and metrics equal to the bit to the uninterrupted run's; and
// `l3m evaluate` afterwards writes the evaluation training wrote.
//
// Without a GPU this runs on Mesa's software adapter (llvmpipe through Dawn's OpenGL ES backend), which
// runtime.allow_software_gpu allows. Where no adapter exists the tests skip with the probe's reason, except in
// CI, which installs Mesa and where a missing adapter fails them.
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../sidecar/runtime/backends';
import { errorMessage } from '../../sidecar/protocol/error_message';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import { evaluateRun } from '../../sidecar/jobs/evaluate_job';
import { sampleRun } from '../../sidecar/jobs/sample_job';
import { parseMetricsJsonl, type MetricRecord, type RunRecord } from '../../sidecar/protocol/run_folder';
import { loadCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import type { CheckpointMetadata } from '../../sidecar/checkpoint/checkpoint_metadata';
import { readJson } from '../read_json';
import { tinyGenerationData, tinyGenerationModel, writeTinyWorkspace } from '../integration/train_fixture';

let unavailable: string | null = null;

before(async () => {
  try {
    await selectBackend('webgpu', { allowSoftwareGpu: true });
  } catch (error) {
    unavailable = errorMessage(error);
    if (process.env.CI === 'true')
      throw new Error(
        `CI installs Mesa (libegl1 libegl-mesa0 libgl1-mesa-dri), so WebGPU must run here: ${unavailable}`,
        { cause: error },
      );
  }
  await tf.setBackend('cpu');
});

const runtime = { backend: 'webgpu', allow_software_gpu: true };
const schedule = { steps: 4, checkpoint_every: 2, schedule: { warmup: 1, decay: 2 } };

const configs: Record<'regression' | 'generation', Record<string, Record<string, unknown>>> = {
  regression: {
    training: schedule,
    evaluation: { every: 2, regression_samples: 20, batch_size: 8 },
    runtime,
  },
  generation: {
    ...(tinyGenerationModel() as Record<string, Record<string, unknown>>),
    data: tinyGenerationData(),
    training: schedule,
    evaluation: {
      every: 2,
      batch_size: 4,
      next_patch_lightcones: 1,
      generated_lightcones: 1,
      generation_context_slices: 2,
      generation_slices: 1,
    },
    runtime,
  },
};

function events(onMetrics: (records: MetricRecord[]) => void = () => undefined): TrainingEvents {
  return { progress: () => undefined, metrics: onMetrics, log: () => undefined };
}

/** Metric records without the fields that measure time. */
function records(runDir: string): MetricRecord[] {
  const { records: all, problems } = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(problems, []);
  return all.map(({ wall_time: _wall, steps_per_s: _speed, ...rest }) => rest as MetricRecord);
}

/** The sha256 of each data file of a checkpoint, as its manifest records them. */
function checkpointHashes(runDir: string, name: string): string[] {
  const manifest = readJson<CheckpointMetadata>(join(runDir, 'checkpoints', `${name}.json`));
  return (manifest.contents ?? []).map((c) => c.sha256);
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

for (const task of ['regression', 'generation'] as const) {
  test(`${task} on webgpu: trains, checkpoints, resumes to the bit, evaluates${task === 'generation' ? ' and samples' : ''}`, async (t: TestContext) => {
    if (unavailable !== null) {
      t.skip(`no WebGPU adapter, not even a software one: ${unavailable}`);
      return;
    }
    const workspace = mkdtempSync(join(tmpdir(), `l3m-webgpu-${task}-`));
    try {
      const configPath = writeTinyWorkspace(workspace, configs[task]);
      // The workspace helper writes a regression config; the task is switched in place.
      writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), task }, null, 2));

      const straight = (await prepareRun(configPath, join(workspace, 'runs'))).runDir;
      assert.equal(
        await runTraining({ runDir: straight, signal: new AbortController().signal, events: events() }),
        'completed',
      );
      const record = readJson<RunRecord>(join(straight, 'run.json'));
      assert.equal(record.status, 'completed');
      assert.equal(record.device?.backend, 'webgpu');
      assert.equal(record.device?.workers, 1, 'webgpu trains on one worker, whatever runtime.threads says');
      const trained = records(straight);
      assert.deepEqual(
        trained.filter((r) => r.split === 'train').map((r) => r.step),
        [1, 2, 3, 4],
      );
      for (const r of trained.filter((r) => r.split === 'train'))
        assert.ok(
          Number.isFinite(r.loss) && r.loss !== 0,
          `step ${r.step}: a real loss, not a failed buffer's zero (${r.loss})`,
        );
      assert.ok(
        trained.some((r) => r.split === 'test'),
        'the test evaluation after training',
      );

      // Cancelled once the step-2 checkpoint is due, then resumed from it in a new session.
      const interrupted = (await prepareRun(configPath, join(workspace, 'runs'))).runDir;
      const controller = new AbortController();
      const cancelAtTwo = events((written) => {
        if (written.some((r) => r.split === 'train' && r.step === 2)) controller.abort();
      });
      assert.equal(
        await runTraining({ runDir: interrupted, signal: controller.signal, events: cancelAtTwo }),
        'cancelled',
      );
      assert.equal(loadCheckpoint(join(interrupted, 'checkpoints'), 'step-00000002').metadata.step, 2);
      assert.equal(
        await runTraining({ runDir: interrupted, signal: new AbortController().signal, events: events() }),
        'completed',
      );
      assert.deepEqual(
        checkpointHashes(interrupted, 'step-00000004'),
        checkpointHashes(straight, 'step-00000004'),
        'the resumed run ends with the weights and optimizer state of the uninterrupted one, to the bit',
      );
      assert.deepEqual(records(interrupted), trained, 'and with the same metrics');

      // l3m evaluate re-runs the test evaluation on the best checkpoint and writes what training wrote.
      const file = task === 'regression' ? 'regression.json' : 'next_patch.json';
      const afterTraining = sha256(join(straight, 'eval', file));
      const { resultFile } = await evaluateRun(straight, new AbortController().signal);
      assert.equal(resultFile, join(straight, 'eval', file));
      assert.equal(sha256(resultFile), afterTraining);

      if (task === 'generation') {
        const { entry } = await sampleRun(
          { runDir: straight, lightcone: 0, contextSlices: 2, slices: 1, seed: 4 },
          new AbortController().signal,
        );
        const generated = join(straight, 'samples', entry.generated);
        assert.ok(existsSync(generated));
        const again = await sampleRun(
          { runDir: interrupted, lightcone: 0, contextSlices: 2, slices: 1, seed: 4 },
          new AbortController().signal,
        );
        assert.equal(
          sha256(join(interrupted, 'samples', again.entry.generated)),
          sha256(generated),
          'the same checkpoint and seed sample the same slice',
        );
      }
    } finally {
      await tf.setBackend('cpu');
      rmSync(workspace, { recursive: true, force: true });
    }
  });
}
