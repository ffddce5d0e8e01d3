// Data-parallel training (sidecar/train/data_parallel, sidecar/jobs/training_workers.ts): the shards and the
// worker count; the pool's gradients against one thread's for both tasks, with the product's own worker
// entry; a worker that throws fails the step with its error; and whole runs on two workers: reproducible to
// the bit, close to a one-worker run, and failing with a worker's error rather than hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import { drawCfmNoise } from '../../sidecar/tasks/generation/cfm_loss';
import { selectRuntime } from '../../sidecar/jobs/select_runtime';
import { startTrainingWorkers } from '../../sidecar/jobs/training_workers';
import { readRunConfig } from '../../sidecar/runs/run_access';
import { taskDefinition } from '../../sidecar/tasks/registry';
import { AdamOptimizer } from '../../sidecar/train/adam_optimizer';
import { shardsOf } from '../../sidecar/train/data_parallel/shards';
import { workerCountFor } from '../../sidecar/train/data_parallel/worker_count';
import { phaseGradients, type MicroBatch, type PhaseGradients } from '../../sidecar/train/phase_gradients';
import { opSeed } from '../../sidecar/train/seeded_random';
import { parseMetricsJsonl, parseRunRecord } from '../../sidecar/protocol/run_folder';
import { tinyGenerationData, tinyGenerationModel, writeTinyWorkspace } from '../integration/train_fixture';

test('a micro-batch is shared in contiguous shards that differ by at most one row, the first ones larger', () => {
  const check = (batch: number, workers: number, sizes: number[]) =>
    assert.deepEqual(
      shardsOf(batch, workers).map((s) => [s.start, s.size, s.of]),
      sizes.map((size, i) => [sizes.slice(0, i).reduce((a, b) => a + b, 0), size, batch]),
      `${batch} rows on ${workers}`,
    );
  check(4, 1, [4]);
  check(4, 2, [2, 2]);
  check(7, 3, [3, 2, 2]);
  check(5, 5, [1, 1, 1, 1, 1]);
  assert.throws(() => shardsOf(3, 4), /4 workers cannot share a batch of 3 rows; use 1 to 3 workers/);
});

test('the worker count: L3M_THREADS over runtime.threads, 0 = every core, clamped with a warning, one on self-threaded backends', () => {
  const count = (configThreads: number, environment: string | undefined, backend = 'wasm', batchSize = 64) =>
    workerCountFor({ configThreads, environment, cores: 8, backend, batchSize });
  assert.equal(count(0, undefined).workers, 8);
  assert.equal(count(3, undefined).workers, 3);
  assert.deepEqual([count(3, '2').workers, count(3, '2').source], [2, 'L3M_THREADS']);
  assert.deepEqual([count(3, '').workers, count(3, '').source], [3, 'runtime.threads']);
  assert.equal(count(3, '0').workers, 8);
  const clamped = count(64, undefined);
  assert.equal(clamped.workers, 8);
  assert.deepEqual(
    clamped.notes.map((n) => n.level),
    ['warn'],
  );
  assert.match(
    clamped.notes[0].message,
    /runtime\.threads asks for 64 threads but this machine has 8 cores; training on 8/,
  );
  assert.equal(count(0, undefined, 'cpu').workers, 8);
  for (const backend of ['cpu-native', 'cuda', 'webgpu']) {
    const own = count(0, undefined, backend);
    assert.equal(own.workers, 1, backend);
    assert.match(own.notes[0].message, new RegExp(`The ${backend} backend runs its own threads`));
  }
  assert.equal(count(0, undefined, 'wasm', 3).workers, 3);
  assert.throws(
    () => count(0, 'all'),
    /L3M_THREADS is "all", which is not a thread count; set it to a whole number ≥ 0/,
  );
  assert.throws(() => count(0, '-1'), /L3M_THREADS is "-1"/);
});

test("a shard's flow-matching draws are the whole batch's draws for its rows", async () => {
  await selectRuntime('cpu', '');
  const whole = drawCfmNoise(5, 3, 11);
  const rows = drawCfmNoise(2, 3, 11, 3);
  assert.deepEqual(Array.from(rows.noise.dataSync()), Array.from(whole.noise.dataSync()).slice(9, 15));
  assert.deepEqual(Array.from(rows.tau.dataSync()), Array.from(whole.tau.dataSync()).slice(3, 5));
  tf.dispose([whole.noise, whole.tau, rows.noise, rows.tau]);
});

const quiet = (log: TrainingEvents['log'] = () => undefined): TrainingEvents => ({
  progress: () => undefined,
  metrics: () => undefined,
  log,
});

