// Resuming a run that a crash interrupted: the metrics continue from the checkpoint's step (no step
// twice, wall_time never going back, the same records as an uninterrupted run), the temporary files the
// crash left are removed, and a checkpoint whose recorded state does not fit the run is refused with the
// difference, leaving the run folder as it was.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import { parseMetricsJsonl, type MetricRecord, type RunRecord } from '../../sidecar/protocol/run_folder';
import type { CheckpointMetadata } from '../../sidecar/checkpoint/checkpoint_metadata';
import { readJson } from '../read_json';
import { writeTinyWorkspace } from '../integration/train_fixture';

before(async () => {
  await tf.setBackend('cpu');
});

const quiet = (): TrainingEvents & { logs: string[] } => {
  const logs: string[] = [];
  return {
    logs,
    progress: () => undefined,
    metrics: () => undefined,
    log: (level, message) => logs.push(`${level}: ${message}`),
  };
};
const rawRecords = (runDir: string) => parseMetricsJsonl(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).records;

/** Trains `runDir` until the metrics of `step` are written, then fails the process's way: an exception out of the loop. */
async function crashAfterStep(runDir: string, step: number): Promise<void> {
  const events = quiet();
  events.metrics = (records) => {
    if (records.some((r) => r.split === 'train' && r.step === step))
      throw new Error(`simulated crash after step ${step}`);
  };
  await assert.rejects(runTraining({ runDir, signal: new AbortController().signal, events }), /simulated crash/);
}

test("a resumed run writes each step once, with the uninterrupted run's records and wall_time going forward", async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-resume-'));
  const configPath = writeTinyWorkspace(workspace, {
    training: { steps: 30, checkpoint_every: 10 },
    evaluation: { every: 10 },
  });
  const straight = await prepareRun(configPath, join(workspace, 'runs'));
  await runTraining({ runDir: straight.runDir, signal: new AbortController().signal, events: quiet() });

  const crashed = await prepareRun(configPath, join(workspace, 'runs'));
  await crashAfterStep(crashed.runDir, 13);
  assert.equal(
    await runTraining({ runDir: crashed.runDir, signal: new AbortController().signal, events: quiet() }),
    'completed',
  );
  const records = rawRecords(crashed.runDir);
  const keys = records.map((r) => `${r.split}@${r.step}`);
  assert.deepEqual(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    [],
    'no (split, step) is written twice',
  );
  const comparable = (list: MetricRecord[]) => list.map((r) => ({ ...r, wall_time: 0, steps_per_s: 0 }));
  assert.deepEqual(comparable(records), comparable(rawRecords(straight.runDir)));
  const train = records.filter((r) => r.split === 'train');
  for (let i = 1; i < train.length; i++)
    assert.ok(train[i].wall_time >= train[i - 1].wall_time, `wall_time goes back at step ${train[i].step}`);
  rmSync(workspace, { recursive: true, force: true });
});

test('a run killed after its last checkpoint, before it was marked completed, finishes without repeating the final validation', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-resume-'));
  const configPath = writeTinyWorkspace(workspace, {
    training: { steps: 20, checkpoint_every: 10 },
    evaluation: { every: 10 },
  });
  const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
  // The test evaluation's record comes after the last checkpoint: failing there stops the process in that window.
  const events = quiet();
  events.metrics = (records) => {
    if (records.some((r) => r.split === 'test')) throw new Error('simulated crash after the last checkpoint');
  };
  await assert.rejects(runTraining({ runDir, signal: new AbortController().signal, events }), /simulated crash/);
  assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events: quiet() }), 'completed');
  const keys = rawRecords(runDir).map((r) => `${r.split}@${r.step}`);
  assert.deepEqual(
    keys.filter((k) => !k.startsWith('train')),
    ['val@10', 'val@20', 'test@20'],
  );
  rmSync(workspace, { recursive: true, force: true });
});

test('resume removes the temporary files and orphaned checkpoint files a killed process left', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-resume-'));
  const cache = join(workspace, 'cache');
  const previousCache = process.env.L3M_CACHE_DIR;
  process.env.L3M_CACHE_DIR = cache;
  try {
    const configPath = writeTinyWorkspace(workspace, {
      training: { steps: 20, checkpoint_every: 10 },
      evaluation: { every: 10 },
    });
    const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
    await crashAfterStep(runDir, 12);
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout,
    );
    const leftovers = [
      join(runDir, `.tmp-run.json.${dead}.0a0b0c0d`),
      join(runDir, 'checkpoints', `.tmp-step-00000020.content.safetensors.${dead}.0a0b0c0d`),
      join(runDir, 'checkpoints', 'step-00000020.00112233aabbccdd.safetensors'),
    ];
    for (const path of leftovers) writeFileSync(path, 'left by a killed process');
    const abandonedDataset = join(cache, 'datasets', `${'d'.repeat(64)}.tmp-${dead}-lx2k3-abc123`);
    mkdirSync(abandonedDataset, { recursive: true });
    const events = quiet();
    assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events }), 'completed');
    for (const path of [...leftovers, abandonedDataset]) assert.equal(existsSync(path), false, path);
    assert.ok(
      events.logs.some((l) => /Removed 3 files left by an interrupted process: \.tmp-run\.json/.test(l)),
      events.logs.join('\n'),
    );
    assert.deepEqual(
      readdirSync(runDir).filter((n) => n.startsWith('.tmp-')),
      [],
    );
  } finally {
    if (previousCache === undefined) delete process.env.L3M_CACHE_DIR;
    else process.env.L3M_CACHE_DIR = previousCache;
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a checkpoint whose trainer step or architecture does not fit the run is refused with the difference, and nothing is lost', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-resume-'));
  const configPath = writeTinyWorkspace(workspace, {
    training: { steps: 30, checkpoint_every: 10 },
    evaluation: { every: 10 },
  });
  const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
  await crashAfterStep(runDir, 12);
  const metadataPath = join(runDir, 'checkpoints', 'step-00000010.json');
  const original = readJson<CheckpointMetadata & { extra: { trainer: Record<string, unknown> } }>(metadataPath);
  const metricsBefore = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');

  writeFileSync(
    metadataPath,
    JSON.stringify({ ...original, extra: { ...original.extra, trainer: { ...original.extra.trainer, step: 1e18 } } }),
  );
  await assert.rejects(
    runTraining({ runDir, signal: new AbortController().signal, events: quiet() }),
    /step-00000010\.json records trainer step 1000000000000000000; expected an integer from 0 to 30\. It does not belong to this run/,
  );
  assert.equal(readJson<RunRecord>(join(runDir, 'run.json')).status, 'failed');
  assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), metricsBefore, 'the metrics are untouched');

  writeFileSync(
    metadataPath,
    JSON.stringify({ ...original, config: { ...original.config, ropeTheta: 1, numHiddenLayers: 1 } }),
  );
  await assert.rejects(
    runTraining({ runDir, signal: new AbortController().signal, events: quiet() }),
    /another backbone architecture than this run's config builds \(ropeTheta: checkpoint 1, this run 1000000\)/,
  );

  writeFileSync(metadataPath, JSON.stringify(original));
  assert.equal(await runTraining({ runDir, signal: new AbortController().signal, events: quiet() }), 'completed');
  rmSync(workspace, { recursive: true, force: true });
});
