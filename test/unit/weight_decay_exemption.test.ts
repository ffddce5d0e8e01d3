// Weight decay on the weights of real models, fully finetuned: one AdamW step with the task's own
// parameter groups and the gradients of its own loss, against the same step with weight decay 0. An
// exempt tensor must come out bit for bit as without decay; every other one must come out smaller by
// lr·wd·p (decoupled decay). TF.js names variables with generated ids, so an exemption that looks at
// those names instead of the checkpoint keys exempts nothing, and this test catches it.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamOptimizer } from '../../sidecar/train/adam_optimizer';
import type { ParameterGroup } from '../../sidecar/train/parameter_group';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { RegressionModel } from '../../sidecar/tasks/regression/regression_model';
import { buildPrompt } from '../../sidecar/tasks/regression/prompt_template';
import { GenerationModel } from '../../sidecar/tasks/generation/generation_model';
import { buildGenerationPrompt } from '../../sidecar/tasks/generation/generation_prompt';

before(async () => {
  await tf.setBackend('cpu');
});

const lr = 0.1;
const weightDecay = 0.5;

function backbone(): Qwen2Model {
  return Qwen2Model.random(
    qwen2Config({
      vocabSize: 8,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      numKeyValueHeads: 1,
      intermediateSize: 32,
      ropeTheta: 10000,
      maxPositionEmbeddings: 64,
    }),
    2,
  );
}

/**
 * Values of every trained weight, by key, after one AdamW step at weight decay `wd` from the same start
 * and with the same gradients. A weight the loss does not reach gets a zero gradient, so that the
 * optimizer still visits it and only the decay can move it.
 */
function stepAt(named: [string, tf.Variable][], groupsAt: (wd: number) => ParameterGroup[], loss: () => tf.Scalar) {
  const start = named.map(([, v]) => v.clone());
  const { value, grads } = tf.variableGrads(
    loss,
    named.map(([, v]) => v),
  );
  for (const [, v] of named) grads[v.name] ??= tf.zerosLike(v);
  const after = (wd: number) => {
    named.forEach(([, v], i) => v.assign(start[i]));
    const optimizer = new AdamOptimizer(groupsAt(wd), { kind: 'adamw' });
    optimizer.apply(grads, lr);
    optimizer.dispose();
    return new Map(named.map(([key, v]) => [key, Float32Array.from(v.dataSync())]));
  };
  const result = {
    start: new Map(named.map(([key], i) => [key, Float32Array.from(start[i].dataSync())])),
    decayed: after(weightDecay),
    plain: after(0),
  };
  tf.dispose([value, ...start, ...Object.values(grads)]);
  return result;
}

/** Asserts the exempt keys undecayed and all the others decayed; returns both lists for further checks. */
function checkDecay(
  result: ReturnType<typeof stepAt>,
  exempt: (key: string) => boolean,
): { exempt: string[]; decayed: string[] } {
  const lists = { exempt: [] as string[], decayed: [] as string[] };
  for (const [key, plain] of result.plain) {
    const decayed = result.decayed.get(key)!;
    const start = result.start.get(key)!;
    if (exempt(key)) {
      assert.deepEqual(
        decayed,
        plain,
        `${key} is exempt from weight decay but the step with decay ${weightDecay} moved it differently from the step without`,
      );
      lists.exempt.push(key);
      continue;
    }
    let moved = false;
    for (let i = 0; i < plain.length; i++) {
      const expected = plain[i] - lr * weightDecay * start[i];
      assert.ok(
        Math.abs(decayed[i] - expected) <= 1e-5 * (1 + Math.abs(expected)),
        `${key}[${i}]: ${decayed[i]} after the step with decay, expected ${expected} (${plain[i]} without decay − lr·wd·${start[i]})`,
      );
      if (decayed[i] !== plain[i]) moved = true;
    }
    assert.ok(moved, `${key} should decay but the step with decay ${weightDecay} left it as the step without`);
    lists.decayed.push(key);
  }
  return lists;
}

