// Damaged and crafted lightcone files: bit flips, decompression bombs, directories where files belong, and
// .npy headers with impossible shapes. Each is refused with an error that names the file and what was
// expected; none is used for training. FIFOs are covered by input_fifos.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { zipSync } from 'fflate';
import { crc32, crc32Table } from '../../sidecar/data/crc32';
import { Hdf5FilesSource } from '../../sidecar/data/hdf5_source';
import { encodeNpyHeader, writeNpy } from '../../sidecar/data/npy';
import { NpyFolderSource } from '../../sidecar/data/npy_source';
import { NpzFolderSource, encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { fiducialParams } from '../../sidecar/data/parameters';

const root = mkdtempSync(join(tmpdir(), 'l3m-bad-data-'));
const shape: [number, number, number] = [3, 2, 5];
const image = Float32Array.from({ length: 30 }, (_, i) => i + 0.5);
const label = labelFromParams(fiducialParams, 'code');
let folders = 0;

/** A fresh folder holding `files` (name → bytes, or null for a sub-folder of that name). */
function folderWith(files: Record<string, Uint8Array | string | null>): string {
  const folder = join(root, `case-${folders++}`);
  mkdirSync(folder);
  for (const [name, content] of Object.entries(files)) {
    if (content === null) mkdirSync(join(folder, name));
    else writeFileSync(join(folder, name), content);
  }
  return folder;
}

/** Lists and loads every cone of an .npz folder: what training does with it. */
async function useNpzFolder(folder: string): Promise<void> {
  const source = new NpzFolderSource(folder);
  for (const entry of await source.list()) await source.load(entry.id);
}

/** Where a member's fields sit in the zip: its central directory record and its local header. */
function memberOffsets(zip: Uint8Array, name: string): { central: number; local: number; dataStart: number } {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (view.getUint32(eocd, true) !== 0x06054b50) eocd--;
  let at = view.getUint32(eocd + 16, true);
  for (let i = 0; i < view.getUint16(eocd + 10, true); i++) {
    const nameLength = view.getUint16(at + 28, true);
    const entryName = Buffer.from(zip.subarray(at + 46, at + 46 + nameLength)).toString('latin1');
    const local = view.getUint32(at + 42, true);
    if (entryName === name) {
      return {
        central: at,
        local,
        dataStart: local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true),
      };
    }
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  throw new Error(`test zip has no member ${name}`);
}

/** Sets a member's uncompressed size in both its central directory record and its local header. */
function patchUncompressedSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const { central, local } = memberOffsets(out, name);
  view.setUint32(central + 24, size, true);
  view.setUint32(local + 22, size, true);
  return out;
}

const goodNpz = () => encodeLightconeNpz(image, shape, label);

test('CRC-32: the table fallback and zlib agree on the standard check value and across chunks', () => {
  const check = new TextEncoder().encode('123456789');
  assert.equal(crc32Table(check), 0xcbf43926);
  assert.equal(crc32(check), 0xcbf43926);
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
  assert.equal(crc32Table(bytes.subarray(600), crc32Table(bytes.subarray(0, 600))), crc32(bytes));
  if (typeof zlib.crc32 === 'function') assert.equal(crc32(bytes), zlib.crc32(bytes));
});

test('a good .npz (stored and deflated) still loads', async () => {
  const deflated = zipSync({
    'image.npy': [writeNpy(image, shape), { level: 6 }],
    'label.npy': [writeNpy(label, [6]), { level: 6 }],
  });
  const folder = folderWith({ 'a.npz': goodNpz(), 'b.npz': deflated });
  const source = new NpzFolderSource(folder);
  assert.deepEqual(
    (await source.list()).map((e) => e.id),
    ['a.npz', 'b.npz'],
  );
  for (const id of ['a.npz', 'b.npz']) assert.equal((await source.load(id)).brightness[0], 0.5);
});

