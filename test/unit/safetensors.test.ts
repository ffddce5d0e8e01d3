// The safetensors reader and writer: round trips in F32/BF16/F16, the header layout of the spec, and every
// kind of corrupt file rejected with an error naming the file and the problem.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SafetensorsFile } from '../../sidecar/checkpoint/safetensors_reader';
import { writeSafetensors } from '../../sidecar/checkpoint/safetensors_writer';
import {
  encodeFromFloat32,
  decodeToFloat32,
  floatToHalf,
  halfToFloat,
} from '../../sidecar/checkpoint/safetensors_dtype';
import { parseJson } from '../read_json';

let dir: string;
before(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'l3m-safetensors-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const values = Float32Array.from([0, 1, -2.5, 3.140625, 1e-3, -65504, 1 / 3, 1e-8]);

/** A file with a hand-written header, to build corrupt inputs. */
function rawFile(name: string, header: unknown, dataBytes: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([length, json, Buffer.alloc(dataBytes)]));
  return path;
}

describe('dtype conversion', () => {
  test('F16 and BF16 encode with round-to-nearest-even and decode exactly', () => {
    assert.equal(floatToHalf(1), 0x3c00);
    assert.equal(floatToHalf(-2), 0xc000);
    assert.equal(floatToHalf(65504), 0x7bff);
    assert.equal(floatToHalf(1e6), 0x7c00);
    assert.equal(halfToFloat(0x0001), 2 ** -24);
    assert.equal(halfToFloat(floatToHalf(1 + 2 ** -11)), 1, 'a tie rounds to even');
    const bf16 = decodeToFloat32(
      encodeFromFloat32(Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.140625]), 'BF16'),
      'BF16',
    );
    assert.deepEqual(Array.from(bf16), [1, 1 + 4 * 2 ** -8, 3.140625]);
  });
});

describe('writer and reader', () => {
  for (const dtype of ['F32', 'BF16', 'F16'] as const) {
    test(`round trip ${dtype}`, () => {
      const path = join(dir, `round-${dtype}.safetensors`);
      writeSafetensors(
        path,
        [
          { name: 'a', shape: [2, 4], values: () => values, dtype },
          { name: 'scalar', shape: [], values: () => Float32Array.from([7]), dtype },
        ],
        { format: 'pt' },
      );
      const file = new SafetensorsFile(path);
      assert.deepEqual(file.metadata, { format: 'pt' });
      assert.equal(file.info('a').dtype, dtype);
      const read = file.readTensor('a');
      assert.deepEqual(read.shape, [2, 4]);
      const expected = dtype === 'F32' ? values : decodeToFloat32(encodeFromFloat32(values, dtype), dtype);
      assert.deepEqual(Array.from(read.dataSync()), Array.from(expected));
      assert.deepEqual(Array.from(file.readTensor('scalar').dataSync()), [7]);
      file.close();
    });
  }

  test('header is padded with spaces to 8 bytes; no temporary file is left', () => {
    const path = join(dir, 'layout.safetensors');
    writeSafetensors(path, [{ name: 'x', shape: [3], values: () => Float32Array.from([1, 2, 3]) }]);
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    const header = parseJson<Record<string, unknown>>(bytes.subarray(8, 8 + headerLength).toString());
    assert.deepEqual(header.x, { dtype: 'F32', shape: [3], data_offsets: [0, 12] });
    assert.equal(bytes.length, 8 + headerLength + 12);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('.tmp-')),
      [],
    );
  });

  test('a failed write leaves neither the target nor a temporary file', () => {
    const path = join(dir, 'failed.safetensors');
    assert.throws(
      () => writeSafetensors(path, [{ name: 'x', shape: [4], values: () => Float32Array.from([1]) }]),
      /has 1 values but shape \[4\]/,
    );
    assert.ok(!readdirSync(dir).some((f) => f.includes('failed')));
  });
});

describe('corrupt files', () => {
  test('truncated data', () => {
    const path = join(dir, 'truncated.safetensors');
    writeSafetensors(path, [{ name: 'w', shape: [16], values: () => new Float32Array(16) }]);
    truncateSync(path, readFileSync(path).length - 10);
    assert.throws(
      () => new SafetensorsFile(path),
      (e: Error) => e.message.includes(path) && /past the end of the data/.test(e.message),
    );
  });

  test('truncated header and tiny files', () => {
    const path = join(dir, 'short.safetensors');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    assert.throws(() => new SafetensorsFile(path), /shorter than the 8-byte header length/);
    const header = rawFile('header.safetensors', { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4);
    truncateSync(header, 20);
    assert.throws(() => new SafetensorsFile(header), /the header claims \d+ bytes/);
  });

  test('a header that lies about offsets: wrong size, overlap', () => {
    const wrongSize = rawFile('size.safetensors', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }, 16);
    assert.throws(() => new SafetensorsFile(wrongSize), /header lies about tensor "w".*hold 12 bytes.*needs 16/);
    const overlap = rawFile(
      'overlap.safetensors',
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      12,
    );
    assert.throws(() => new SafetensorsFile(overlap), /tensors "a" and "b" overlap/);
  });

  test('malformed JSON and entries', () => {
    const path = join(dir, 'json.safetensors');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(5n);
    writeFileSync(path, Buffer.concat([length, Buffer.from('{nope')]));
    assert.throws(() => new SafetensorsFile(path), /not valid JSON/);
    const entry = rawFile('entry.safetensors', { w: { dtype: 'F32', shape: 'big' } }, 0);
    assert.throws(() => new SafetensorsFile(entry), /malformed header entry/);
  });

  test('unknown and unsupported dtypes', () => {
    const unknown = rawFile('unknown.safetensors', { w: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }, 2);
    assert.throws(() => new SafetensorsFile(unknown), /unknown dtype "Q4"/);
    const int64 = rawFile('int64.safetensors', { w: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, 16);
    const file = new SafetensorsFile(int64);
    assert.throws(
      () => file.readTensor('w'),
      (e: Error) => e.message.includes(int64) && /dtype I64, which is not supported/.test(e.message),
    );
    file.close();
  });
});