test('regression, full finetuning: biases, norm scales and special tokens are not decayed; every other weight is', () => {
  const model = new RegressionModel(backbone(), {
    prompt: buildPrompt({ template: 'minimal', systemTokens: 0, lightconeTokens: 0, chatIds: null }),
    inputConnector: { kind: 'mlp', depth: 1, width: 4 },
    headDepth: 1,
    headWidth: 4,
    covariance: 'full',
    finetune: 'full',
    seed: 1,
  });
  const tokens = tf.randomNormal<tf.Rank.R2>([3, 5], 0, 1, 'float32', 7);
  const targets = tf.randomUniform<tf.Rank.R2>([3, 6], 0.1, 0.9, 'float32', 8);
  const ratios = { lightcone_connector: 1, special_tokens: 1, head: 1, backbone: 1 };
  const result = stepAt(
    model.namedTrainableWeights(),
    (wd) => model.parameterGroups(ratios, wd),
    () => model.loss(tokens, targets, { training: false }),
  );
  const exempt = (key: string) =>
    key.endsWith('.bias') || /(^model\.norm|_layernorm)\.weight$/.test(key) || key.startsWith('special_tokens.');
  const lists = checkDecay(result, exempt);
  for (const key of [
    'model.layers.0.self_attn.q_proj.bias',
    'model.layers.1.input_layernorm.weight',
    'model.layers.0.post_attention_layernorm.weight',
    'model.norm.weight',
    'input_connector.0.bias',
    'output_connector.1.bias',
    'special_tokens.<|ska-param|>',
  ]) {
    assert.ok(lists.exempt.includes(key), `${key} among the exempt weights: ${lists.exempt.join(', ')}`);
  }
  for (const key of [
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.1.mlp.down_proj.weight',
    'input_connector.0.weight',
    'output_connector.1.weight',
  ]) {
    assert.ok(lists.decayed.includes(key), `${key} among the decayed weights: ${lists.decayed.join(', ')}`);
  }
  tf.dispose([tokens, targets]);
  model.dispose();
});

test('generation, full finetuning: biases are not decayed (the reference exempts names containing "bias"); norm scales and every other weight are', () => {
  const model = new GenerationModel(backbone(), {
    prompt: buildGenerationPrompt({ template: 'minimal', systemTokens: 0, timeStep: true, chatIds: null }),
    patchSize: 2,
    rows: 2,
    cols: 2,
    lightconeConnector: { kind: 'linear', depth: 0, width: 0 },
    parameterConnector: { kind: 'linear', depth: 0, width: 0 },
    timeStepConnector: { kind: 'linear', depth: 0, width: 0 },
    head: { channels: 4, blocks: 1, residualFactor: 2, kernelSize: 3, condChannels: 2 },
    finetune: 'full',
    trainNorms: true,
    seed: 4,
  });
  const inputs = {
    patches: tf.randomNormal<tf.Rank.R4>([2, 3, 4, 4], 0, 1, 'float32', 9),
    params: tf.randomUniform<tf.Rank.R2>([2, 6], 0, 1, 'float32', 10),
    timeSteps: tf.tensor1d([0, 5]),
  };
  const ratios = { lightcone_connector: 1, parameter_connectors: 1, special_tokens: 1, head: 1, backbone: 1 };
  // The special tokens' group has weight decay 0 whatever the config says (prompt tuning as the reference's embeddings).
  const result = stepAt(
    model.namedTrainableWeights(),
    (wd) => model.parameterGroups(ratios, wd),
    () => model.loss(inputs, 1, 11, { training: false }),
  );
  const lists = checkDecay(result, (key) => key.endsWith('.bias') || key.startsWith('special_tokens.'));
  for (const key of [
    'model.layers.0.self_attn.k_proj.bias',
    'cfm_head.conv_in.bias',
    'cond_connector.bias',
    'lightcone_connector.bias',
  ]) {
    assert.ok(lists.exempt.includes(key), `${key} among the exempt weights: ${lists.exempt.join(', ')}`);
  }
  for (const key of [
    'model.layers.0.self_attn.k_proj.weight',
    'model.norm.weight',
    'model.layers.1.input_layernorm.weight',
    'cfm_head.conv_out.weight',
    'cond_connector.weight',
  ]) {
    assert.ok(lists.decayed.includes(key), `${key} among the decayed weights: ${lists.decayed.join(', ')}`);
  }
  tf.dispose(Object.values(inputs));
  model.dispose();
});
