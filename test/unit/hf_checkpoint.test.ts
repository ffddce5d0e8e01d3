// Loading Hugging Face checkpoint folders: single and sharded files, F32/BF16/F16, and every bad folder
// rejected with a clear error before any weight is allocated (no half-loaded model).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadHfCheckpoint, readHfConfig } from '../../sidecar/checkpoint/hf_checkpoint';
import { SafetensorsFile } from '../../sidecar/checkpoint/safetensors_reader';
import { writeSafetensors } from '../../sidecar/checkpoint/safetensors_writer';
import { fixturesDir } from '../reference/fixtures';
import { parseJson, readJson } from '../read_json';

/** A safetensors header: each tensor's dtype, shape and byte range (plus an optional __metadata__ entry). */
type SafetensorsHeader = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;

let dir: string;
before(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'l3m-hf-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A writable copy of a committed fixture checkpoint. */
function copyOf(fixture: string, name: string): string {
  const target = join(dir, name);
  cpSync(join(fixturesDir, fixture), target, { recursive: true });
  return target;
}

/** Rewrites the single-file checkpoint of `folder` with `edit` applied to its tensor list. */
function rewrite(
  folder: string,
  edit: (tensors: { name: string; shape: number[]; values: () => Float32Array }[]) => void,
): void {
  const path = join(folder, 'model.safetensors');
  const file = new SafetensorsFile(path);
  const tensors = [...file.tensors.values()].map((info) => {
    const data = file.readFloat32(info.name);
    return { name: info.name, shape: info.shape, values: () => data };
  });
  file.close();
  edit(tensors);
  writeSafetensors(path, tensors);
}

/** Asserts that `load` throws `pattern` and allocates nothing. */
function rejects(folder: string, pattern: RegExp): void {
  const before = tf.memory().numTensors;
  assert.throws(() => loadHfCheckpoint(folder), pattern);
  assert.equal(tf.memory().numTensors, before, 'no tensors stay allocated after a failed load');
}

describe('loading HF checkpoints', () => {
  test('single f32, sharded bf16 and f16 folders load with their configs', () => {
    for (const fixture of ['tied_f32', 'untied_bf16_sharded', 'tied_f16']) {
      const { config, model, unusedKeys } = loadHfCheckpoint(join(fixturesDir, fixture));
      assert.equal(config.hiddenSize, 32);
      assert.equal(config.tieWordEmbeddings, fixture !== 'untied_bf16_sharded');
      assert.deepEqual(unusedKeys, []);
      assert.deepEqual(
        model.forward({ inputIds: tf.tensor2d([[1, 2]], [1, 2], 'int32'), returnLogits: true }).logits!.shape,
        [1, 2, 40],
      );
      model.dispose();
    }
  });

  test('bf16 weights arrive as exactly the float32 values they encode', () => {
    const { model } = loadHfCheckpoint(join(fixturesDir, 'untied_bf16_sharded'));
    const index = readJson<{ weight_map: Record<string, string> }>(
      join(fixturesDir, 'untied_bf16_sharded', 'model.safetensors.index.json'),
    );
    const key = 'model.layers.1.mlp.up_proj.weight';
    const file = new SafetensorsFile(join(fixturesDir, 'untied_bf16_sharded', index.weight_map[key]));
    const raw = file.readBytes(key);
    file.close();
    const loaded = new Map(model.namedWeights()).get(key)!.dataSync();
    const bits = new Uint32Array(Float32Array.from(loaded).buffer);
    for (let i = 0; i < bits.length; i++) assert.equal(bits[i] >>> 16, raw[2 * i] | (raw[2 * i + 1] << 8));
    model.dispose();
  });

  test('extra tensors are reported, not fatal (lm_head of a tied model)', () => {
    const folder = copyOf('tied_f32', 'extra');
    rewrite(folder, (t) =>
      t.push({ name: 'lm_head.weight', shape: [40, 32], values: () => new Float32Array(40 * 32) }),
    );
    const { model, unusedKeys } = loadHfCheckpoint(folder);
    assert.deepEqual(unusedKeys, ['lm_head.weight']);
    model.dispose();
  });
});

describe('bad checkpoint folders', () => {
  test('no config.json', () => {
    const folder = copyOf('tied_f32', 'no-config');
    unlinkSync(join(folder, 'config.json'));
    rejects(folder, /Checkpoint folder .*no-config has no config.json/);
  });

  test('invalid config.json names the file', () => {
    const folder = copyOf('tied_f32', 'bad-config');
    writeFileSync(join(folder, 'config.json'), '{"hidden_size": ');
    assert.throws(() => readHfConfig(folder), /bad-config\/config.json: not valid JSON/);
  });

  test('no weights', () => {
    const folder = copyOf('tied_f32', 'no-weights');
    unlinkSync(join(folder, 'model.safetensors'));
    rejects(folder, /has neither model.safetensors nor model.safetensors.index.json/);
  });

  test('a missing tensor is named with its expected shape', () => {
    const folder = copyOf('tied_f32', 'missing');
    rewrite(folder, (t) =>
      t.splice(
        t.findIndex((x) => x.name === 'model.layers.1.self_attn.v_proj.bias'),
        1,
      ),
    );
    rejects(folder, /missing tensor "model.layers.1.self_attn.v_proj.bias" \(expected shape \[16\]\)/);
  });

  test('a mis-shaped tensor is named with expected and found shapes', () => {
    const folder = copyOf('tied_f32', 'misshaped');
    rewrite(folder, (t) => {
      const i = t.findIndex((x) => x.name === 'model.layers.0.mlp.gate_proj.weight');
      t[i] = { name: t[i].name, shape: [32, 48], values: t[i].values };
    });
    rejects(folder, /"model.layers.0.mlp.gate_proj.weight" in .*: expected shape \[48, 32\], found \[32, 48\]/);
  });

  test('a truncated file is named', () => {
    const folder = copyOf('tied_f32', 'truncated');
    const path = join(folder, 'model.safetensors');
    truncateSync(path, readFileSync(path).length - 100);
    rejects(folder, /Safetensors file .*truncated\/model.safetensors: tensor .* past the end of the data/);
  });

  test('an unsupported dtype is named with the tensor and the file', () => {
    const folder = copyOf('tied_f32', 'int-weights');
    const path = join(folder, 'model.safetensors');
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = parseJson<SafetensorsHeader>(bytes.subarray(8, 8 + headerLength).toString());
    header['model.layers.0.self_attn.o_proj.weight'].dtype = 'I32'; // same width as F32, so offsets stay valid
    const json = JSON.stringify(header).padEnd(headerLength, ' ');
    assert.equal(json.length, headerLength);
    Buffer.from(json).copy(bytes, 8);
    writeFileSync(path, bytes);
    rejects(
      folder,
      /"model.layers.0.self_attn.o_proj.weight" in .*int-weights\/model.safetensors has dtype I32; supported: F32, F16, BF16/,
    );
  });

  test('a shard index pointing at a missing shard', () => {
    const folder = copyOf('untied_bf16_sharded', 'missing-shard');
    unlinkSync(join(folder, 'model-00002-of-00003.safetensors'));
    rejects(folder, /shard model-00002-of-00003.safetensors .* does not exist/);
  });
});
