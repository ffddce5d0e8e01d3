// Damaged checkpoints and configs: directories where files belong, metadata with null or mistyped fields,
// impossible tensor shapes and a null config.json. Each is refused with an error naming the file, what was
// found and what was expected, before any weight is used. FIFOs are covered by input_fifos.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assignNamedWeights,
  loadCheckpoint,
  readCheckpointMetadata,
  saveCheckpoint,
} from '../../sidecar/checkpoint/checkpoint';
import { loadHfCheckpoint, readHfConfig } from '../../sidecar/checkpoint/hf_checkpoint';
import { SafetensorsFile } from '../../sidecar/checkpoint/safetensors_reader';
import { Qwen2Model } from '../../sidecar/model/qwen2_model';
import { qwen2Config } from '../../sidecar/model/qwen2_config';
import { fixturesDir } from '../reference/fixtures';

const config = qwen2Config({
  vocabSize: 20,
  hiddenSize: 16,
  numHiddenLayers: 1,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  intermediateSize: 24,
});
let dir: string;
before(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'l3m-bad-ckpt-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A complete checkpoint `name` in a fresh folder, its metadata JSON then edited by `edit`. */
async function checkpointWith(name: string, edit: (metadata: Record<string, unknown>) => void): Promise<string> {
  const folder = join(dir, name);
  const model = Qwen2Model.random(config, 1);
  await saveCheckpoint({
    dir: folder,
    name: 'step-000001',
    config,
    step: 1,
    weights: model.namedWeights(),
    extra: { trainer: {} },
  });
  model.dispose();
  const path = join(folder, 'step-000001.json');
  const metadata = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(metadata);
  writeFileSync(path, JSON.stringify(metadata));
  return folder;
}

describe('checkpoint metadata', () => {
  test('null and mistyped fields are named with what was found and expected', async () => {
    const cases: [string, (m: Record<string, unknown>) => void, RegExp][] = [
      [
        'extra-null',
        (m) => {
          m.extra = null;
        },
        /"extra" is null; expected an object \(what the trainer saved/,
      ],
      [
        'extra-array',
        (m) => {
          m.extra = [1];
        },
        /"extra" is an array; expected an object/,
      ],
      [
        'config-null',
        (m) => {
          m.config = null;
        },
        /"config" is null; expected an object \(the model architecture/,
      ],
      [
        'config-bad',
        (m) => {
          (m.config as Record<string, unknown>).hiddenSize = -4;
        },
        /hiddenSize/,
      ],
      [
        'config-field-missing',
        (m) => {
          delete (m.config as Record<string, unknown>).causal;
        },
        /"config\.causal" is missing; expected true or false/,
      ],
      [
        'config-field-mistyped',
        (m) => {
          (m.config as Record<string, unknown>).ropeTheta = '1e6';
        },
        /"config\.ropeTheta" is "1e6"; expected a number/,
      ],
      [
        'saved-at',
        (m) => {
          m.savedAt = 5;
        },
        /"savedAt" is 5; expected the time of writing/,
      ],
      [
        'contents',
        (m) => {
          m.contents = [{ file: 'x' }];
        },
        /"contents" is .*; expected a list of \{file, bytes, sha256\}/,
      ],
      [
        'lora',
        (m) => {
          m.lora = { rank: 2 };
        },
        /"lora" is \{"rank":2\}; expected null or \{rank, alpha, targets\}/,
      ],
    ];
    for (const [name, edit, expected] of cases) {
      const folder = await checkpointWith(name, edit);
      assert.throws(
        () => readCheckpointMetadata(folder, 'step-000001'),
        (error: Error) => {
          assert.ok(
            error.message.includes(join(folder, 'step-000001.json')),
            `${name}: names the file: ${error.message}`,
          );
          assert.match(error.message, expected, name);
          return true;
        },
        name,
      );
    }
  });

  test('a directory in place of the metadata or the weights is named as a directory', async () => {
    const metadataDir = join(dir, 'metadata-dir');
    mkdirSync(join(metadataDir, 'step-000001.json'), { recursive: true });
    assert.throws(
      () => readCheckpointMetadata(metadataDir, 'step-000001'),
      /step-000001\.json: is a directory, not a regular file; expected the metadata JSON of a checkpoint/,
    );
    let weightsFile = '';
    const weightsDir = await checkpointWith('weights-dir', (m) => {
      weightsFile = m.weightsFile as string;
    });
    unlinkSync(join(weightsDir, weightsFile));
    mkdirSync(join(weightsDir, weightsFile));
    assert.throws(
      () => loadCheckpoint(weightsDir, 'step-000001'),
      (error: Error) =>
        error.message.includes(join(weightsDir, weightsFile)) &&
        /is a directory, not a regular file; expected a safetensors file/.test(error.message),
    );
  });

  test('a tensor whose shape does not match the model names the weights file', async () => {
    let weightsFile = '';
    const folder = await checkpointWith('shape', (m) => {
      weightsFile = m.weightsFile as string;
    });
    const wider = Qwen2Model.random({ ...config, intermediateSize: 32 }, 2);
    const loaded = loadCheckpoint(folder, 'step-000001');
    assert.throws(
      () => assignNamedWeights(wider.namedWeights(), loaded.weights, join(folder, weightsFile)),
      /step-000001\.[0-9a-f]+\.safetensors: tensor "model\.layers\.0\.mlp\.\w+_proj\.weight": expected shape \[32, 16\], found \[24, 16\]/,
    );
    tf.dispose([...loaded.weights.values()]);
    wider.dispose();
  });
});

describe('safetensors and Hugging Face folders', () => {
  /** A header-only safetensors file with one tensor entry. */
  function withEntry(name: string, entry: unknown, dataBytes: number): string {
    const json = Buffer.from(JSON.stringify({ w: entry }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat([length, json, Buffer.alloc(dataBytes)]));
    return path;
  }

  test('a shape whose size no file can hold is named as such', () => {
    const path = withEntry(
      'huge.safetensors',
      { dtype: 'F32', shape: [2 ** 31, 2 ** 31, 2 ** 31], data_offsets: [0, 8] },
      8,
    );
    assert.throws(
      () => new SafetensorsFile(path),
      (error: Error) =>
        error.message.includes(path) &&
        /tensor "w" has shape \[2147483648, 2147483648, 2147483648\] of F32, more bytes than any file holds/.test(
          error.message,
        ),
    );
  });

  test('a directory in place of config.json or the weights, a null config.json or shard index', () => {
    const configDir = join(dir, 'config-dir');
    cpSync(join(fixturesDir, 'tied_f32'), configDir, { recursive: true });
    unlinkSync(join(configDir, 'config.json'));
    mkdirSync(join(configDir, 'config.json'));
    assert.throws(
      () => readHfConfig(configDir),
      /config\.json: is a directory, not a regular file; expected the config\.json of a Hugging Face Qwen2 checkpoint/,
    );

    const weightsDir = join(dir, 'weights-dir');
    cpSync(join(fixturesDir, 'tied_f32'), weightsDir, { recursive: true });
    unlinkSync(join(weightsDir, 'model.safetensors'));
    mkdirSync(join(weightsDir, 'model.safetensors'));
    assert.throws(
      () => loadHfCheckpoint(weightsDir),
      /model\.safetensors: is a directory, not a regular file; expected a safetensors file/,
    );

    const nullConfig = join(dir, 'null-config');
    cpSync(join(fixturesDir, 'tied_f32'), nullConfig, { recursive: true });
    writeFileSync(join(nullConfig, 'config.json'), 'null');
    assert.throws(() => readHfConfig(nullConfig), /config\.json: expected a JSON object, got null/);
    cpSync(join(fixturesDir, 'tied_f32', 'config.json'), join(nullConfig, 'config.json'));
    writeFileSync(join(nullConfig, 'model.safetensors.index.json'), 'null');
    assert.throws(() => loadHfCheckpoint(nullConfig), /model\.safetensors\.index\.json: no "weight_map" object/);
  });
});