const generationOverrides = {
  ...(tinyGenerationModel() as Record<string, Record<string, unknown>>),
  // Every augmentation on: their draws are what a shared step must give each row as one worker would.
  data: { ...tinyGenerationData(), augmentation: { rotations: true, reflections: true, translations: true } },
  evaluation: { every: 2, batch_size: 4, next_patch_mse: false, generated_lightcones: 0 },
};

/** A prepared run of the tiny workspace and its task built as the training job builds it, on the cpu backend. */
async function builtTask(overrides: Record<string, Record<string, unknown>>, task: 'regression' | 'generation') {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-dp-'));
  const configPath = writeTinyWorkspace(workspace, { ...overrides, runtime: { backend: 'cpu' } });
  // The workspace helper writes a regression config; the task is switched in place.
  writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), task }, null, 2));
  const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
  await selectRuntime('cpu', '');
  const resolved = await readRunConfig(runDir);
  const data = await taskDefinition(resolved.task, runDir).loadData(resolved, { configDir: workspace });
  const model = data.buildModel(resolved, { configPath, runDir });
  return { workspace, runDir, configPath, model, task: model.training };
}

function microBatches(step: number, batch: number, accumulation: number, trainSize: number): MicroBatch[] {
  return Array.from({ length: accumulation }, (_, micro) => ({
    indices: Int32Array.from({ length: batch }, (_, i) => (step * 7 + micro * batch + i * 3) % trainSize),
    context: { step, seed: opSeed(3, step, micro) },
  }));
}

function flat(result: PhaseGradients): { losses: number[]; grads: Record<string, Float32Array> } {
  return {
    losses: result.losses,
    grads: Object.fromEntries(Object.entries(result.grads).map(([name, g]) => [name, g.dataSync() as Float32Array])),
  };
}

function relativeDifference(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), 'the same variables have gradients');
  let difference = 0;
  let norm = 0;
  for (const name of Object.keys(a)) {
    for (let i = 0; i < a[name].length; i++) {
      difference += (a[name][i] - b[name][i]) ** 2;
      norm += a[name][i] ** 2;
    }
  }
  return Math.sqrt(difference / norm);
}

