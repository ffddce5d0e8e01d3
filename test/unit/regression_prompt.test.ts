// Prompt templates of Sec. 4.1 and the regression model's parameter groups: the layouts for minimal,
// chat (tokenizer ids or trainable stand-ins) and chat with trainable tokens; the summary token last;
// the paper's 26.9k trainable parameters for a Qwen2.5-0.5B-wide frozen backbone.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  buildPrompt,
  promptLength,
  summaryTokenName,
  trainableTokenNames,
} from '../../sidecar/tasks/regression/prompt_template';
import { RegressionModel } from '../../sidecar/tasks/regression/regression_model';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';

before(async () => {
  await tf.setBackend('cpu');
});

const chatIds = { imStart: 100, imEnd: 101, system: 5, user: 6, assistant: 7, newline: 8 };

test('minimal: lightcone then <|ska-param|>', () => {
  const prompt = buildPrompt({ template: 'minimal', systemTokens: 3, lightconeTokens: 3, chatIds });
  assert.deepEqual(prompt, [{ kind: 'lightcone' }, { kind: 'trainable', names: [summaryTokenName] }]);
  assert.equal(promptLength(prompt, 47), 48);
});

test('chat with tokenizer ids follows the Qwen chat template with an empty system turn', () => {
  const prompt = buildPrompt({ template: 'chat', systemTokens: 0, lightconeTokens: 0, chatIds });
  assert.deepEqual(prompt, [
    { kind: 'text', ids: [100, 5, 8, 101, 8, 100, 6, 8] }, // <|im_start|>system\n<|im_end|>\n<|im_start|>user\n
    { kind: 'lightcone' },
    { kind: 'text', ids: [101, 8, 100, 7, 8] }, // <|im_end|>\n<|im_start|>assistant\n
    { kind: 'trainable', names: [summaryTokenName] },
  ]);
  assert.equal(promptLength(prompt, 47), 47 + 14);
});

test('chat on a random backbone uses trainable stand-ins for the chat pieces', () => {
  const prompt = buildPrompt({ template: 'chat', systemTokens: 0, lightconeTokens: 0, chatIds: null });
  assert.ok(prompt.every((s) => s.kind !== 'text'));
  assert.deepEqual(trainableTokenNames(prompt), [
    '<|im_start|>',
    'system',
    '\\n',
    '<|im_end|>',
    'user',
    'assistant',
    summaryTokenName,
  ]);
  assert.equal(promptLength(prompt, 10), 10 + 14);
});

test('chat_trainable places system-prompt tokens in the system turn and lightcone tokens before the lightcone', () => {
  const prompt = buildPrompt({ template: 'chat_trainable', systemTokens: 2, lightconeTokens: 1, chatIds });
  assert.deepEqual(prompt.slice(0, 4), [
    { kind: 'text', ids: [100, 5, 8] },
    { kind: 'trainable', names: ['<|system-prompt-token|>0', '<|system-prompt-token|>1'] },
    { kind: 'text', ids: [101, 8, 100, 6, 8] },
    { kind: 'trainable', names: ['<|lightcone-token|>0'] },
  ]);
  assert.deepEqual(prompt[4], { kind: 'lightcone' });
  assert.throws(
    () => buildPrompt({ template: 'chat_trainable', systemTokens: -1, lightconeTokens: 0, chatIds }),
    /trainable_system_tokens must be an integer ≥ 0/,
  );
  assert.throws(
    () => buildPrompt({ template: 'fancy' as 'chat', systemTokens: 0, lightconeTokens: 0, chatIds }),
    /unknown/,
  );
});

test("a frozen Qwen2.5-0.5B-wide backbone trains 26,907 parameters (the paper's 26.9k), in three groups", () => {
  const backbone = Qwen2Model.random(
    qwen2Config({
      vocabSize: 4,
      hiddenSize: 896,
      numHiddenLayers: 1,
      numAttentionHeads: 14,
      numKeyValueHeads: 2,
      intermediateSize: 64,
    }),
    1,
  );
  const model = new RegressionModel(backbone, {
    prompt: buildPrompt({ template: 'minimal', systemTokens: 0, lightconeTokens: 0, chatIds: null }),
    inputConnector: { kind: 'linear', depth: 1, width: 64 },
    headDepth: 0,
    headWidth: 64,
    covariance: 'full',
    finetune: 'frozen',
    seed: 1,
  });
  // Linear(1, 896) + <|ska-param|> + Linear(896, 27).
  assert.equal(model.trainableParameterCount(), 2 * 896 + 896 + 896 * 27 + 27);
  const groups = model.parameterGroups({ lightcone_connector: 1, special_tokens: 1, head: 0.5, backbone: 1 }, 0);
  assert.deepEqual(
    groups.map((g) => [g.name, g.lrRatio]),
    [
      ['lightcone_connector', 1],
      ['special_tokens', 1],
      ['head', 0.5],
    ],
  );
  const tokens = tf.randomNormal<tf.Rank.R2>([2, 5], 0, 1, 'float32', 3);
  const raw = model.rawOutputs(tokens, { training: false });
  assert.deepEqual(raw.shape, [2, 27]);
  assert.equal(model.inputsEmbeds(tokens).shape[1], 6);
  tf.dispose([tokens, raw]);
  model.dispose();
});

test('reference preset (scratch): every backbone weight trains, and an MLP connector and diagonal head have the right shapes', async () => {
  const backbone = Qwen2Model.random(
    qwen2Config({
      vocabSize: 1,
      hiddenSize: 8,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      numKeyValueHeads: 2,
      intermediateSize: 16,
      causal: false,
    }),
    2,
  );
  const model = new RegressionModel(backbone, {
    prompt: buildPrompt({ template: 'minimal', systemTokens: 0, lightconeTokens: 0, chatIds: null }),
    inputConnector: { kind: 'mlp', depth: 1, width: 4 },
    headDepth: 1,
    headWidth: 4,
    covariance: 'diagonal',
    finetune: 'scratch',
    seed: 1,
  });
  const names = model.namedTrainableWeights().map(([n]) => n);
  assert.ok(names.includes('model.layers.0.self_attn.q_proj.weight'));
  assert.ok(names.includes('model.embed_tokens.weight'));
  assert.ok(names.includes('input_connector.2.weight'));
  const tokens = tf.ones<tf.Rank.R2>([3, 4]);
  const raw = model.rawOutputs(tokens, { training: false });
  assert.deepEqual(raw.shape, [3, 12]);
  const { cholesky } = await model.predict(tokens);
  for (let b = 0; b < 3; b++)
    for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) assert.equal(cholesky[b * 36 + i * 6 + j], 0);
  tf.dispose([tokens, raw]);
  model.dispose();
});
