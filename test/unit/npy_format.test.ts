// The one .npy module (sidecar/protocol/npy_format.ts) that the sidecar, the extension host, the
// panels and the test fixtures share: a round trip through it and through numpy (when python3 with
// numpy is installed), the damaged headers each reader must name, and the panels' non-throwing view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NpyFormatError,
  decodeNpy,
  encodeNpy,
  encodeNpyHeader,
  npyDataByteLength,
  npyHeaderExtent,
  parseNpy,
  parseNpyHeader,
} from '../../sidecar/protocol/npy_format';

const python = '/usr/bin/python3';

/** Why numpy cannot check the files here, or null when it can. */
function numpyMissing(): string | null {
  const probe = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
  return probe.status === 0
    ? null
    : `${python} with numpy is not available (${(probe.stderr || String(probe.error)).trim().split('\n').pop()})`;
}

function withFolder(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-npy-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** A header followed by `data`, with the dict written as given (for headers no encoder writes). */
function rawNpy(dict: string, data = new Uint8Array(0), version: [number, number] = [1, 0]): Uint8Array {
  const lengthBytes = version[0] === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthBytes + dict.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, ...version]);
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  out.set(bytesOf(dict), 8 + lengthBytes);
  out.set(data, 8 + lengthBytes + dict.length);
  return out;
}

test('round trip: float32 and float64 arrays of rank 1 to 3 come back with shape, dtype and every value', () => {
  const f32 = Float32Array.from({ length: 24 }, (_, i) => (i - 7) * 0.37);
  const f64 = Float64Array.from({ length: 6 }, (_, i) => Math.PI * i - 1e-12);
  for (const [data, shape] of [
    [f32, [24]],
    [f32, [4, 6]],
    [f32, [2, 3, 4]],
    [f64, [6]],
    [f64, [3, 2]],
  ] as const) {
    const bytes = encodeNpy(data, shape);
    assert.equal((bytes.length - data.byteLength) % 64, 0, 'the data starts at a multiple of 64 bytes, as numpy pads');
    const back = decodeNpy(bytes, 'round.npy');
    assert.deepEqual(back.shape, shape);
    assert.equal(back.dtype, data instanceof Float64Array ? '<f8' : '<f4');
    assert.deepEqual(back.data, data);
  }
  assert.throws(() => encodeNpy(f32, [5, 5]), /encodeNpy: shape \[5, 5\] holds 25 values but the array has 24/);
});

test('numpy reads what the module writes, and the module reads what numpy writes', (t) => {
  const missing = numpyMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  withFolder((dir) => {
    const f32 = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    writeFileSync(join(dir, 'ours32.npy'), encodeNpy(f32, [2, 3, 4]));
    writeFileSync(join(dir, 'ours64.npy'), encodeNpy(Float64Array.from([0.1, -2.5, 1e300]), [3]));
    const script = `
import json, sys, numpy as np
d = sys.argv[1]
a = np.load(d + '/ours32.npy', allow_pickle=False)
b = np.load(d + '/ours64.npy', allow_pickle=False)
x = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.25 - 1
np.save(d + '/f2.npy', x.astype('<f2'))
np.save(d + '/be4.npy', x.astype('>f4'))
np.save(d + '/fortran.npy', np.asfortranarray(x.astype('<f4')))
np.save(d + '/i8.npy', (x * 4).astype('<i8'))
np.save(d + '/u1.npy', np.arange(6, dtype=np.uint8).reshape(2, 3))
np.save(d + '/bool.npy', np.array([True, False, True]))
np.save(d + '/scalar.npy', np.float32(2.5))
np.save(d + '/v2.npy', x.astype('<f4')[:, :, :1].reshape(2, 3), allow_pickle=False)
np.lib.format.write_array(open(d + '/v3.npy', 'wb'), x.astype('<f8'), version=(3, 0))
print(json.dumps({'a': [a.dtype.str, list(a.shape), a.ravel().tolist()], 'b': [b.dtype.str, list(b.shape), b.tolist()]}))
`;
    const result = spawnSync(python, ['-c', script, dir], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const read = JSON.parse(result.stdout) as Record<'a' | 'b', [string, number[], number[]]>;
    assert.deepEqual(read.a, ['<f4', [2, 3, 4], Array.from(f32)]);
    assert.deepEqual(read.b, ['<f8', [3], [0.1, -2.5, 1e300]]);

    const x = Array.from({ length: 24 }, (_, i) => i * 0.25 - 1);
    const load = (file: string) => decodeNpy(readFileSync(join(dir, file)), file);
    for (const file of ['f2.npy', 'be4.npy', 'fortran.npy', 'v3.npy']) {
      const array = load(file);
      assert.deepEqual(array.shape, [2, 3, 4], file);
      assert.deepEqual(Array.from(array.data), x, file);
    }
    assert.ok(load('v3.npy').data instanceof Float64Array);
    assert.deepEqual(
      Array.from(load('i8.npy').data),
      x.map((v) => v * 4),
    );
    assert.deepEqual(Array.from(load('u1.npy').data), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(Array.from(load('bool.npy').data), [1, 0, 1]);
    assert.deepEqual(load('scalar.npy'), { data: new Float32Array([2.5]), shape: [], dtype: '<f4' });
    assert.deepEqual(Array.from(load('v2.npy').data), [-1, 0, 1, 2, 3, 4]);
  });
});

test('damaged headers are refused with the file named, what it holds and what was expected', () => {
  const good = encodeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]);
  const cases: Array<[Uint8Array, RegExp]> = [
    [
      new Uint8Array(20),
      /^z\.npy: not a NumPy \.npy file \(it does not start with "\\x93NUMPY"\); expected an array written by numpy\.save\.$/,
    ],
    [good.subarray(0, 5), /^z\.npy: not a NumPy \.npy file \(5 bytes, shorter than the \.npy preamble\)/],
    [
      Uint8Array.from([...good.subarray(0, 6), 4, 0, 0, 0, 0, 0]),
      /^z\.npy: \.npy format version 4\.0 is not supported; expected 1\.0, 2\.0 or 3\.0\.$/,
    ],
    [good.subarray(0, 40), /^z\.npy: \.npy header claims 118 bytes but the file has 40; the file is truncated\.$/],
    [
      rawNpy("{'descr': '<f4', 'shape': (2,), }\n"),
      /^z\.npy: \.npy header .* lacks descr, fortran_order or shape; expected a plain numeric array/,
    ],
    [
      rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }\n"),
      /^z\.npy: \.npy shape \(2, -1\) is not a tuple of non-negative integers\.$/,
    ],
    [
      rawNpy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n"),
      /^z\.npy: \.npy dtype '\|O' is not supported; expected a float, int or bool array/,
    ],
    [
      rawNpy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n"),
      /^z\.npy: \.npy dtype '<c8' is not supported/,
    ],
    [
      rawNpy("{'descr': '<f16', 'fortran_order': False, 'shape': (2,), }\n"),
      /^z\.npy: \.npy dtype '<f16' is not supported; expected float16\/32\/64, int8-64, uint8-64 or bool\.$/,
    ],
    [
      good.subarray(0, good.length - 3),
      /^z\.npy: \.npy array of shape \[2, 2\] and dtype <f4 needs 144 bytes but the file has 141; the file is truncated\.$/,
    ],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => decodeNpy(bytes, 'z.npy'),
      (error: unknown) => error instanceof NpyFormatError && message.test(error.message),
    );
  }
  const huge = parseNpyHeader(encodeNpyHeader('<f8', [2 ** 20, 2 ** 20, 2 ** 20]), 'huge.npy');
  assert.throws(
    () => npyDataByteLength(huge, 'huge.npy'),
    /huge\.npy: \.npy shape \[1048576, 1048576, 1048576\] of dtype <f8 would hold \d+ bytes, more than any file can/,
  );
});

