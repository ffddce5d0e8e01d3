// Parameter estimates against counts known independently: Qwen2.5-0.5B's published size, and the
// velocity CNN and Gaussian head counted by hand from their layer shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  estimateParameters,
  qwen2BlockParameters,
  formatCount,
  describeEstimate,
} from '../../schemas/config_estimates';
import { resolveConfig } from '../../schemas/resolve_config';
import { backboneShape, type BackboneShape } from '../../schemas/backbone_shape';

const qwen05: BackboneShape = {
  hidden_size: 896,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  vocab_size: 151936,
  origin: 'checkpoint',
};

test('Qwen2.5-0.5B: 494,032,768 parameters with tied embeddings, as published', () => {
  const e = estimateParameters(resolveConfig({ name: 'q', task: 'regression' }), qwen05);
  assert.equal(e.backbone + e.embeddings, 494_032_768);
  assert.equal(e.embeddings, 151936 * 896);
});

test('one Qwen2 block counted by hand: q/k/v with bias, o, SwiGLU MLP, two norms', () => {
  const shape: BackboneShape = {
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    intermediate_size: 16,
    max_position_embeddings: 64,
    vocab_size: 4,
    origin: 'architecture',
  };
  // q 8×8+8, k 8×4+4, v 8×4+4, o 8×8, gate/up/down 3×8×16, norms 2×8
  assert.equal(qwen2BlockParameters(shape), 72 + 36 + 36 + 64 + 384 + 16);
});

test('regression: Linear(1→h) connector, summary token, Gaussian head of 27 outputs (21 Cholesky entries)', () => {
  const config = resolveConfig({
    name: 'r',
    task: 'regression',
    backbone: {
      source: 'random',
      finetune: 'full',
      architecture: {
        hidden_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 2,
        intermediate_size: 64,
        vocab_size: 1,
      },
    },
    prompt: { template: 'minimal' },
  });
  const e = estimateParameters(config, backboneShape(config)!);
  assert.equal(e.connectors, 2 * 32);
  assert.equal(e.specialTokens, 32);
  assert.equal(e.head, 32 * 27 + 27);
  // The embedding table is never read by L3M inputs, so it does not train (config_estimates_built.test.ts checks the built model).
  assert.equal(e.trainable, e.total - e.embeddings);
});

test('generation: the velocity CNN of the reference (64 channels, 6 blocks, 3×3) and its condition map', () => {
  const config = resolveConfig({
    name: 'g',
    task: 'generation',
    backbone: { source: 'random' },
    data: { patch_size: 14, simulator: { preset: 'half_paper' } },
  });
  const e = estimateParameters(config, qwen05);
  const cnn = 4 * 64 * 9 + 64 + 6 * (64 * 128 * 9 + 128 * 64) + (64 * 9 + 1);
  assert.equal(cnn, 494_465);
  assert.equal(e.head, 897 * 392 + cnn);
  assert.equal(e.connectors, 196 * 896 + 896 + 6 * (2 * 896) + 2 * 896);
});

test('LoRA adds r·(in + out) per adapted layer; frozen trains only the small parts', () => {
  const lora = resolveConfig({
    name: 'l',
    task: 'generation',
    backbone: { finetune: 'lora', lora: { rank: 8, targets: ['q_proj', 'down_proj'], train_norms: false } },
    data: { simulator: { preset: 'half_paper' } },
  });
  const e = estimateParameters(lora, qwen05);
  assert.equal(e.adapters, 24 * 8 * (896 + 896 + (4864 + 896)));
  assert.equal(e.trainable, e.connectors + e.specialTokens + e.head + e.adapters);
  assert.match(describeEstimate(e), /Parameters:\*\* 4\d\dM total/);
  assert.equal(formatCount(32_251), '32.3k');
  assert.equal(formatCount(990_875), '991k');
});