test('bit-flipped .npz files are refused by their CRC-32, as numpy refuses them', async () => {
  const good = goodNpz();
  const image = memberOffsets(good, 'image.npy');
  const labelMember = memberOffsets(good, 'label.npy');
  const flips: [string, number][] = [
    ['a voxel', image.dataStart + 128 + 4 * 7 + 1],
    ['the padding of the image header', image.dataStart + 100],
    ['a label value', labelMember.dataStart + 128 + 8 * 2 + 3],
    ['the stored CRC-32', image.central + 16],
  ];
  for (const [where, offset] of flips) {
    const bytes = good.slice();
    bytes[offset] ^= 0x04;
    const folder = folderWith({ 'flipped.npz': bytes });
    await assert.rejects(
      useNpzFolder(folder),
      (error: Error) => {
        assert.match(
          error.message,
          /flipped\.npz: member "(image|label)\.npy" fails its CRC-32 check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\); the file is damaged/,
          where,
        );
        return true;
      },
      `a flip in ${where} is refused`,
    );
  }
});

test('a member that inflates far past its .npy header is refused before it is inflated', async () => {
  // The header says [3, 2, 5] float32 (248 bytes in all); the member holds 16 MiB of zeros after it.
  const npy = writeNpy(image, shape);
  const inflated = new Uint8Array(npy.length + 16 * 2 ** 20);
  inflated.set(npy);
  const bomb = zipSync({ 'image.npy': [inflated, { level: 9 }], 'label.npy': [writeNpy(label, [6]), { level: 0 }] });
  assert.ok(bomb.length < 100_000, 'the bomb is small on disk');
  await assert.rejects(
    useNpzFolder(folderWith({ 'bomb.npz': bomb })),
    /bomb\.npz: member "image\.npy" declares 16777464 bytes uncompressed, but its \.npy header \(shape \[3, 2, 5\], dtype <f4\) needs 248/,
  );

  // The same bomb with the sizes in the zip headers rewritten to match the .npy header: inflating stops past them.
  const lying = patchUncompressedSize(bomb, 'image.npy', npy.length);
  await assert.rejects(
    useNpzFolder(folderWith({ 'lying.npz': lying })),
    /lying\.npz: member "image\.npy" inflates past the 248 bytes its \.npy header and the zip directory declare/,
  );
});

test('a declared size that deflate cannot reach from the compressed bytes is refused before allocating it', async () => {
  // A header for ~4 GiB of float32 with a zip directory that agrees, over a few compressed bytes.
  const claimed = encodeNpyHeader('<f4', [1023, 1024, 1024]);
  const zip = zipSync({ 'image.npy': [claimed, { level: 6 }], 'label.npy': [writeNpy(label, [6]), { level: 0 }] });
  const huge = patchUncompressedSize(zip, 'image.npy', claimed.length + 1023 * 1024 * 1024 * 4);
  await assert.rejects(
    useNpzFolder(folderWith({ 'huge.npz': huge })),
    /huge\.npz: member "image\.npy" declares \d+ bytes uncompressed from \d+ compressed bytes; deflate inflates at most 1032 bytes per byte/,
  );
});

test('an .npy whose header shape is far larger than the file is refused, naming file, shape and sizes', async () => {
  const bytes = new Uint8Array(144);
  bytes.set(encodeNpyHeader('<f4', [100000, 100000, 100000]));
  const folder = folderWith({ 'big.npy': bytes, 'big.json': JSON.stringify(fiducialParams) });
  const source = new NpyFolderSource(folder);
  await assert.rejects(async () => {
    for (const e of await source.list()) await source.load(e.id);
  }, /big\.npy: \.npy array of shape \[100000, 100000, 100000\] and dtype <f4 needs 4000000000000128 bytes but the file has 144; the file is truncated/);
});

test('a directory where a data file belongs is named as a directory', async () => {
  const npz = folderWith({ 'a.npz': null });
  await assert.rejects(useNpzFolder(npz), /a\.npz: is a directory, not a regular file; expected an \.npz file/);

  const npy = folderWith({ 'a.npy': null, 'a.json': JSON.stringify(fiducialParams) });
  await assert.rejects(
    new NpyFolderSource(npy).list(),
    /a\.npy: is a directory, not a regular file; expected an \.npy array/,
  );

  const json = folderWith({ 'a.npy': writeNpy(image, shape), 'a.json': null });
  await assert.rejects(
    new NpyFolderSource(json).list(),
    /a\.json: is a directory, not a regular file; expected a JSON object with mWDM/,
  );

  const h5 = folderWith({ 'cone.h5': null });
  await assert.rejects(
    new Hdf5FilesSource([join(h5, 'cone.h5')]).list(),
    /cone\.h5: is a directory, not a regular file; expected a 21cmFAST lightcone \.h5 file/,
  );
});