test('the header extent is known from the first bytes, so a stream can stop there', () => {
  const bytes = encodeNpy(new Float32Array(10), [10]);
  const header = parseNpyHeader(bytes, 'a.npy');
  assert.equal(npyHeaderExtent(bytes.subarray(0, 7), 'a.npy'), undefined);
  assert.equal(npyHeaderExtent(bytes.subarray(0, 10), 'a.npy'), header.dataOffset);
  assert.equal(header.dataOffset, 128);
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
  const v2 = rawNpy(dict, new Uint8Array(4), [2, 0]);
  assert.equal(npyHeaderExtent(v2.subarray(0, 12), 'b.npy'), 12 + dict.length);
  assert.deepEqual(decodeNpy(v2, 'b.npy').data, new Float32Array([0]));
});

test("the panels read every array the sidecar reads, as float32, and get the sidecar's message for one they cannot", () => {
  // float16, big-endian and Fortran order as numpy writes them: [[1, 2], [3, 4]].
  const half = new Uint8Array(8);
  [0x3c00, 0x4200, 0x4000, 0x4400].forEach((h, i) => new DataView(half.buffer).setUint16(2 * i, h, true));
  const fortranHalf = Uint8Array.from([...encodeNpyHeader('<f2', [2, 2], true), ...half]);
  const big = new Uint8Array(16);
  [1, 2, 3, 4].forEach((v, i) => new DataView(big.buffer).setFloat32(4 * i, v, false));
  const bigEndian = Uint8Array.from([...encodeNpyHeader('>f4', [2, 2]), ...big]);
  for (const [name, bytes] of [
    ['half.npy', fortranHalf],
    ['big.npy', bigEndian],
  ] as const) {
    const parsed = parseNpy(bytes.slice().buffer, name);
    assert.deepEqual(parsed, { array: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } }, name);
  }
  const f64 = parseNpy(encodeNpy(Float64Array.from([0.5, -2]), [2]).buffer as ArrayBuffer, 'd.npy');
  assert.deepEqual(f64, { array: { shape: [2], data: new Float32Array([0.5, -2]) } });
  const corrupt = parseNpy(bytesOf('not a numpy file').buffer as ArrayBuffer, 'samples/lc1_generated.npy');
  assert.deepEqual(corrupt, {
    error:
      'samples/lc1_generated.npy: not a NumPy .npy file (it does not start with "\\x93NUMPY"); expected an array written by numpy.save.',
  });
});
