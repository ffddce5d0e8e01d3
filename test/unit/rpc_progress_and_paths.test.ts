// The RPC server's forwarding of engine events: data-phase progress is throttled like step progress,
// and config diagnostics carry the JSON path of the field they are about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressParams } from '../../sidecar/protocol/messages';
import { jsonPathAt } from '../../sidecar/rpc/diagnostic_path';
import { RunQueue } from '../../sidecar/rpc/run_queue';
import { toResponseError } from '../../sidecar/rpc/server';
import { prepareRun, runTraining } from '../../sidecar/jobs/train_job';
import { ConfigInvalidError } from '../../schemas/load_config';
import { writeTinyWorkspace } from '../integration/train_fixture';

test('jsonPathAt names the field at a position: keys, values, array items, the root', () => {
  const text = '{\n  "training": { "lr": -1, "schedule": { "warmup": 2 } },\n  "tags": ["a", 3]\n}\n';
  const at = (needle: string, shift = 0) => {
    const offset = text.indexOf(needle) + shift;
    const before = text.slice(0, offset);
    return jsonPathAt(text, before.split('\n').length - 1, offset - before.lastIndexOf('\n') - 1);
  };
  assert.equal(at('-1'), 'training.lr');
  assert.equal(at('"lr"'), 'training.lr');
  assert.equal(at('"warmup"'), 'training.schedule.warmup');
  assert.equal(at('3]'), 'tags[1]');
  assert.equal(at('"training"'), 'training');
  assert.equal(jsonPathAt(text, 0, 0), '');
  assert.equal(jsonPathAt('{ broken', 0, 3), '');
});

test('config-invalid errors carry the JSON path of each diagnostic', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-rpc-'));
  try {
    const configPath = writeTinyWorkspace(workspace, { training: { lr: -1 } });
    const error = await prepareRun(configPath, join(workspace, 'runs')).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigInvalidError);
    const data = toResponseError(error).data as { diagnostics: { path: string; severity: string }[] };
    assert.ok(
      data.diagnostics.some((d) => d.severity === 'error' && d.path === 'training.lr'),
      JSON.stringify(data.diagnostics),
    );
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('data-phase progress is throttled like step progress; new phases and the last step pass at once', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-rpc-'));
  const previous = process.env.L3M_CACHE_DIR;
  process.env.L3M_CACHE_DIR = join(workspace, 'cache');
  try {
    const configPath = writeTinyWorkspace(workspace, {
      data: {
        source: 'simulator',
        simulator: { preset: 'test', count: 4, seed: 2 },
        splits: { validation_fraction: 0.25, test_fraction: 0.25, seed: 1 },
      },
      training: { unit: 'steps', steps: 6, batch_size: 2, checkpoint_every: 6, schedule: { warmup: 1, decay: 2 } },
      evaluation: { every: 6, batch_size: 2 },
    });
    const emitted: ProgressParams[] = [];
    const delivered: ProgressParams[] = [];
    let finished!: () => void;
    let outcome = '';
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    // The real training job, with its progress recorded on the way in, so that the test compares what the
    // job emitted with what the queue forwarded. A throttle interval longer than the run makes the
    // expectation exact.
    const queue = new RunQueue(
      {
        prepareRun,
        runTraining: (options) =>
          runTraining({
            ...options,
            events: {
              ...options.events,
              progress: (p) => {
                emitted.push(p);
                options.events.progress(p);
              },
            },
          }),
      },
      {
        runState: (s) => {
          if (s.kind === 'completed' || s.kind === 'failed' || s.kind === 'cancelled') {
            outcome = s.kind === 'failed' ? `failed: ${s.message}` : s.kind;
            finished();
          }
        },
        progress: (p) => delivered.push(p),
        metrics: () => undefined,
        log: () => undefined,
      },
      { progressThrottleMs: 1e9 },
    );
    await queue.start(configPath, join(workspace, 'runs'));
    await done;
    assert.equal(outcome, 'completed');
    const simulating = (list: ProgressParams[]) => list.filter((p) => p.phase?.startsWith('simulating lightcones'));
    assert.ok(simulating(emitted).length >= 4, 'one report per simulated cone');
    assert.equal(simulating(delivered).length, 1, 'the first report of the phase only');
    const steps = delivered.filter((p) => p.phase === undefined).map((p) => p.step);
    assert.deepEqual(steps, [steps[0], 6], 'the first and the last training step');
    assert.ok(delivered.some((p) => p.phase === 'evaluating the test split'));
  } finally {
    if (previous === undefined) delete process.env.L3M_CACHE_DIR;
    else process.env.L3M_CACHE_DIR = previous;
    rmSync(workspace, { recursive: true, force: true });
  }
});
