// How jobs reach an existing run (sidecar/runs/run_access.ts): its resolved config, and the checkpoint
// to load — best, else the newest step — where a damaged best.json is reported with its path instead
// of being passed over for an older checkpoint; and the jobs that use it (sample, evaluate) say so
// before any data are read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { chooseCheckpoint, readRunConfig } from '../../sidecar/runs/run_access';
import { prepareRun } from '../../sidecar/jobs/train_job';
import { sampleRun } from '../../sidecar/jobs/sample_job';
import { evaluateRun } from '../../sidecar/jobs/evaluate_job';

const examples = join(import.meta.dirname, '..', '..', 'examples');

function withFolder(body: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l3m-run-access-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** A checkpoint of a generation model whose metadata allows 11 slices (4×4 patches, 256 positions). */
async function writeCheckpoint(checkpointDir: string, name: string, step: number): Promise<void> {
  await saveCheckpoint({
    dir: checkpointDir,
    name,
    step,
    weights: [],
    config: qwen2Config({ hiddenSize: 32, numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 256 }),
    extra: { task: 'generation', transform: null, sliceScale: 100, n: 32, rows: 4, cols: 4, finetune: 'scratch' },
  });
}

async function runFolder(example: string, runs: string): Promise<string> {
  const config = join(runs, example);
  writeFileSync(config, readFileSync(join(examples, example)));
  return (await prepareRun(config, runs)).runDir;
}

test(
  'readRunConfig: the resolved config, or an error naming config.json and what is wrong',
  withFolder(async (dir) => {
    await assert.rejects(
      readRunConfig(dir),
      new RegExp(
        `Cannot read the run's config: ${join(dir, 'config.json')}: does not exist.* Is ${dir} a run folder\\?`,
      ),
    );
    writeFileSync(join(dir, 'config.json'), '{"task": "regression", ');
    await assert.rejects(
      readRunConfig(dir),
      new RegExp(`The run's config ${join(dir, 'config.json')} is not valid JSON`),
    );
    writeFileSync(join(dir, 'config.json'), '[1, 2]');
    await assert.rejects(
      readRunConfig(dir),
      /is not a resolved experiment config \(no "task" string in a JSON object\)/,
    );
    mkdirSync(join(dir, 'sub', 'config.json'), { recursive: true });
    await assert.rejects(
      readRunConfig(join(dir, 'sub')),
      /Cannot read the run's config: .*sub\/config\.json.*directory/,
    );
    writeFileSync(join(dir, 'config.json'), '{"task": "regression", "training": {"seed": 3}}');
    assert.deepEqual(await readRunConfig(dir), { task: 'regression', training: { seed: 3 } });
  }),
);

test(
  'chooseCheckpoint: best, else the newest step; none is an error that says what to do',
  withFolder(async (dir) => {
    assert.throws(
      () => chooseCheckpoint(dir, 'queued', 'evaluate'),
      new RegExp(
        `Run ${dir} has no checkpoint yet \\(status queued\\); train it \\(or resume it\\) until it saves one, then evaluate\\.`,
      ),
    );
    const checkpoints = join(dir, 'checkpoints');
    await writeCheckpoint(checkpoints, 'step-00000002', 2);
    await writeCheckpoint(checkpoints, 'step-00000010', 10);
    assert.deepEqual(chooseCheckpoint(dir, 'cancelled', 'sample'), { dir: checkpoints, name: 'step-00000010' });
    await writeCheckpoint(checkpoints, 'best', 2);
    assert.deepEqual(chooseCheckpoint(dir, 'completed', 'sample'), { dir: checkpoints, name: 'best' });
  }),
);

test(
  'chooseCheckpoint: a damaged best.json is reported with its path and the way out, not passed over',
  withFolder(async (dir) => {
    const checkpoints = join(dir, 'checkpoints');
    await writeCheckpoint(checkpoints, 'step-00000010', 10);
    const best = join(checkpoints, 'best.json');
    writeFileSync(best, '{"formatVersion": 1, "weightsFi');
    assert.throws(
      () => chooseCheckpoint(dir, 'completed', 'evaluate'),
      new RegExp(
        `The best checkpoint's manifest ${best} is unreadable \\(not valid JSON: .*\\); delete it to use the newest step checkpoint \\(step-00000010\\) instead, or resume the run to write a new best\\.`,
      ),
    );
    writeFileSync(best, 'null');
    assert.throws(
      () => chooseCheckpoint(dir, 'completed', 'evaluate'),
      new RegExp(`manifest ${best} is null, not a JSON object`),
    );
  }),
);

test(
  'sampling and evaluating a run with a damaged best.json report it before reading any data',
  withFolder(async (runs) => {
    const signal = new AbortController().signal;
    const generation = await runFolder('quickstart-generation.l3m.json', runs);
    await writeCheckpoint(join(generation, 'checkpoints'), 'step-00000004', 4);
    const best = join(generation, 'checkpoints', 'best.json');
    writeFileSync(best, '{"formatVersion": 1, "weightsFi');
    // 8 + 4 slices exceed the step checkpoint's 11: an older checkpoint used in place of best would fail on that instead.
    await assert.rejects(
      sampleRun({ runDir: generation, lightcone: 0, contextSlices: 8, slices: 4 }, signal),
      new RegExp(`The best checkpoint's manifest ${best} is unreadable`),
    );
    await assert.rejects(
      evaluateRun(generation, signal),
      new RegExp(`The best checkpoint's manifest ${best} is unreadable`),
    );
  }),
);
