// Shared helpers for the unit tests of the backbone: the committed fixture paths, the reference tensors the
// PyTorch script wrote, and a relative-error measure.
import { readJson } from '../read_json';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SafetensorsFile } from '../../sidecar/checkpoint/safetensors_reader';

export const fixturesDir = join(__dirname, 'fixtures');

export interface FixtureInputs {
  ids: number[][];
  vectorPositions: number[];
  cachePrefix: number;
}

export function fixtureInputs(): FixtureInputs {
  return readJson<FixtureInputs>(join(fixturesDir, 'inputs.json'));
}

/** Reads every tensor of a fixture safetensors file (float32). */
export function readFixture(file: string): Map<string, tf.Tensor> {
  const reader = new SafetensorsFile(join(fixturesDir, file));
  try {
    return new Map([...reader.tensors.keys()].map((name) => [name, reader.readTensor(name)]));
  } finally {
    reader.close();
  }
}

/** max |actual − expected| / max |expected|: the error relative to the tensor's scale. */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  if (actual.shape.join(',') !== expected.shape.join(',')) {
    throw new Error(`shape mismatch: actual [${actual.shape.join(', ')}] vs expected [${expected.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const difference = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
    const scale = tf.max(tf.abs(expected)).dataSync()[0];
    return difference / scale;
  });
}
