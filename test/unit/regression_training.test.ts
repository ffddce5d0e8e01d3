// The engine on the regression task with a tiny random backbone and synthetic data the test makes:
// interleaved phases touch only their groups, a short run learns (loss falls, NLL below the uniform
// prior's), and resume from a cancelled run continues bit for bit like an uninterrupted run.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { RegressionModel } from '../../sidecar/tasks/regression/regression_model';
import {
  RegressionTask,
  type RegressionData,
  type RegressionSplit,
} from '../../sidecar/tasks/regression/regression_task';
import { buildPrompt } from '../../sidecar/tasks/regression/prompt_template';
import { NonFiniteLossError, runLoop, type LoopSettings, type LoopIO } from '../../sidecar/train/training_loop';
import { mulberry32 } from '../../sidecar/train/seeded_random';
import { groupVariables } from '../../sidecar/train/parameter_group';
import type { MetricRecord } from '../../sidecar/protocol/run_folder';

before(async () => {
  await tf.setBackend('cpu');
});

const tokenCount = 8;

/** Tokens that depend smoothly on the six parameters, so a small model can learn them. */
function syntheticSplit(count: number, seed: number, prefix: string): RegressionSplit {
  const random = mulberry32(seed);
  const tokens = new Float32Array(count * tokenCount);
  const targets = new Float32Array(count * 6);
  for (let i = 0; i < count; i++) {
    const y = Array.from({ length: 6 }, () => random());
    targets.set(y, i * 6);
    for (let t = 0; t < tokenCount; t++) {
      tokens[i * tokenCount + t] =
        2 * (y[t % 6] - 0.5) + 0.5 * Math.sin(3 * y[(t + 1) % 6] + t) + 0.05 * (random() - 0.5);
    }
  }
  return { ids: Array.from({ length: count }, (_, i) => `${prefix}-${i}`), tokens, targets };
}

function makeData(): RegressionData {
  return {
    tokenCount,
    train: syntheticSplit(48, 1, 'train'),
    validation: syntheticSplit(16, 2, 'val'),
    test: syntheticSplit(16, 3, 'test'),
  };
}

function makeTask(options: {
  interleaved: boolean;
  finetune?: 'frozen' | 'scratch';
  dropout?: number;
}): RegressionTask {
  const config = qwen2Config({
    vocabSize: 8,
    hiddenSize: 16,
    numHiddenLayers: 1,
    numAttentionHeads: 2,
    numKeyValueHeads: 1,
    intermediateSize: 32,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    causal: false,
    attentionDropout: options.dropout ?? 0,
  });
  const backbone = Qwen2Model.random(config, 5);
  const model = new RegressionModel(backbone, {
    prompt: buildPrompt({ template: 'minimal', systemTokens: 0, lightconeTokens: 0, chatIds: null }),
    inputConnector: { kind: 'linear', depth: 1, width: 8 },
    headDepth: 0,
    headWidth: 8,
    covariance: 'full',
    finetune: options.finetune ?? 'frozen',
    seed: 3,
  });
  return new RegressionTask(model, makeData(), {
    interleaved: options.interleaved,
    weightDecay: 0,
    evalBatchSize: 8,
    lrRatios: { lightcone_connector: 1, special_tokens: 1, head: 1, backbone: 1 },
  });
}

function settings(totalSteps: number, overrides: Partial<LoopSettings> = {}): LoopSettings {
  return {
    lr: 0.01,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    batchSize: 8,
    accumulation: 1,
    stepsPerEpoch: 6,
    totalSteps,
    schedule:
      totalSteps >= 4 ? { warmup: 2, stable: totalSteps - 4, decay: 2 } : { warmup: 0, stable: totalSteps, decay: 0 },
    maxGradNorm: 30,
    seed: 11,
    multiplicity: 1,
    validateEvery: 6,
    checkpointEvery: 4,
    keepCheckpoints: 2,
    earlyStopping: { enabled: false, patience: 3, minDelta: 0 },
    logEvery: 1,
    ...overrides,
  };
}

