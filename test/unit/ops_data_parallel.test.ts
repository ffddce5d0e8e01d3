// Data-parallel training on two worker threads equals one Adam step on the whole batch in one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DataParallelTrainer } from '../../sidecar/train/data_parallel/data_parallel_trainer';
import { createReplica } from '../../bench/_replicas/qwen2_mse';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import type { Shard } from '../../sidecar/train/data_parallel/replica';

const config = qwen2Config({
  vocabSize: 8,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  intermediateSize: 24,
  causal: true,
});
const [batch, length, hidden] = [4, 5, 16];

function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sin(seed * 7.1 + i * 1.3);
  return out;
}

test('two workers with averaged gradients take the same Adam steps as the whole batch in one process', async () => {
  await tf.setBackend('cpu');
  const input = values(batch * length * hidden, 1);
  const target = values(batch * length * hidden, 2);
  const half = (batch / 2) * length * hidden;
  const shards: Shard[] = [0, 1].map((i) => ({
    input: input.slice(i * half, (i + 1) * half),
    inputShape: [batch / 2, length, hidden],
    target: target.slice(i * half, (i + 1) * half),
    targetShape: [batch / 2, length, hidden],
  }));

  // Reference: the same replica and Adam on the whole batch, here.
  const replica = createReplica({ config, seed: 5 });
  const parameterCount = replica.variables.reduce((sum, v) => sum + v.size, 0);
  const optimizer = tf.train.adam(1e-2);
  const whole: Shard = { input, inputShape: [batch, length, hidden], target, targetShape: [batch, length, hidden] };
  const referenceLosses: number[] = [];
  for (let step = 0; step < 2; step++) {
    const loss = optimizer.minimize(() => replica.loss(whole), true, replica.variables)!;
    referenceLosses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  const referenceWeights = new Float32Array(parameterCount);
  let offset = 0;
  for (const v of replica.variables) {
    referenceWeights.set(v.dataSync(), offset);
    offset += v.size;
  }
  optimizer.dispose();
  replica.dispose();

  const trainer = await DataParallelTrainer.create({
    workers: 2,
    replicaModule: 'bench/_replicas/qwen2_mse.ts',
    replicaOptions: { config, seed: 5 },
    parameterCount,
    learningRate: 1e-2,
    backend: 'cpu',
  });
  try {
    for (let step = 0; step < 2; step++) {
      const loss = await trainer.step(shards);
      assert.ok(
        Math.abs(loss - referenceLosses[step]) <= 1e-5 * Math.abs(referenceLosses[step]),
        `step ${step}: loss ${loss} vs whole batch ${referenceLosses[step]}`,
      );
    }
    const [w0, w1] = [await trainer.weights(0), await trainer.weights(1)];
    assert.deepEqual(w0, w1, 'both replicas hold bit-identical weights');
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < parameterCount; i++) {
      diff += (w0[i] - referenceWeights[i]) ** 2;
      norm += referenceWeights[i] ** 2;
    }
    assert.ok(Math.sqrt(diff / norm) < 1e-5, `weights differ from the whole-batch step by ${Math.sqrt(diff / norm)}`);
  } finally {
    await trainer.close();
  }
});

test('a shard count that does not match the workers is refused with a clear message', async () => {
  const replica = createReplica({ config, seed: 1 });
  const parameterCount = replica.variables.reduce((sum, v) => sum + v.size, 0);
  replica.dispose();
  const trainer = await DataParallelTrainer.create({
    workers: 2,
    replicaModule: 'bench/_replicas/qwen2_mse.ts',
    replicaOptions: { config, seed: 1 },
    parameterCount,
    learningRate: 1e-3,
    backend: 'cpu',
  });
  try {
    await assert.rejects(trainer.step([]), /0 shards for 2 workers/);
  } finally {
    await trainer.close();
  }
});
