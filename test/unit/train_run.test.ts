// runTraining / prepareRun on a tiny workspace: a run completes with metrics, checkpoints and the
// evaluation; a config with errors never creates a run; an unwritable checkpoint fails the run with the reason and leaves the earlier
// checkpoints intact; cancel leaves a resumable run.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import { ConfigInvalidError } from '../../schemas/load_config';
import { loadCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import {
  parseMetricsJsonl,
  type MetricRecord,
  type RegressionEvaluationFile,
  type RunRecord,
} from '../../sidecar/protocol/run_folder';
import type { ResolvedExperimentConfig } from '../../schemas/generated/experiment_config';
import { readJson } from '../read_json';
import { writeTinyWorkspace, tinyConfig, tinyTokenizerJson } from '../integration/train_fixture';

before(async () => {
  await tf.setBackend('cpu');
});

function quietEvents(records: MetricRecord[] = []): TrainingEvents & { logs: string[] } {
  const logs: string[] = [];
  return {
    logs,
    progress: () => undefined,
    metrics: (r) => records.push(...r),
    log: (level, message) => logs.push(`${level}: ${message}`),
  };
}

test('a run completes: run.json, metrics (train, val, test), checkpoints, eval/regression.json', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
  const configPath = writeTinyWorkspace(workspace);
  const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
  assert.equal(readJson<RunRecord>(join(runDir, 'run.json')).status, 'queued');
  assert.equal(readJson<ResolvedExperimentConfig>(join(runDir, 'config.json')).training.seed, 3);
  const events = quietEvents();
  assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events }), 'completed');
  const record = readJson<RunRecord>(join(runDir, 'run.json'));
  assert.equal(record.status, 'completed');
  assert.equal(record.device?.backend, 'cpu');
  const { records, problems } = parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(problems, []);
  assert.equal(records.filter((r) => r.split === 'train').length, 40);
  assert.equal(records.filter((r) => r.split === 'val').length, 2);
  const testRecord = records.find((r) => r.split === 'test')!;
  for (const key of ['nll', 'r2_omegaM', 'coverage68_zeta', 'coverage95_log10Tvir'])
    assert.equal(typeof testRecord[key], 'number', key);
  const evaluation = readJson<RegressionEvaluationFile>(join(runDir, 'eval', 'regression.json'));
  assert.equal(evaluation.parameters.length, 6);
  assert.equal(evaluation.parameters[0].bins.length, 10);
  assert.equal(
    evaluation.parameters[0].bins.reduce((s: number, b: { count: number }) => s + b.count, 0),
    evaluation.testLightcones,
  );
  const checkpoints = readdirSync(join(runDir, 'checkpoints'));
  assert.ok(checkpoints.includes('best.json'));
  assert.ok(checkpoints.includes('step-00000040.json'));
  // keep_checkpoints (default 2) step checkpoints remain besides best.
  assert.equal(checkpoints.filter((f) => /^step-\d+\.json$/.test(f)).length, 2);
  rmSync(workspace, { recursive: true, force: true });
});

test('a config with errors never creates a run and carries the diagnostics', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
  const configPath = writeTinyWorkspace(workspace, { training: { batch_size: 0 } });
  await assert.rejects(prepareRun(configPath, join(workspace, 'runs')), (error: unknown) => {
    assert.ok(error instanceof ConfigInvalidError);
    assert.ok(error.diagnostics.length > 0);
    assert.match(error.message, /tiny\.l3m\.json:\d+:\d+: error/);
    return true;
  });
  assert.equal(existsSync(join(workspace, 'runs', 'tiny')), false);
  rmSync(workspace, { recursive: true, force: true });
});

test('an unwritable checkpoint fails the run with the reason; earlier checkpoints stay loadable', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
  const configPath = writeTinyWorkspace(workspace, { training: { checkpoint_every: 10 } });
  const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
  // A non-empty folder where the step-20 metadata must go makes its rename fail (as a full disk
  // or a read-only folder would), whatever the user's privileges.
  const blocked = join(runDir, 'checkpoints', 'step-00000020.json');
  mkdirSync(blocked, { recursive: true });
  writeFileSync(join(blocked, 'occupied'), 'x');
  await assert.rejects(
    runTraining({ runDir, signal: new AbortController().signal, events: quietEvents() }),
    /Could not write checkpoint "step-00000020"/,
  );
  const record = readJson<RunRecord>(join(runDir, 'run.json'));
  assert.equal(record.status, 'failed');
  assert.ok(record.error, JSON.stringify(record));
  assert.match(record.error.message, /Earlier checkpoints are intact/);
  const earlier = loadCheckpoint(join(runDir, 'checkpoints'), 'step-00000010');
  assert.equal(earlier.metadata.step, 10);
  tf.dispose([...earlier.weights.values(), ...earlier.optimizerState.values()]);
  rmSync(workspace, { recursive: true, force: true });
});

