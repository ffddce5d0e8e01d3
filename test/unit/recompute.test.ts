// Activation recomputation: the same loss and gradients as the plain forward pass (a function of its own,
// chunked and whole, and the generation model with LoRA, attention dropout and its velocity CNN), far fewer
// tensors kept for the backward pass, and no tensor left behind.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { recompute } from '../../sidecar/model/ops/recompute';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { GenerationModel, type GenerationInputs } from '../../sidecar/tasks/generation/generation_model';
import { buildGenerationPrompt } from '../../sidecar/tasks/generation/generation_prompt';

before(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

test('recompute gives the gradients of the plain function, to inputs and variables, whole and in chunks', () => {
  const w = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 1));
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 2);
  const data = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
  const fn = (xs: tf.Tensor, ds: tf.Tensor) => tf.mul(tf.tanh(tf.matMul(xs, w)), ds);
  const lossOf = (y: tf.Tensor) => tf.sum<tf.Scalar>(tf.square(y));
  const plain = tf.grads((xs: tf.Tensor, ws: tf.Tensor) => {
    void ws;
    return lossOf(fn(xs, data));
  })([x, w]);
  for (const chunkRows of [undefined, 2]) {
    const before = tf.memory().numTensors;
    const viaRecompute = tf.grads((xs: tf.Tensor, ws: tf.Tensor) => {
      void ws;
      return lossOf(recompute(fn, { tensors: [xs, data], differentiable: [true, false], variables: [w] }, chunkRows));
    })([x, w]);
    assert.ok(maxAbsDifference(viaRecompute[0], plain[0]) < 1e-5, `dx, chunks of ${chunkRows}`);
    assert.ok(maxAbsDifference(viaRecompute[1], plain[1]) < 1e-5, `dw, chunks of ${chunkRows}`);
    tf.dispose(viaRecompute);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  }
  tf.dispose([...plain, x, data, w]);
});

test('recompute refuses chunks of tensors that do not share their rows, and a flag count that does not match', () => {
  const a = tf.zeros([4, 2]);
  const b = tf.zeros([3, 2]);
  assert.throws(
    () => recompute((p, q) => tf.add(p, q), { tensors: [a, b], differentiable: [true, true], variables: [] }, 2),
    /share their first axis/,
  );
  assert.throws(
    () => recompute((p) => p, { tensors: [a], differentiable: [true, false], variables: [] }),
    /one flag per tensor/,
  );
  tf.dispose([a, b]);
});

function loraModel(recomputeActivations: boolean): GenerationModel {
  const backbone = Qwen2Model.random(
    qwen2Config({
      vocabSize: 8,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      intermediateSize: 24,
      ropeTheta: 10000,
      maxPositionEmbeddings: 128,
      attentionDropout: 0.1,
    }),
    1,
  );
  backbone.addLora({ rank: 2, seed: 3 });
  return new GenerationModel(backbone, {
    prompt: buildGenerationPrompt({ template: 'minimal', systemTokens: 0, timeStep: true, chatIds: null }),
    patchSize: 2,
    rows: 2,
    cols: 2,
    lightconeConnector: { kind: 'linear', depth: 0, width: 0 },
    parameterConnector: { kind: 'linear', depth: 0, width: 0 },
    timeStepConnector: { kind: 'linear', depth: 0, width: 0 },
    head: { channels: 4, blocks: 2, residualFactor: 2, kernelSize: 3, condChannels: 2 },
    finetune: 'lora',
    trainNorms: true,
    seed: 5,
    recomputeActivations,
  });
}

test('the generation model with recomputed activations: same loss and gradients, a fraction of the saved tensors', () => {
  const inputs: GenerationInputs = {
    patches: tf.randomNormal([2, 3, 4, 4], 0, 1, 'float32', 7),
    params: tf.randomUniform([2, 6], 0, 1, 'float32', 8),
    timeSteps: tf.tensor1d([0.1, -0.2]),
  };
  const results = [false, true].map((recomputeActivations) => {
    const model = loraModel(recomputeActivations);
    const variables = model.namedTrainableWeights().map(([, v]) => v);
    const before = tf.memory().numTensors;
    let kept = 0;
    const { value, grads } = tf.variableGrads(() => {
      const loss = model.loss(inputs, 1, 11, { training: true, dropoutSeed: 4 });
      kept = tf.memory().numTensors - before;
      return loss;
    }, variables);
    const out = { loss: value.dataSync()[0], grads: variables.map((v) => grads[v.name].clone()), kept };
    tf.dispose([value, ...Object.values(grads)]);
    // The clones of the gradients are the only tensors the step leaves.
    assert.equal(tf.memory().numTensors, before + out.grads.length, 'no tensor left behind after the step');
    model.dispose();
    return out;
  });
  const [plain, recomputed] = results;
  assert.ok(Math.abs(plain.loss - recomputed.loss) < 1e-6, `loss ${plain.loss} vs ${recomputed.loss}`);
  assert.equal(plain.grads.length, recomputed.grads.length);
  plain.grads.forEach((g, i) => {
    const scale = Math.max(
      1e-3,
      tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]),
    );
    assert.ok(maxAbsDifference(g, recomputed.grads[i]) / scale < 1e-4, `gradient ${i} differs`);
  });
  assert.ok(
    recomputed.kept * 3 < plain.kept,
    `recomputation keeps ${recomputed.kept} tensors for the backward pass, plain ${plain.kept}`,
  );
  tf.dispose([...plain.grads, ...recomputed.grads, inputs.patches, inputs.params, inputs.timeSteps]);
});