function io(
  dir: string,
  records: MetricRecord[],
  controller = new AbortController(),
  onRecord?: (r: MetricRecord) => void,
): LoopIO {
  return {
    signal: controller.signal,
    checkpointDir: dir,
    backboneConfig: qwen2Config({ hiddenSize: 16, numAttentionHeads: 2, numKeyValueHeads: 1 }),
    metrics: (batch) => {
      for (const r of batch) {
        records.push(r);
        onRecord?.(r);
      }
      return Promise.resolve();
    },
    progress: () => undefined,
    log: () => undefined,
  };
}

const snapshot = (task: RegressionTask) =>
  task.namedWeights().map(([key, v]) => [key, Array.from(v.dataSync())] as const);

test('interleaved phases: the connector phase never touches the head, the head phase only the head', () => {
  const task = makeTask({ interleaved: true });
  const [connector, head] = task.phases;
  assert.deepEqual(
    connector.groups.map((g) => g.name),
    ['lightcone_connector', 'special_tokens'],
  );
  assert.deepEqual(
    head.groups.map((g) => g.name),
    ['head'],
  );
  const headVars = new Set(groupVariables(head.groups));
  const connectorVars = groupVariables(connector.groups);
  for (const v of connectorVars) assert.ok(!headVars.has(v));
  // Gradients of the head phase exist for the head only; the backbone is frozen and gets none.
  const batch = task.batch(Int32Array.from([0, 1, 2, 3]));
  const headList = [...headVars];
  const { value, grads } = tf.variableGrads(() => head.loss(batch, { step: 0, seed: 1 }), headList);
  assert.deepEqual(Object.keys(grads).sort(), headList.map((v) => v.name).sort());
  tf.dispose([value, ...Object.values(grads)]);
  task.disposeBatch(batch);
  task.model.dispose();
});