test('cancel stops within a step and the run resumes to completion with the uninterrupted numbers', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
  const configPath = writeTinyWorkspace(workspace, { backbone: { attention_dropout: 0.1 } });
  const straight = await prepareRun(configPath, join(workspace, 'runs'));
  await runTraining({ runDir: straight.runDir, signal: new AbortController().signal, events: quietEvents() });

  const interrupted = await prepareRun(configPath, join(workspace, 'runs'));
  const controller = new AbortController();
  const seen: MetricRecord[] = [];
  const events = quietEvents();
  events.metrics = (records) => {
    seen.push(...records);
    if (records.some((r) => r.split === 'train' && r.step === 13)) controller.abort();
  };
  assert.equal(await runTraining({ runDir: interrupted.runDir, signal: controller.signal, events }), 'cancelled');
  const cancelled = readJson<RunRecord>(join(interrupted.runDir, 'run.json'));
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.progress?.step, 13);
  assert.equal(
    await runTraining({ runDir: interrupted.runDir, signal: new AbortController().signal, events: quietEvents() }),
    'completed',
  );
  const lossesOf = (runDir: string) =>
    parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records.map((r) => ({
      ...r,
      wall_time: 0,
      steps_per_s: 0,
    }));
  assert.deepEqual(lossesOf(interrupted.runDir), lossesOf(straight.runDir));
  rmSync(workspace, { recursive: true, force: true });
});

test('tinyConfig is a valid experiment config', () => {
  assert.equal(tinyConfig().task, 'regression');
});

test('a pretrained HF checkpoint with its tokenizer: chat_trainable template and LoRA train end to end', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
  const modelDir = join(workspace, 'models', 'tiny');
  mkdirSync(modelDir, { recursive: true });
  // The model helper's committed tiny Qwen2 checkpoint (vocab 40, hidden 32, 2 blocks) and a matching tokenizer.
  const fixture = join(__dirname, '..', 'reference', 'fixtures', 'tied_f32');
  for (const file of ['config.json', 'model.safetensors'])
    writeFileSync(join(modelDir, file), readFileSync(join(fixture, file)));
  writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson(['system', 'user', 'assistant'])));
  const configPath = writeTinyWorkspace(workspace, {
    backbone: {
      source: 'pretrained',
      path: 'models/tiny',
      finetune: 'lora',
      lora: { rank: 2 },
      causal: true,
      architecture: undefined,
    },
    prompt: { template: 'chat_trainable', trainable_system_tokens: 2, trainable_lightcone_tokens: 1 },
    training: { steps: 6, checkpoint_every: 3, schedule: { warmup: 1, decay: 2 } },
    evaluation: { every: 3 },
  });
  const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
  const events = quietEvents();
  assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events }), 'completed');
  assert.ok(
    events.logs.some((l) => /pretrained .*models\/tiny \(2 blocks, hidden 32\)/.test(l)),
    events.logs.join('\n'),
  );
  const checkpoint = loadCheckpoint(join(runDir, 'checkpoints'), 'step-00000006');
  const keys = [...checkpoint.weights.keys()];
  assert.ok(
    keys.some((k) => /lora/i.test(k)),
    keys.join(', '),
  );
  assert.ok(keys.includes('special_tokens.<|system-prompt-token|>1'));
  assert.ok(keys.includes('special_tokens.<|lightcone-token|>0'));
  // The chat pieces come from the tokenizer (frozen embedding rows), not trainable stand-ins.
  assert.ok(!keys.includes('special_tokens.<|im_start|>'));
  assert.equal(checkpoint.metadata.config.hiddenSize, 32);
  tf.dispose([...checkpoint.weights.values(), ...checkpoint.optimizerState.values()]);
  rmSync(workspace, { recursive: true, force: true });
});
