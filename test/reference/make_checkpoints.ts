// Writes the tiny Qwen2 checkpoints, LoRA adapter and inputs that the parity tests and the PyTorch reference
// (reference_qwen2.py) share. Deterministic (own PRNG), so re-running it reproduces the committed files:
//   node --import tsx test/reference/make_checkpoints.ts && /usr/bin/python3 test/reference/reference_qwen2.py
// Weights are drawn wider than HF's init (std 0.02) on purpose: biases non-zero, norm scales away from one and
// attention far from uniform, so that every convention (rotary pairing, GQA grouping, mask, tied head) shows in
// the numbers.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qwen2Config, toHfConfig, type Qwen2Config } from '../../sidecar/model/qwen2_config';
import { qwen2WeightShapes, loraTargetNames } from '../../sidecar/model/qwen2_model';
import { writeSafetensors, type TensorToWrite } from '../../sidecar/checkpoint/safetensors_writer';
import type { FloatDtype } from '../../sidecar/checkpoint/safetensors_dtype';

export const fixturesDir = join(__dirname, 'fixtures');

/** mulberry32 + Box-Muller: a small seeded normal generator independent of any backend. */
function normalGenerator(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

function fill(count: number, next: () => number, std: number, mean = 0): Float32Array {
  return Float32Array.from({ length: count }, () => mean + std * next());
}

/** The tiny architecture: GQA with 2 query heads per KV head, head width 8. */
export const tinyConfig = (tie: boolean): Qwen2Config =>
  qwen2Config({
    vocabSize: 40,
    hiddenSize: 32,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    intermediateSize: 48,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: tie,
  });

function weightTensors(config: Qwen2Config, seed: number, dtype: FloatDtype): TensorToWrite[] {
  const next = normalGenerator(seed);
  return [...qwen2WeightShapes(config)].map(([name, shape]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const values =
      name.endsWith('layernorm.weight') || name === 'model.norm.weight'
        ? fill(count, next, 0.2, 1)
        : name.endsWith('.bias')
          ? fill(count, next, 0.2)
          : name.includes('embed_tokens') || name === 'lm_head.weight'
            ? fill(count, next, 0.5)
            : fill(count, next, (1 / Math.sqrt(shape[1])) * 1.5);
    return { name, shape, values: () => values, dtype };
  });
}

function writeHfFolder(folder: string, config: Qwen2Config, seed: number, dtype: FloatDtype, shards: number): void {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'config.json'),
    JSON.stringify({ ...toHfConfig(config), torch_dtype: dtype === 'BF16' ? 'bfloat16' : 'float32' }, null, 2) + '\n',
  );
  const tensors = weightTensors(config, seed, dtype);
  if (shards === 1) {
    writeSafetensors(join(folder, 'model.safetensors'), tensors, { format: 'pt' });
    return;
  }
  const weightMap: Record<string, string> = {};
  const perShard = Math.ceil(tensors.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(s * perShard, (s + 1) * perShard);
    writeSafetensors(join(folder, file), part, { format: 'pt' });
    for (const t of part) weightMap[t.name] = file;
  }
  writeFileSync(
    join(folder, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2) + '\n',
  );
}

/** A LoRA adapter on every linear layer with non-zero B (rank 2, alpha 4), peft key names. */
function writeAdapter(path: string, config: Qwen2Config, seed: number): void {
  const next = normalGenerator(seed);
  const rank = 2;
  const tensors: TensorToWrite[] = [];
  for (const [name, shape] of qwen2WeightShapes(config)) {
    const target = name.split('.').at(-2)!;
    if (!name.endsWith('.weight') || !(loraTargetNames as readonly string[]).includes(target)) continue;
    const prefix = name.slice(0, -'.weight'.length);
    const a = fill(rank * shape[1], next, 1 / Math.sqrt(shape[1]));
    const b = fill(shape[0] * rank, next, 0.3);
    tensors.push({ name: `${prefix}.lora_A.weight`, shape: [rank, shape[1]], values: () => a });
    tensors.push({ name: `${prefix}.lora_B.weight`, shape: [shape[0], rank], values: () => b });
  }
  writeSafetensors(path, tensors, { rank: String(rank), alpha: '4' });
}

export const batch = 2;
export const length = 7;

function main(): void {
  mkdirSync(fixturesDir, { recursive: true });
  const tied = tinyConfig(true);
  const untied = tinyConfig(false);
  writeHfFolder(join(fixturesDir, 'tied_f32'), tied, 11, 'F32', 1);
  writeHfFolder(join(fixturesDir, 'untied_bf16_sharded'), untied, 22, 'BF16', 3);
  writeHfFolder(join(fixturesDir, 'tied_f16'), tied, 33, 'F16', 1);
  writeAdapter(join(fixturesDir, 'lora_adapter.safetensors'), tied, 44);
  const next = normalGenerator(55);
  const ids = Array.from({ length: batch }, (_, b) =>
    Array.from({ length }, (_, t) => (7 * b + 5 * t + 3) % tied.vocabSize),
  );
  const probe = fill(batch * length * tied.hiddenSize, next, 1);
  const vectors = fill(batch * 2 * tied.hiddenSize, next, 1);
  writeFileSync(
    join(fixturesDir, 'inputs.json'),
    JSON.stringify(
      {
        ids,
        vectorPositions: [1, 4],
        cachePrefix: 4,
        note: 'probe (B, T, H): loss = sum(hidden * probe); vectors (B, 2, H) replace the embeddings at vectorPositions',
      },
      null,
      2,
    ) + '\n',
  );
  writeSafetensors(join(fixturesDir, 'inputs.safetensors'), [
    { name: 'probe', shape: [batch, length, tied.hiddenSize], values: () => probe },
    { name: 'vectors', shape: [batch, 2, tied.hiddenSize], values: () => vectors },
  ]);
  console.log(`wrote fixtures under ${fixturesDir}`);
}

if (require.main === module) main();