test('one interleaved step changes only the trained groups and leaves the frozen backbone alone', async () => {
  const task = makeTask({ interleaved: true });
  const dir = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  const backboneBefore = task.model.backbone.namedWeights().map(([, v]) => Array.from(v.dataSync()));
  const before = snapshot(task);
  await runLoop(task, settings(1, { validateEvery: 0, checkpointEvery: 0 }), io(dir, []));
  const after = snapshot(task);
  for (let i = 0; i < before.length; i++)
    assert.notDeepEqual(after[i][1], before[i][1], `${before[i][0]} should have changed`);
  task.model.backbone
    .namedWeights()
    .forEach(([key, v], i) => assert.deepEqual(Array.from(v.dataSync()), backboneBefore[i], `${key} is frozen`));
  task.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('a tiny run learns: training loss falls and the validation NLL beats the uniform prior (0 nats)', async () => {
  const task = makeTask({ interleaved: false, finetune: 'scratch' });
  const dir = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  const records: MetricRecord[] = [];
  const result = await runLoop(
    task,
    settings(150, { lr: 0.02, validateEvery: 50, checkpointEvery: 50, schedule: { warmup: 5, stable: 95, decay: 50 } }),
    io(dir, records),
  );
  assert.equal(result.outcome, 'completed');
  const train = records.filter((r) => r.split === 'train').map((r) => r.loss as number);
  const firstLosses = train.slice(0, 6).reduce((a, b) => a + b) / 6;
  const lastLosses = train.slice(-6).reduce((a, b) => a + b) / 6;
  assert.ok(lastLosses < firstLosses - 0.1, `loss ${firstLosses} → ${lastLosses}`);
  const val = records.filter((r) => r.split === 'val');
  if (process.env.L3M_DEBUG) console.log(JSON.stringify(val), train.join(' '));
  assert.ok(val.length >= 2);
  assert.ok(
    (val[val.length - 1].nll as number) < 0,
    `validation NLL ${val[val.length - 1].nll} should be below the uniform prior's 0`,
  );
  task.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('resume: k steps, cancel, resume k more equals 2k uninterrupted steps bit for bit (with dropout)', async () => {
  const total = 10;
  const k = 5;
  const straight = makeTask({ interleaved: true, dropout: 0.1 });
  const dirA = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  const recordsA: MetricRecord[] = [];
  await runLoop(straight, settings(total), io(dirA, recordsA));

  const dirB = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  const first = makeTask({ interleaved: true, dropout: 0.1 });
  const controller = new AbortController();
  const recordsB: MetricRecord[] = [];
  const cancelled = await runLoop(
    first,
    settings(total),
    io(dirB, recordsB, controller, (r) => {
      if (r.split === 'train' && r.step === k) controller.abort();
    }),
  );
  assert.equal(cancelled.outcome, 'cancelled');
  assert.equal(cancelled.state.step, k);
  first.model.dispose();

  const second = makeTask({ interleaved: true, dropout: 0.1 });
  const resumed = await runLoop(second, settings(total), io(dirB, recordsB));
  assert.equal(resumed.outcome, 'completed');
  assert.deepEqual(snapshot(second), snapshot(straight));
  const losses = (records: MetricRecord[]) => records.filter((r) => r.split === 'train').map((r) => [r.step, r.loss]);
  assert.deepEqual(losses(recordsB), losses(recordsA));
  straight.model.dispose();
  second.model.dispose();
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

test('a NaN loss stops the run naming the step and the last finite loss, before the weights change', async () => {
  const task = makeTask({ interleaved: true });
  // One training target is NaN: the loss of the first batch holding it is NaN.
  task.data.train.targets[6 * 17] = NaN;
  const dir = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  let before: ReturnType<typeof snapshot> = [];
  const records: MetricRecord[] = [];
  await assert.rejects(
    runLoop(
      task,
      settings(30),
      io(dir, records, new AbortController(), () => {
        before = snapshot(task);
      }),
    ),
    (error: unknown) => {
      assert.ok(error instanceof NonFiniteLossError);
      const trainRecords = records.filter((r) => r.split === 'train');
      assert.equal(error.step, trainRecords.length + 1);
      assert.equal(error.lastFiniteLoss, trainRecords.length > 0 ? trainRecords[trainRecords.length - 1].loss : null);
      assert.match(
        error.message,
        new RegExp(`Loss became NaN at step ${error.step} \\(phase "connector"\\); the last finite loss was`),
      );
      return true;
    },
  );
  if (before.length > 0) assert.deepEqual(snapshot(task), before);
  task.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('early stopping: no improvement for `patience` validations ends the run', async () => {
  const task = makeTask({ interleaved: true });
  const dir = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  const records: MetricRecord[] = [];
  // With a zero learning rate the validation loss never improves after the first validation.
  const result = await runLoop(
    task,
    settings(30, { lr: 0, validateEvery: 3, earlyStopping: { enabled: true, patience: 2, minDelta: 0 } }),
    io(dir, records),
  );
  assert.equal(result.outcome, 'early_stopped');
  assert.equal(result.state.step, 9);
  assert.equal(result.state.bestStep, 3);
  assert.equal(records.filter((r) => r.split === 'val').length, 3);
  task.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('gradient accumulation over 2×4 matches one batch of 8', async () => {
  const whole = makeTask({ interleaved: false, finetune: 'scratch' });
  const split = makeTask({ interleaved: false, finetune: 'scratch' });
  const dirA = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  const dirB = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  const base = { validateEvery: 0, checkpointEvery: 0, schedule: { warmup: 0, stable: 1, decay: 0 } };
  await runLoop(whole, settings(1, { ...base, batchSize: 8, accumulation: 1 }), io(dirA, []));
  await runLoop(split, settings(1, { ...base, batchSize: 4, accumulation: 2 }), io(dirB, []));
  const a = snapshot(whole);
  const b = snapshot(split);
  for (let i = 0; i < a.length; i++) {
    for (let k = 0; k < a[i][1].length; k++) assert.ok(Math.abs(a[i][1][k] - b[i][1][k]) < 1e-5, `${a[i][0]}[${k}]`);
  }
  whole.model.dispose();
  split.model.dispose();
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

test('no tensors leak across training steps', async () => {
  const task = makeTask({ interleaved: true });
  const dir = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  await runLoop(task, settings(1, { validateEvery: 0, checkpointEvery: 0 }), io(dir, []));
  const before = tf.memory().numTensors;
  rmSync(dir, { recursive: true, force: true });
  const dir2 = mkdtempSync(join(tmpdir(), 'l3m-train-'));
  await runLoop(task, settings(3, { validateEvery: 2, checkpointEvery: 0 }), io(dir2, []));
  assert.equal(tf.memory().numTensors, before);
  task.model.dispose();
  rmSync(dir2, { recursive: true, force: true });
});
