// A GPU out-of-memory error in a whole run on webgpu: a batch whose MLP activation exceeds the device's largest
// storage buffer binding (a real over-the-limit allocation on Mesa's software adapter, where Dawn throws
// nothing and reads zeros) fails the run with the step, the batch's tensor shapes and the batch size to lower,
// in run.json; and the checkpoint written before it loads, with no checkpoint made from the zeros.
// Where no adapter exists the tests skip with the probe's reason, except in CI, which installs Mesa.
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../sidecar/runtime/backends';
import { errorMessage } from '../../sidecar/protocol/error_message';
import { prepareRun, runTraining, type TrainingEvents } from '../../sidecar/jobs/train_job';
import { loadCheckpoint } from '../../sidecar/checkpoint/checkpoint';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import { readJson } from '../read_json';
import { writeTinyWorkspace } from '../integration/train_fixture';

let unavailable: string | null = null;
/** The largest buffer a kernel may bind on this adapter, in bytes. */
let bindingLimit = 0;

before(async () => {
  try {
    await selectBackend('webgpu', { allowSoftwareGpu: true });
    const limits = Reflect.get(Reflect.get(tf.backend(), 'device') as object, 'limits') as object;
    bindingLimit = Math.min(
      Number(Reflect.get(limits, 'maxStorageBufferBindingSize')),
      Number(Reflect.get(limits, 'maxBufferSize')),
    );
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

// 60 cones split 24 train / 24 validation / 12 test; the minimal prompt puts 64 global-signal tokens and the
// summary token in each sequence, so a batch of B rows makes MLP activations of B × 65 × intermediate_size floats.
const tokens = 64;
const sequence = tokens + 1;
const largeRows = 24;

/**
 * The intermediate size that makes a batch of 24 rows 1.5 times the binding limit (2 rows stay at an eighth
 * of it); null where the schema's largest intermediate_size cannot reach that (an adapter with larger buffers).
 */
function intermediateSize(): number | null {
  const size = Math.ceil((1.5 * bindingLimit) / (largeRows * sequence * 4));
  return size <= 65536 ? size : null;
}

function config(batchSize: number, intermediate: number): Record<string, Record<string, unknown>> {
  return {
    backbone: {
      source: 'random',
      finetune: 'frozen',
      causal: false,
      architecture: {
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        intermediate_size: intermediate,
        vocab_size: 16,
        max_position_embeddings: 256,
      },
    },
    data: {
      source: 'files',
      files: { format: 'npy', path: 'data' },
      splits: { validation_fraction: 0.4, test_fraction: 0.2, seed: 1 },
      preprocessing: { global_signal_tokens: tokens },
    },
    training: { batch_size: batchSize, steps: 3, checkpoint_every: 2, schedule: { warmup: 1, decay: 1 } },
    evaluation: { every: 3, batch_size: largeRows, regression_samples: 20 },
    runtime: { backend: 'webgpu', allow_software_gpu: true },
  };
}

const quiet: TrainingEvents = { progress: () => undefined, metrics: () => undefined, log: () => undefined };

/** Trains a fresh run of the config; returns its folder and run.json after the run failed. */
async function failedRun(workspace: string, batchSize: number, intermediate: number) {
  const configPath = writeTinyWorkspace(workspace, config(batchSize, intermediate), { lightcones: 60 });
  const { runDir } = await prepareRun(configPath, join(workspace, 'runs'));
  await assert.rejects(
    runTraining({ runDir, signal: new AbortController().signal, events: quiet }),
    /The GPU ran out of memory/,
  );
  return { runDir, record: readJson<RunRecord>(join(runDir, 'run.json')) };
}

/** Skips without an adapter, or where this adapter's buffers are beyond a tiny config; else the intermediate size. */
function setUp(t: TestContext): number | null {
  if (unavailable !== null) {
    t.skip(`no WebGPU adapter, not even a software one: ${unavailable}`);
    return null;
  }
  const intermediate = intermediateSize();
  if (intermediate === null)
    t.skip(`this adapter binds buffers of ${bindingLimit} bytes, more than the largest intermediate_size can fill`);
  return intermediate;
}

test('a training batch the GPU cannot hold fails the run at its step, with the shapes and the batch to lower', async (t) => {
  const intermediate = setUp(t);
  if (intermediate === null) return;
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-gpu-oom-'));
  try {
    const { runDir, record } = await failedRun(workspace, largeRows, intermediate);
    assert.equal(record.status, 'failed');
    assert.equal(record.device?.backend, 'webgpu');
    assert.equal(record.error?.step, 1);
    const message = record.error?.message ?? '';
    assert.match(
      message,
      /^The GPU ran out of memory at step 1 \(batch tensors tokens \[24, 64\], targets \[24, 6\]\)/,
    );
    assert.match(message, /larger than the maximum storage buffer binding size|exceeds the max buffer size/);
    assert.match(message, /Lower training\.batch_size \(now 24\) and raise training\.gradient_accumulation_steps/);
    assert.deepEqual(
      readdirSync(join(runDir, 'checkpoints')).filter((f) => f.endsWith('.json')),
      [],
      'no checkpoint made from the zeros of the failed buffers',
    );
  } finally {
    await tf.setBackend('cpu');
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a validation batch the GPU cannot hold fails the run after its last checkpoint, which loads', async (t) => {
  const intermediate = setUp(t);
  if (intermediate === null) return;
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-gpu-oom-'));
  try {
    const { runDir, record } = await failedRun(workspace, 2, intermediate);
    assert.equal(record.status, 'failed');
    assert.equal(record.error?.step, 3);
    const message = record.error?.message ?? '';
    assert.match(
      message,
      /^The GPU ran out of memory validating at step 3 \(batch tensors tokens \[24, 64\], targets \[24, 6\]\)/,
    );
    assert.match(message, /Lower evaluation\.batch_size \(now 24\)/);
    assert.match(message, /the last checkpoint is as it was/);
    const checkpoints = join(runDir, 'checkpoints');
    assert.deepEqual(
      readdirSync(checkpoints).filter((f) => f.endsWith('.json')),
      ['step-00000002.json'],
      'neither a best checkpoint from the zero loss nor a checkpoint at the failed step',
    );
    await tf.setBackend('cpu');
    const loaded = loadCheckpoint(checkpoints, 'step-00000002');
    assert.equal(loaded.metadata.step, 2);
    for (const tensor of loaded.weights.values()) {
      const values = await tensor.data();
      assert.ok(
        values.every((v) => Number.isFinite(v)),
        'the checkpoint holds finite weights',
      );
    }
    tf.dispose([...loaded.weights.values(), ...loaded.optimizerState.values()]);
  } finally {
    await tf.setBackend('cpu');
    rmSync(workspace, { recursive: true, force: true });
  }
});
