// The Gaussian head and its NLL against values worked out by hand, and the float64 helpers used by
// the evaluation (covariance from the precision factor, sampling).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  choleskyRowScale,
  gaussianNll,
  gaussianNllLoss,
  gaussianOutputs,
  headOutputSize,
  logSoftplus,
  offDiagonalIndices,
} from '../../sidecar/tasks/regression/gaussian_head';
import {
  covarianceFromPrecisionCholesky,
  normalSampler,
  samplePrecisionGaussian,
} from '../../sidecar/tasks/regression/precision_gaussian';
import { mulberry32 } from '../../sidecar/train/seeded_random';

before(async () => {
  await tf.setBackend('cpu');
});

const softplus = (x: number) => Math.log1p(Math.exp(x));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test('row scale is 1/sqrt(0.25·(i+1)) and off-diagonals follow torch.tril_indices order', () => {
  assert.deepEqual(
    choleskyRowScale.map((s) => +s.toFixed(4)),
    [2, 1.4142, 1.1547, 1, 0.8944, 0.8165],
  );
  assert.deepEqual(offDiagonalIndices.slice(0, 4), [
    [1, 0],
    [2, 0],
    [2, 1],
    [3, 0],
  ]);
  assert.equal(headOutputSize, 27);
});

test('all-zero outputs: mean 0.5, diagonal softplus(0)·s_i, loss by hand', () => {
  const raw = tf.zeros<tf.Rank.R2>([1, 27]);
  const target = tf.tensor2d([[0.5, 0.5, 0.5, 0.5, 0.5, 1.5]]);
  const outputs = gaussianOutputs(raw);
  assert.deepEqual(
    Array.from(outputs.mean.dataSync()).map((v) => +v.toFixed(6)),
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
  );
  const L = outputs.cholesky.arraySync()[0];
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(L[i][i] - Math.log(2) * choleskyRowScale[i]) < 1e-6);
    for (let j = 0; j < 6; j++) if (j !== i) assert.equal(L[i][j], 0);
  }
  // Residual only in parameter 5 (value −1): ½ rᵀ L Lᵀ r = ½ L_55² ; log det L = Σ log(log 2 · s_i).
  const half = 0.5 * (Math.log(2) * choleskyRowScale[5]) ** 2;
  const logDet = choleskyRowScale.reduce((s, c) => s + Math.log(Math.log(2) * c), 0);
  const loss = gaussianNllLoss(raw, target).dataSync()[0];
  assert.ok(Math.abs(loss - (half - logDet) / 6) < 1e-5, `loss ${loss}`);
  const nll = gaussianNll(raw, target).dataSync()[0];
  assert.ok(Math.abs(nll - (half - logDet + 3 * Math.log(2 * Math.PI))) < 1e-4, `nll ${nll}`);
  tf.dispose([raw, target, outputs.mean, outputs.cholesky, outputs.logDetL]);
});

test('a full 27-vector against a hand-built precision matrix', () => {
  const values = Array.from({ length: 27 }, (_, k) => Math.sin(1.7 * k + 0.3));
  const target = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2];
  // Build L and P by hand in float64.
  const L = Array.from({ length: 6 }, () => new Array<number>(6).fill(0));
  for (let i = 0; i < 6; i++) L[i][i] = softplus(values[6 + i]) * choleskyRowScale[i];
  offDiagonalIndices.forEach(([i, j], k) => {
    L[i][j] = values[12 + k] * choleskyRowScale[i];
  });
  const r = target.map((y, i) => sigmoid(values[i]) - y);
  let quad = 0;
  for (let j = 0; j < 6; j++) {
    let z = 0;
    for (let i = 0; i < 6; i++) z += L[i][j] * r[i];
    quad += z * z;
  }
  let logDet = 0;
  for (let i = 0; i < 6; i++) logDet += Math.log(L[i][i]);
  const expected = (0.5 * quad - logDet) / 6;
  const raw = tf.tensor2d([values, values.map((v) => v)]);
  const y = tf.tensor2d([target, target]);
  const loss = gaussianNllLoss(raw, y).dataSync()[0];
  assert.ok(Math.abs(loss - expected) < 1e-5, `loss ${loss} vs ${expected}`);
  tf.dispose([raw, y]);
});

test('log softplus is exact for very negative inputs and has finite gradients', () => {
  const x = tf.tensor1d([-200, -30, -15.5, 0, 20]);
  const values = logSoftplus(x).dataSync();
  assert.ok(Math.abs(values[0] + 200) < 1e-4);
  assert.ok(Math.abs(values[3] - Math.log(Math.log(2))) < 1e-6);
  const grads = tf
    .grad((t: tf.Tensor) => tf.sum(logSoftplus(t)))(x)
    .dataSync();
  for (const g of grads) assert.ok(Number.isFinite(g));
  assert.ok(Math.abs(grads[0] - 1) < 1e-6);
  x.dispose();
});

test('no tensors leak from the head and the loss', () => {
  const before = tf.memory().numTensors;
  const raw = tf.randomNormal<tf.Rank.R2>([3, 27], 0, 1, 'float32', 1);
  const y = tf.randomUniform<tf.Rank.R2>([3, 6], 0, 1, 'float32', 2);
  tf.dispose([gaussianNllLoss(raw, y), gaussianNll(raw, y), raw, y]);
  assert.equal(tf.memory().numTensors, before);
});

test('bad shapes give clear errors', () => {
  const raw = tf.zeros<tf.Rank.R2>([2, 26]);
  assert.throws(() => gaussianOutputs(raw), /expects \(batch, 27\)/);
  const good = tf.zeros<tf.Rank.R2>([2, 27]);
  const y = tf.zeros<tf.Rank.R2>([2, 5]);
  assert.throws(() => gaussianNllLoss(good, y), /targets must be \(batch=2, 6\)/);
  tf.dispose([raw, good, y]);
});

test('covariance is the inverse of L·Lᵀ and samples have it', () => {
  const L = [2, 0, 0, 0.5, 1, 0, -0.3, 0.2, 0.5];
  const cov = covarianceFromPrecisionCholesky(L, 3);
  // P·Σ = I
  const P = Array.from({ length: 9 }, (_, e) => {
    const i = Math.floor(e / 3);
    const j = e % 3;
    let s = 0;
    for (let k = 0; k < 3; k++) s += L[i * 3 + k] * L[j * 3 + k];
    return s;
  });
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += P[i * 3 + k] * cov[k * 3 + j];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12);
    }
  const n = 40000;
  const samples = samplePrecisionGaussian([1, 2, 3], L, n, normalSampler(mulberry32(7)));
  const mean = [0, 0, 0];
  for (let s = 0; s < n; s++) for (let i = 0; i < 3; i++) mean[i] += samples[s * 3 + i] / n;
  let c02 = 0;
  for (let s = 0; s < n; s++) c02 += ((samples[s * 3] - mean[0]) * (samples[s * 3 + 2] - mean[2])) / n;
  assert.ok(Math.abs(mean[2] - 3) < 0.05);
  assert.ok(Math.abs(c02 - cov[2]) < 0.05 * Math.sqrt(cov[0] * cov[8]) + 0.01, `${c02} vs ${cov[2]}`);
});