for (const task of ['regression', 'generation'] as const) {
  test(`${task}: two workers' gradients equal one thread's up to rounding, repeat to the bit, and follow weight updates`, async () => {
    const built = await builtTask(task === 'generation' ? generationOverrides : {}, task);
    const phase = built.task.phases[0];
    const optimizer = new AdamOptimizer(phase.groups, { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    const variables = optimizer.updatedVariables();
    const pool = await startTrainingWorkers(
      2,
      { runDir: built.runDir, configDir: built.workspace, configPath: built.configPath, backend: 'cpu' },
      built.task,
      4,
    );
    assert.ok(pool);
    try {
      for (const step of [0, 1]) {
        if (step === 1) {
          // The training thread's weights move (as an optimizer step moves them); the pool must send them.
          for (const v of variables)
            v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', 9))));
          pool.updated(variables);
        }
        const micro = microBatches(step, 4, 2, built.task.trainSize);
        const one = flat(await phaseGradients(built.task, phase, variables, micro));
        const two = flat(await pool.phaseGradients(0, variables, micro));
        const again = flat(await pool.phaseGradients(0, variables, micro));
        assert.deepEqual(again, two, 'the same step on the same two workers repeats to the bit');
        // Float32 sums in another order: a relative 1e-5 is ~100 ulps; a wrong share, shard or noise is ~1.
        for (let m = 0; m < one.losses.length; m++)
          assert.ok(Math.abs(two.losses[m] - one.losses[m]) <= 1e-5 * Math.abs(one.losses[m]), `loss ${m}`);
        const difference = relativeDifference(one.grads, two.grads);
        assert.ok(difference < 1e-5, `step ${step}: gradients differ by ${difference} (relative L2)`);
      }
    } finally {
      await pool.close();
      optimizer.dispose();
      built.model.dispose();
      rmSync(built.workspace, { recursive: true, force: true });
    }
  });
}

test('a worker that throws fails the step with its error, and the pool stays failed', async () => {
  const built = await builtTask({}, 'regression');
  const phase = built.task.phases[0];
  const optimizer = new AdamOptimizer(phase.groups, { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const pool = await startTrainingWorkers(
    2,
    { runDir: built.runDir, configDir: built.workspace, configPath: built.configPath, backend: 'cpu' },
    built.task,
    4,
  );
  assert.ok(pool);
  try {
    // Rows 2 and 3 go to worker 1, whose task refuses a row outside the split; worker 0's rows are fine.
    const bad: MicroBatch[] = [{ indices: Int32Array.from([0, 1, 2, 9999]), context: { step: 0, seed: 1 } }];
    const failure =
      /Data-parallel worker 1 of 2 failed: Error: Regression batch: row 9999 is outside the split's \d+ lightcones.*set runtime\.threads \(or L3M_THREADS\) to 1/s;
    await assert.rejects(pool.phaseGradients(0, optimizer.updatedVariables(), bad), failure);
    const good = microBatches(0, 4, 1, built.task.trainSize);
    await assert.rejects(pool.phaseGradients(0, optimizer.updatedVariables(), good), failure);
  } finally {
    await pool.close();
    optimizer.dispose();
    built.model.dispose();
    rmSync(built.workspace, { recursive: true, force: true });
  }
});

const twoCores = availableParallelism() >= 2;
const needsTwoCores = twoCores ? {} : { skip: 'runtime.threads is clamped to the cores, and this machine has one' };

/** A whole run of the tiny regression workspace with `threads`; its records without the timings, and run.json. */
async function wholeRun(threads: number) {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-dp-run-'));
  try {
    const configPath = writeTinyWorkspace(workspace, { runtime: { backend: 'cpu', threads } });
    const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
    assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events: quiet() }), 'completed');
    const records = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records.map(
      ({ wall_time: _wall, steps_per_s: _speed, ...rest }) => rest,
    );
    const parsed = parseRunRecord(readFileSync(join(runDir, 'run.json'), 'utf8'));
    assert.ok('record' in parsed);
    // A checkpoint's files are named by their content hashes: equal names, equal weights and optimizer state.
    const { weightsFile, optimizerFile } = JSON.parse(
      readFileSync(join(runDir, 'checkpoints', 'best.json'), 'utf8'),
    ) as {
      weightsFile: string;
      optimizerFile: string;
    };
    const best = { weightsFile, optimizerFile };
    return { records, record: parsed.record, best };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

test(
  'a run on two workers repeats to the bit, records its workers, and stays close to a one-worker run',
  needsTwoCores,
  async () => {
    const [first, second, single] = [await wholeRun(2), await wholeRun(2), await wholeRun(1)];
    assert.equal(first.record.device?.workers, 2);
    assert.equal(single.record.device?.workers, 1);
    assert.deepEqual(second.records, first.records, 'every metric of the second two-worker run');
    assert.deepEqual(second.best, first.best, 'the best checkpoint');
    // Over 40 steps the rounding of the two-worker sums moves the validation loss by about 1e-8 relative; a
    // wrong share of the rows or different noise would move it by percents.
    const val = (run: Awaited<ReturnType<typeof wholeRun>>) =>
      run.records.filter((r) => r.split === 'val').map((r) => r.loss as number);
    const [two, one] = [val(first), val(single)];
    assert.equal(two.length, one.length);
    two.forEach((loss, i) =>
      assert.ok(Math.abs(loss - one[i]) <= 1e-4 * Math.abs(one[i]), `val ${i}: ${loss} vs ${one[i]}`),
    );
  },
);

test(
  'threads beyond the cores are clamped with a warning, and a worker that cannot load the data fails the run with its error',
  needsTwoCores,
  async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'l3m-dp-crash-'));
    try {
      const configPath = writeTinyWorkspace(workspace, { runtime: { backend: 'cpu', threads: 1024 } });
      const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
      const warnings: string[] = [];
      const events = quiet((level, message) => {
        if (level === 'warn') warnings.push(message);
        // The training thread has read the data; the workers, which read it next, find it gone.
        if (message.startsWith('Data:')) rmSync(join(workspace, 'data'), { recursive: true, force: true });
      });
      const failure = /Data-parallel worker 1 of \d+ failed: could not build its task: .*data/;
      await assert.rejects(runTraining({ runDir, signal: new AbortController().signal, events }), failure);
      assert.ok(
        warnings.some((w) =>
          w.includes(`runtime.threads asks for 1024 threads but this machine has ${availableParallelism()} cores`),
        ),
        `warnings: ${warnings.join(' | ')}`,
      );
      const parsed = parseRunRecord(readFileSync(join(runDir, 'run.json'), 'utf8'));
      assert.ok('record' in parsed);
      assert.equal(parsed.record.status, 'failed');
      assert.match(parsed.record.error?.message ?? '', failure);
      assert.equal(parsed.record.device?.workers, availableParallelism());
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  },
);
