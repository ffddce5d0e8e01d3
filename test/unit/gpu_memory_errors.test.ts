// GPU out-of-memory: TensorFlow's and Dawn's messages are recognised, and on webgpu, where nothing is
// thrown and reads of the failed tensors return zeros, the device's errors are collected and turned into
// a failure that names the step, the batch's shapes and the fix. The webgpu case provokes a real error on
// Mesa's software adapter (a tensor beyond its maxBufferSize); it skips without one, except in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../sidecar/runtime/backends';
import {
  GpuOutOfMemoryError,
  batchShapes,
  isOutOfMemory,
  throwIfDeviceFailed,
  watchGpuDevice,
} from '../../sidecar/runtime/gpu_memory_errors';
import { errorMessage } from '../../sidecar/protocol/error_message';

test('TensorFlow and Dawn out-of-memory messages are recognised, others are not', async () => {
  await tf.setBackend('cpu');
  assert.equal(
    isOutOfMemory({
      name: 'Error',
      message:
        'OOM when allocating tensor with shape[64,48,128] and type float on /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc',
    }),
    true,
  );
  assert.equal(
    isOutOfMemory('GPUValidationError Buffer size (2457600000) exceeds the max buffer size limit (2147483648).'),
    true,
  );
  assert.equal(isOutOfMemory('GPUOutOfMemoryError Failed to allocate memory for buffer'), true);
  assert.equal(isOutOfMemory({ name: 'Error', message: 'Loss became NaN at step 3' }), false);
  assert.equal(batchShapes({ inputs: tf.zeros([2, 3]), targets: [tf.zeros([2])] }), 'inputs [2, 3], targets[0] [2]');
});

test('on webgpu an allocation beyond the device limit fails the step with its shapes and the fix', async (t) => {
  try {
    await selectBackend('webgpu', { allowSoftwareGpu: true });
  } catch (error) {
    if (process.env.CI === 'true')
      throw new Error(`CI installs Mesa, so WebGPU must run here: ${errorMessage(error)}`, { cause: error });
    t.skip(`no WebGPU adapter, not even a software one: ${errorMessage(error)}`);
    return;
  }
  try {
    assert.equal(watchGpuDevice(), true);
    const limit = Number(
      Reflect.get(Reflect.get(Reflect.get(tf.backend(), 'device') as object, 'limits') as object, 'maxBufferSize'),
    );
    const rows = Math.ceil(limit / 4 / 1024) + 1024; // float32 rows of 1024: just over the limit
    const batch = { inputs: tf.ones([rows, 1024]) };
    const sum = tf.sum(batch.inputs);
    const value = (await sum.data())[0];
    assert.equal(value, 0, 'TF.js on webgpu reads zeros from the failed buffer instead of throwing');
    assert.throws(
      () => throwIfDeviceFailed(3, batch, 64),
      (error: unknown) => {
        assert.ok(error instanceof GpuOutOfMemoryError);
        assert.equal(error.step, 3);
        assert.match(error.message, new RegExp(`at step 3 \\(batch tensors inputs \\[${rows}, 1024\\]\\)`));
        assert.match(error.message, /exceeds the max buffer size limit/);
        assert.match(error.message, /Lower training\.batch_size \(now 64\)/);
        return true;
      },
    );
    tf.dispose([batch.inputs, sum]);
    const fine = tf.sum(tf.ones([4]));
    assert.equal((await fine.data())[0], 4);
    fine.dispose();
    assert.doesNotThrow(() => throwIfDeviceFailed(4, {}), 'the errors were taken; a good step passes');
  } finally {
    await tf.setBackend('cpu');
  }
});
