// The training memory estimate against values counted by hand from the tensors each layer keeps for its
// backward pass (schemas/memory_estimate.ts lists them), for a tiny generation config with LoRA, with and
// without attention dropout and activation recomputation, and at the paper's shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../schemas/resolve_config';
import { backboneShape } from '../../schemas/backbone_shape';
import { estimateParameters } from '../../schemas/config_estimates';
import {
  blockActivationFloats,
  blockActivationHalves,
  attentionQueryBlockRows,
  estimateTrainingMemory,
  describeMemory,
  trainingSequenceLength,
  wasmHeapLimitBytes,
  wasmHeapOverhead,
  fitsWasmHeap,
} from '../../schemas/memory_estimate';
import { readFileSync } from 'node:fs';

// Hidden 32, 4 query / 2 key-value heads (kv width 16), MLP 64, LoRA r = 8 on all seven projections; 16-cell
// slices of 4-cell patches (4 × 4 patches, 21 tokens a slice), windows of 3 slices, 1 of them context.
function tinyConfig(overrides: { dropout?: number; recompute?: boolean; batch?: number } = {}) {
  return resolveConfig({
    name: 'tiny',
    task: 'generation',
    backbone: {
      source: 'random',
      finetune: 'lora',
      attention_dropout: overrides.dropout ?? 0,
      lora: { rank: 8 },
      architecture: {
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        intermediate_size: 64,
        vocab_size: 64,
      },
    },
    prompt: { template: 'minimal' },
    head: { kind: 'cfm', channels: 8, blocks: 2, cond_channels: 2 },
    data: {
      source: 'simulator',
      simulator: { preset: 'global_signal', count: 4 },
      patch_size: 4,
      sublightcone: { length: 3, context: 1 },
      cache_mb: 8,
    },
    training: { batch_size: overrides.batch ?? 1, recompute_activations: overrides.recompute ?? false },
  });
}

test('sequence length: 8 prompt tokens (minimal) + 3 slices × (16 patches + 4 row separators + 1 slice separator)', () => {
  assert.equal(trainingSequenceLength(tinyConfig()), 8 + 3 * 21);
});

test("a block's saved floats, counted by hand: per token 14H + 4kv + 4I + 6 + Σ (r + 3·out), per head 3T² (7T² with dropout)", () => {
  const config = tinyConfig();
  const shape = backboneShape(config)!;
  const T = 71;
  const perToken = 14 * 32 + 4 * 16 + 4 * 64 + 6;
  // q, o, down give 32 outputs; k, v 16; gate, up 64.
  const lora = 7 * 8 + 3 * (32 + 16 + 16 + 32 + 64 + 64 + 32);
  assert.equal(blockActivationFloats(config, shape, 1, T), T * (perToken + lora) + 3 * 4 * T * T);
  assert.equal(blockActivationFloats(tinyConfig({ dropout: 0.1 }), shape, 1, T), T * (perToken + lora) + 7 * 4 * T * T);
  assert.equal(blockActivationFloats(config, shape, 2, T), 2 * blockActivationFloats(config, shape, 1, T));
});

test('attention longer than a query block keeps no map, and counts its blocks in the backward pass; dropout keeps the plain path', () => {
  const config = tinyConfig();
  const shape = backboneShape(config)!;
  const T = attentionQueryBlockRows + 45;
  const plainShort = blockActivationHalves(config, shape, 1, attentionQueryBlockRows);
  assert.equal(plainShort.attentionTransient, 0, 'a sequence of one block takes the plain path');
  const blocked = blockActivationHalves(config, shape, 2, T);
  const perToken = blockActivationHalves(config, shape, 2, 1).attention - 2 * 3 * 4;
  assert.equal(blocked.attention, T * perToken, 'no attention map is kept');
  assert.equal(blocked.attentionTransient, 10 * 2 * 4 * attentionQueryBlockRows * T);
  const dropping = blockActivationHalves(tinyConfig({ dropout: 0.1 }), shape, 2, T);
  assert.equal(dropping.attention, T * perToken + 2 * 7 * 4 * T * T);
  assert.equal(dropping.attentionTransient, 0);
});

