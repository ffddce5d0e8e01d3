// A run's stage as every reader shows it: counts read from the sidecar's texts, the ETA from the rate
// measured since the stage began, epochs rounded, no "0/0" outside training, and a resumed run announced
// without the cancel of its previous process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  StageClock,
  describeProgress,
  formatEpoch,
  fractionOfText,
  progressLine,
  runDescription,
  shortProgress,
} from '../../sidecar/protocol/run_stage';
import { parseRunRecord, type RunRecord } from '../../sidecar/protocol/run_folder';
import { asStarting } from '../../sidecar/rpc/run_queue';
import { monitorColumn } from '../../extension/panels/monitor_column';

test('the fraction done is read from the counts in a stage text, nested counts included', () => {
  assert.equal(fractionOfText('simulating lightcones 3/40'), 3 / 40);
  assert.equal(fractionOfText('sampling test lightcone 2/4: slice 5/20'), (1 + 5 / 20) / 4);
  assert.equal(fractionOfText('evaluating the test split'), undefined);
  assert.equal(fractionOfText('reading lightcones 0/0'), undefined);
});

test('the ETA of a stage comes from the rate measured since it began, and restarts with a new stage', () => {
  let now = 1000;
  const clock = new StageClock(() => now);
  assert.equal(clock.stage('data', 'simulating lightcones 0/40').etaSeconds, null, 'no rate before the first count');
  now += 10_000;
  const stage = clock.stage('data', 'simulating lightcones 10/40');
  // 10 lightcones in 10 s: 30 left take 30 s.
  assert.equal(stage.fraction, 0.25);
  assert.ok(Math.abs((stage.etaSeconds ?? NaN) - 30) < 1e-9, String(stage.etaSeconds));
  now += 1000;
  // Evaluation begins: its measurement starts from its own first report.
  assert.equal(clock.stage('evaluating', 'next-patch evaluation 5/10 windows').etaSeconds, null);
  now += 5000;
  assert.ok(Math.abs((clock.stage('evaluating', 'next-patch evaluation 10/10 windows').etaSeconds ?? NaN) - 0) < 1e-9);
});

test('epochs are rounded to two decimals', () => {
  assert.equal(formatEpoch(7.066666666666666), '7.07');
  assert.equal(formatEpoch(7), '7');
  assert.equal(formatEpoch(0.3333333), '0.33');
});

test('outside training the progress shows the stage, never the 0/0 of its step counts', () => {
  const simulating = {
    step: 0,
    totalSteps: 0,
    epoch: 0,
    stage: { name: 'data' as const, text: 'simulating lightcones 3/40', fraction: 3 / 40, etaSeconds: 95 },
  };
  assert.equal(progressLine(simulating), 'simulating lightcones 3/40 · ETA 1 min 35 s');
  assert.equal(shortProgress({ ...simulating, loss: null }), 'simulating lightcones 3/40 · ETA 1 min 35 s');
  assert.doesNotMatch(shortProgress({ ...simulating, loss: null }), /0\/0/);
  // A report of an older sidecar (a phase text, no stage) reads the same way.
  assert.equal(
    shortProgress({ step: 0, totalSteps: 0, epoch: 0, phase: 'evaluating the test split' }),
    'evaluating the test split',
  );
  const training = {
    step: 120,
    totalSteps: 600,
    epoch: 2.4000001,
    stepsPerSecond: 3.2149,
    etaSeconds: 150,
    stage: { name: 'training' as const, text: 'training 120/600' },
  };
  assert.deepEqual(describeProgress(training), {
    stage: 'training step 120/600 (epoch 2.4)',
    rate: '3.21 steps/s',
    eta: 'ETA 2 min 30 s',
  });
  assert.equal(shortProgress({ ...training, loss: 0.123456 }), '120/600 loss 0.1235 · ETA 2 min 30 s');
  assert.equal(runDescription('running', simulating), 'running · simulating lightcones 3/40 · ETA 1 min 35 s');
  assert.equal(runDescription('completed', simulating), 'completed');
  assert.equal(runDescription('running', { step: 1, totalSteps: 2, epoch: 0 }), 'running');
});

test('run.json with a malformed stage keeps its progress and drops the stage', () => {
  const base = { id: 'r', experiment: 'e', task: 'regression', status: 'running', createdAt: 'x', version: '1' };
  const good = parseRunRecord(
    JSON.stringify({
      ...base,
      progress: { step: 1, totalSteps: 2, epoch: 0.5, stage: { name: 'data', text: 'a 1/2' } },
    }),
  );
  assert.ok('record' in good);
  assert.equal(good.record.progress?.stage?.text, 'a 1/2');
  const bad = parseRunRecord(
    JSON.stringify({ ...base, progress: { step: 1, totalSteps: 2, epoch: 0.5, stage: { name: 'dancing', text: 3 } } }),
  );
  assert.ok('record' in bad);
  assert.deepEqual(bad.record.progress, { step: 1, totalSteps: 2, epoch: 0.5 });
});

test('a resumed run is announced running without the cancel that ended its previous process', () => {
  const cancelled: RunRecord = {
    id: 'r',
    experiment: 'e',
    task: 'regression',
    status: 'cancelled',
    createdAt: '2026-01-01T00:00:00Z',
    endedAt: '2026-01-01T00:10:00Z',
    version: '1',
    error: { message: 'Cancelled; resume to continue from the last checkpoint.', step: 40 },
    progress: { step: 40, totalSteps: 100, epoch: 2 },
  };
  const announced = asStarting(cancelled);
  assert.equal(announced.status, 'running');
  assert.equal(announced.error, undefined);
  assert.equal(announced.endedAt, undefined);
  assert.deepEqual(announced.progress, cancelled.progress);
});

test('a new monitor joins the editor group of the monitors already open', () => {
  assert.equal(monitorColumn([]), 'beside');
  assert.equal(monitorColumn([undefined]), 'beside');
  assert.equal(monitorColumn([2]), 2);
  assert.equal(monitorColumn([2, 3, undefined]), 3);
});
