// A cancel that arrives during the test evaluation after training (the generation task's next-patch evaluation
// stops at it): the run ends cancelled and resumable, not failed, with the progress of its trained steps, and a
// resume evaluates again and completes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';

const events = (): TrainingEvents => ({ progress: () => undefined, metrics: () => undefined, log: () => undefined });

/** The generation quickstart example, in `workspace`. */
function writeGenerationWorkspace(workspace: string): string {
  const config = readJson<Record<string, unknown>>(
    join(import.meta.dirname, '..', '..', 'examples', 'quickstart-generation.l3m.json'),
  );
  const path = join(workspace, 'generation.l3m.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

test('cancel during the test evaluation after training: the run ends cancelled, not failed, and a resume completes it', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-run-'));
  const previous = process.env.L3M_CACHE_DIR;
  process.env.L3M_CACHE_DIR = join(workspace, 'cache');
  try {
    // The generation quickstart cut to 4 steps; its next-patch evaluation stops at a cancel.
    const configPath = writeGenerationWorkspace(workspace);
    const config = readJson<Record<string, Record<string, unknown>>>(configPath);
    config.training = {
      ...config.training,
      steps: 4,
      schedule: { warmup: 1, stable: null, decay: 1 },
      checkpoint_every: 4,
    };
    config.evaluation = { ...config.evaluation, every: 4, generated_lightcones: 0, cfm_samples_per_patch: 1 };
    writeFileSync(configPath, JSON.stringify(config));
    const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
    const controller = new AbortController();
    const outcome = await runTraining({
      runDir,
      signal: controller.signal,
      events: {
        ...events(),
        progress: (p) => {
          if (p.phase?.startsWith('next-patch evaluation')) controller.abort();
        },
      },
    });
    assert.equal(controller.signal.aborted, true, 'the test evaluation was reached');
    assert.equal(outcome, 'cancelled');
    const record = readJson<RunRecord>(join(runDir, 'run.json'));
    assert.equal(record.status, 'cancelled', JSON.stringify(record));
    assert.match(record.error?.message ?? '', /resume/);
    assert.equal(record.progress?.step, 4, 'the progress of the trained steps is kept');
    const resumed = await runTraining({ runDir, signal: new AbortController().signal, events: events() });
    assert.equal(resumed, 'completed');
    assert.equal(readJson<RunRecord>(join(runDir, 'run.json')).status, 'completed');
    assert.ok(readdirSync(join(runDir, 'eval')).includes('next_patch.json'), 'the resume evaluated');
  } finally {
    if (previous === undefined) delete process.env.L3M_CACHE_DIR;
    else process.env.L3M_CACHE_DIR = previous;
    rmSync(workspace, { recursive: true, force: true });
  }
});