test('the whole estimate: weights, Adam, activations of both blocks and the CNN; recomputation keeps block inputs only', () => {
  const config = tinyConfig();
  const shape = backboneShape(config)!;
  const parameters = estimateParameters(config, shape);
  const plain = estimateTrainingMemory(config, shape, parameters)!;
  assert.equal(plain.weightsBytes, 4 * parameters.total);
  assert.equal(plain.optimizerBytes, 12 * parameters.trainable);
  assert.equal(plain.dataBytes, 8 * 2 ** 20);
  // 2 blocks + 32 predicted patches of 16 pixels through the CNN: 2(cond + 2) + 4C + 5 + blocks(3f + 4)C floats each.
  const T = 71;
  const block = blockActivationFloats(config, shape, 1, T);
  const cnn = 32 * 16 * (2 * 4 + 4 * 8 + 5 + 2 * 10 * 8);
  const outside = plain.activationBytes / 4 - 2 * block - cnn;
  // The rest: the patch connector's input and outputs, separators and windows (3 slices); the final norm (4H + 3 a
  // token); the hidden states before each patch, their rows and the condition map; the flow's noise and path.
  const connectors = 3 * (16 * (16 + 2 * 32) + 4 * 32 + 20 * 32 + 32 + 21 * 32);
  const finalNorm = T * (4 * 32 + 3);
  const condition = 3 * 21 * 32 + 2 * 20 * 32 + 32 * 32;
  const flow = 2 * 32 * 2 * 16 + 7 * 32 * 16 + 2 * 32;
  assert.equal(outside, connectors + finalNorm + condition + flow);
  const recomputed = estimateTrainingMemory(tinyConfig({ recompute: true }), shape, parameters)!;
  // Each of the 2 blocks keeps the inputs of its 2 halves (T × H each); the CNN keeps x, τ and the condition.
  assert.equal(recomputed.activationBytes / 4, 2 * 2 * T * 32 + outside + 32 * 16 * 3 + 32);
  const halves = blockActivationHalves(config, shape, 1, T);
  assert.equal(halves.attention + halves.mlp, block);
  assert.ok(
    recomputed.backwardBytes / 4 >= 2 * Math.max(halves.attention, halves.mlp),
    'the backward pass holds one half block and its gradients at a time',
  );
  assert.ok(recomputed.backwardBytes < plain.backwardBytes);
  assert.equal(
    plain.totalBytes,
    plain.weightsBytes +
      plain.optimizerBytes +
      plain.activationBytes +
      plain.backwardBytes +
      plain.dataBytes +
      plain.processBytes,
  );
});

test("the paper's setup: one 1353-token window fits the wasm heap with blocked attention (as measured), two do not, dropout's plain path does not, and none fits RAM without recomputation", () => {
  const raw = JSON.parse(readFileSync('examples/generation-paper-scale-cpu.l3m.json', 'utf8')) as {
    backbone: Record<string, unknown>;
    training: Record<string, unknown>;
    data: Record<string, unknown>;
  };
  const at = (batch: number, recompute: boolean, slices = 12, dropout = 0) => {
    const config = resolveConfig({
      ...raw,
      backbone: { ...raw.backbone, attention_dropout: dropout },
      data: {
        ...raw.data,
        sublightcone: { length: slices, context: 2, stride: null },
      },
      training: { ...raw.training, batch_size: batch, recompute_activations: recompute },
    });
    const shape = backboneShape(config)!;
    return estimateTrainingMemory(config, shape, estimateParameters(config, shape))!;
  };
  const one = at(1, true);
  assert.equal(one.sequenceLength, 21 + 12 * 111);
  // Blocked attention: the heap's growth in the recomputed backward pass is about two MLP-wide matrices a block.
  assert.equal(one.heapSlackBytes, 4 * 24 * 2 * 896 * 4864);
  assert.ok(fitsWasmHeap(one), describeMemory(one));
  assert.ok(one.tensorBytes * wasmHeapOverhead + one.heapSlackBytes < wasmHeapLimitBytes);
  assert.ok(!fitsWasmHeap(at(2, true)), 'two 1353-token windows do not fit');
  // With attention dropout the plain path keeps its maps, and the heap grows by one map a block.
  const dropping = at(1, true, 12, 0.01);
  assert.equal(dropping.heapSlackBytes, 4 * 24 * 14 * 1353 * 1353);
  assert.ok(!fitsWasmHeap(dropping), describeMemory(dropping));
  assert.ok(fitsWasmHeap(at(1, true, 8, 0.01)), describeMemory(at(1, true, 8, 0.01)));
  assert.ok(at(1, false).tensorBytes > 20 * 2 ** 30, 'without recomputation a window keeps over 20 GiB');
  assert.match(describeMemory(at(1, false)), /over the wasm backend/);
});
