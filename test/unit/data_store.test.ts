// The lightcone store (sidecar/data/store/): every source format converted and read back bit for bit;
// a window of slices reads only the chunks that hold it (counted on the real chunk files); a cancelled
// conversion resumes at the first unfinished cone and ends with the same files; a missing or damaged
// chunk is named with its array, index and source file; a full disk (a real 2 MB tmpfs) removes the
// partial store and leaves the finished one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Hdf5FilesSource } from '../../sidecar/data/hdf5_source';
import type { LightconeSource } from '../../sidecar/data/lightcone_record';
import { NpyFolderSource } from '../../sidecar/data/npy_source';
import { writeNpy } from '../../sidecar/data/npy';
import { encodeLightconeNpz, labelFromParams, NpzFolderSource } from '../../sidecar/data/npz_source';
import { fiducialParams } from '../../sidecar/data/parameters';
import { generateSimulatedDataset } from '../../sidecar/data/simulated_dataset';
import { FolderChunkBytes, type ChunkBytes } from '../../sidecar/data/store/chunk_bytes';
import { ConeStore, StoreChunkError } from '../../sidecar/data/store/cone_store';
import { ensureStore, StoreConversionCancelledError, type StoreProgress } from '../../sidecar/data/store/convert_store';
import { brightnessPath, chunkFile } from '../../sidecar/data/store/store_layout';
import { StoreSource } from '../../sidecar/data/store/store_source';
import { writeV3 } from '../fixtures/hdf5_lightcones';

const dir = mkdtempSync(join(tmpdir(), 'l3m-store-'));

/** Noisy voxels with zeros (ionised regions) and a seed per cone, [x, y, t] as the files store them. */
function image(nx: number, ny: number, nt: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 60 - 30;
  return Float32Array.from({ length: nx * ny * nt }, (_, i) => (i % 7 === 0 ? 0 : next()));
}

function npzFolder(name: string, cones: number, nx: number, nt: number): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  for (let c = 0; c < cones; c++) {
    const label = labelFromParams({ ...fiducialParams, zeta: 20 + c });
    writeFileSync(join(folder, `lc${c}.npz`), encodeLightconeNpz(image(nx, nx, nt, c + 1), [nx, nx, nt], label));
  }
  return folder;
}

function npyFolder(name: string, cones: number, nx: number, nt: number): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  for (let c = 0; c < cones; c++) {
    writeFileSync(join(folder, `cone${c}.npy`), writeNpy(image(nx, nx, nt, 10 + c), [nx, nx, nt]));
    const redshifts = Array.from({ length: nt }, (_, k) => 5 + 0.1 * k);
    writeFileSync(join(folder, `cone${c}.json`), JSON.stringify({ ...fiducialParams, redshifts }));
  }
  return folder;
}

/** Every cone of the store equals the source's, voxel for voxel (as bits), with its parameters, shape and redshifts. */
async function assertSameAsSource(source: LightconeSource, store: ConeStore): Promise<void> {
  const stored = new StoreSource(store);
  const entries = await source.list();
  const facts = (list: { id: string; shape: unknown; params: unknown }[]) =>
    list.map(({ id, shape, params }) => ({ id, shape, params }));
  assert.deepEqual(facts(await stored.list()), facts(entries));
  for (const entry of entries) {
    const original = await source.load(entry.id);
    const copy = await stored.load(entry.id);
    assert.deepEqual(
      Buffer.from(copy.brightness.buffer, copy.brightness.byteOffset, copy.brightness.byteLength),
      Buffer.from(original.brightness.buffer, original.brightness.byteOffset, original.brightness.byteLength),
      `${entry.id}: voxels differ`,
    );
    assert.deepEqual(copy.shape, original.shape);
    assert.deepEqual(copy.params, original.params);
    assert.equal(copy.source, original.source);
    assert.deepEqual(copy.redshifts, original.redshifts);
    // A slice range reads the same slices as the source's own range.
    const nt = original.shape.nt;
    const part = await stored.load(entry.id, { start: 1, end: nt - 1 });
    assert.deepEqual(part.brightness, (await source.load(entry.id, { start: 1, end: nt - 1 })).brightness);
  }
}

async function convert(
  source: LightconeSource,
  root: string,
  fingerprint: unknown,
  more: Partial<Parameters<typeof ensureStore>[1]> = {},
) {
  return ensureStore(source, { root, fingerprint, ...more });
}

test('store round trip: npz, npy, 21cmFAST HDF5 (v3 with and without distances) and the simulator cache come back bit for bit', async () => {
  const root = join(dir, 'stores-roundtrip');
  const hdf5 = join(dir, 'h5');
  mkdirSync(hdf5);
  await writeV3(join(hdf5, 'a.h5'), { nx: 6, ny: 6, nLos: 40, withDistances: true });
  await writeV3(join(hdf5, 'b.h5'), { nx: 6, ny: 6, nLos: 40, withDistances: false });
  const simulated = await generateSimulatedDataset(
    { preset: 'test', count: 1, seed: 3 },
    { cacheRoot: join(dir, 'sim'), workers: 1 },
  );
  const sources: [string, LightconeSource][] = [
    ['npz', new NpzFolderSource(npzFolder('npz', 3, 20, 50))],
    ['npy', new NpyFolderSource(npyFolder('npy', 2, 12, 33))],
    ['hdf5', new Hdf5FilesSource([join(hdf5, 'a.h5'), join(hdf5, 'b.h5')])],
    ['simulator', simulated.source],
  ];
  for (const [name, source] of sources) {
    const converted = await convert(source, root, { name });
    assert.equal(converted.fromCache, false, name);
    const store = await ConeStore.open(converted.folder, { cacheMb: 8, prefetchWorkers: 0 });
    try {
      await assertSameAsSource(source, store);
    } finally {
      await store.close();
    }
    assert.equal((await convert(source, root, { name })).fromCache, true, `${name}: the second open converts nothing`);
  }
});

/** Counts the chunk files read, by path, on the real store. */
class CountingChunkBytes implements ChunkBytes {
  readonly reads: string[] = [];
  constructor(private readonly inner: ChunkBytes) {}
  read(path: string): Uint8Array | undefined {
    this.reads.push(path);
    return this.inner.read(path);
  }
}

test('store reads: a window of slices reads only the chunks that hold it, once while cached; prefetched chunks need no read', async () => {
  // 40 × 40 float32 slices are 6.4 kB: 512 KiB chunks hold 82 slices, so 300 slices make 4 chunks (the last short).
  const source = new NpzFolderSource(npzFolder('windows', 2, 40, 300));
  const { folder, manifest } = await convert(source, join(dir, 'stores-windows'), 'windows');
  assert.equal(manifest.cones[0].chunkSlices, 82);
  const counting = new CountingChunkBytes(new FolderChunkBytes(folder));
  const store = await ConeStore.open(folder, { cacheMb: 8, bytes: counting });
  try {
    const window = store.readSlices(1, 75, 87); // slices 75…86: chunks 0 and 1
    assert.deepEqual(counting.reads, [
      chunkFile(brightnessPath(1), [0, 0, 0]),
      chunkFile(brightnessPath(1), [1, 0, 0]),
    ]);
    assert.deepEqual(window, (await source.load('lc1.npz', { start: 75, end: 87 })).brightness);
    store.readSlices(1, 80, 90); // chunk 1 again: from the cache
    assert.equal(counting.reads.length, 2);
    store.readSlices(1, 290, 300); // the short last chunk
    assert.deepEqual(counting.reads.slice(2), [chunkFile(brightnessPath(1), [3, 0, 0])]);
    // Chunks decoded by the prefetch worker (through zarrita) are served without a read here, with the same values.
    store.prefetch([{ cone: 0, start: 0, end: 300 }]);
    await store.prefetched();
    const before = counting.reads.length;
    assert.deepEqual(store.readSlices(0, 0, 300), (await source.load('lc0.npz')).brightness);
    assert.equal(counting.reads.length, before);
  } finally {
    await store.close();
  }
  // A cache smaller than the chunks read keeps memory bounded: it holds at most its capacity (plus the newest chunk).
  const small = await ConeStore.open(folder, { cacheMb: 1, bytes: counting, prefetchWorkers: 0 });
  small.readSlices(0, 0, 300);
  small.readSlices(1, 0, 300);
  assert.ok(small.cache.bytes <= 1e6 + 82 * 40 * 40 * 4, `cache holds ${small.cache.bytes} bytes`);
  await small.close();
});

/** The store's files and their bytes, as a map from path to content. */
function storeFiles(folder: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.set(relative(folder, full), readFileSync(full).toString('base64'));
    }
  };
  walk(folder);
  return files;
}

/** Manifest times differ between two conversions; everything else must not. */
function withoutTimes(files: Map<string, string>): Map<string, string> {
  const out = new Map(files);
  const root = JSON.parse(Buffer.from(out.get('zarr.json')!, 'base64').toString('utf8')) as {
    attributes: { l3m: Record<string, unknown> };
  };
  delete root.attributes.l3m.createdAt;
  delete root.attributes.l3m.seconds;
  delete root.attributes.l3m.bytes;
  out.set('zarr.json', JSON.stringify(root));
  return out;
}

test('store conversion: cancelled between cones, it resumes at the first unfinished cone and ends with the same store', async () => {
  const source = new NpzFolderSource(npzFolder('resume', 5, 24, 64));
  const loads: string[] = [];
  const counted: LightconeSource = {
    description: source.description,
    list: () => source.list(),
    load: (id, range) => {
      loads.push(id);
      return source.load(id, range);
    },
    close: () => source.close(),
  };
  const root = join(dir, 'stores-resume');
  const controller = new AbortController();
  const events: StoreProgress[] = [];
  await assert.rejects(
    convert(counted, root, 'resume', {
      signal: controller.signal,
      onProgress: (event) => {
        events.push(event);
        if (event.kind === 'store-cone' && event.done === 2) controller.abort();
      },
    }),
    (error: unknown) => error instanceof StoreConversionCancelledError && error.done === 2,
  );
  assert.deepEqual(loads, ['lc0.npz', 'lc1.npz']);
  const cone = events.find((e) => e.kind === 'store-cone');
  assert.ok(cone && cone.kind === 'store-cone' && cone.total === 5 && cone.etaSeconds !== null);
  const partial = readdirSync(root).find((n) => n.endsWith('.partial'));
  assert.ok(partial, 'the partial store stays for the next run');

  loads.length = 0;
  const resumedEvents: StoreProgress[] = [];
  const resumed = await convert(counted, root, 'resume', { onProgress: (e) => resumedEvents.push(e) });
  assert.deepEqual(loads, ['lc2.npz', 'lc3.npz', 'lc4.npz'], 'only the unfinished cones are read again');
  assert.deepEqual(
    resumedEvents.find((e) => e.kind === 'store-started'),
    { kind: 'store-started', folder: resumed.folder, cones: 5, resumedCones: 2 },
  );
  assert.ok(!existsSync(join(root, partial)));

  const fresh = await convert(source, join(dir, 'stores-fresh'), 'resume');
  assert.deepEqual(withoutTimes(storeFiles(resumed.folder)), withoutTimes(storeFiles(fresh.folder)));
});

test('store damage: a missing or damaged chunk names its array, index and source file, and how to rebuild', async () => {
  const source = new NpzFolderSource(npzFolder('damage', 2, 40, 200));
  const root = join(dir, 'stores-damage');
  const { folder } = await convert(source, root, 'damage');
  const chunk = join(folder, chunkFile(brightnessPath(1), [1, 0, 0]));
  const expected = (problem: RegExp) => (error: unknown) => {
    assert.ok(error instanceof StoreChunkError);
    assert.equal(error.arrayPath, 'cones/000001/brightness');
    assert.equal(error.chunk, 1);
    assert.equal(error.sourceFile, join(dir, 'damage', 'lc1.npz'));
    assert.match(error.message, problem);
    assert.match(error.message, /chunk 1 of array cones\/000001\/brightness \(converted from .*lc1\.npz\)/);
    assert.match(error.message, /l3m data --rebuild <config>/);
    return true;
  };
  // A flipped byte inside the compressed data: gzip's CRC-32 or the inflater catches it.
  const bytes = readFileSync(chunk);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(chunk, bytes);
  let store = await ConeStore.open(folder, { cacheMb: 8, prefetchWorkers: 0 });
  // Chunks of 82 slices: chunk 1 holds slices 82…163.
  assert.deepEqual(store.readSlices(1, 0, 82).length, 82 * 40 * 40, 'the chunks before it still read');
  assert.throws(() => store.readSlices(1, 70, 90), expected(/is damaged/));
  rmSync(chunk);
  assert.throws(
    () => store.readSlices(1, 82, 83),
    expected(/is missing \(no file cones\/000001\/brightness\/c\/1\/0\/0\)/),
  );
  await store.close();

  // The rebuild the message offers: a new store, replacing the damaged one once complete.
  const rebuilt = await convert(source, root, 'damage', { rebuild: true });
  assert.equal(rebuilt.folder, folder);
  store = await ConeStore.open(folder, { cacheMb: 8, prefetchWorkers: 0 });
  assert.deepEqual(store.readSlices(1, 0, 200), (await source.load('lc1.npz')).brightness);
  await store.close();
});

/** Mounts a tmpfs of `size` on a new folder, or returns the reason it cannot. */
function mountTmpfs(size: string): { path: string } | { reason: string } {
  const path = mkdtempSync(join(tmpdir(), 'l3m-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'pipe' });
    return { path };
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    return { reason: `mounting a tmpfs is not permitted here (${String(error).split('\n')[0]})` };
  }
}

test('store on a full disk: the partial store is removed, the finished one stays readable, and the message says so', async (t) => {
  const mounted = mountTmpfs('2m');
  if ('reason' in mounted) {
    if (process.env.CI === 'true') assert.fail(`CI must run this test: ${mounted.reason}`);
    t.skip(mounted.reason);
    return;
  }
  try {
    const root = join(mounted.path, 'stores');
    const small = new NpzFolderSource(npzFolder('disk-small', 1, 20, 40));
    const previous = await convert(small, root, 'small');
    // Random voxels barely compress: 6 cones of 64 × 64 × 64 float32 need about 6 MB, three times the disk.
    const large = new NpzFolderSource(npzFolder('disk-large', 6, 64, 64));
    await assert.rejects(convert(large, root, 'large'), (error: unknown) => {
      assert.match(String(error), /The disk filled up while converting npz folder .*disk-large into its store/);
      assert.match(String(error), /The partial store was removed and every finished store is as it was/);
      assert.match(String(error), /L3M_CACHE_DIR/);
      return true;
    });
    assert.deepEqual(readdirSync(root), [relative(root, previous.folder)], 'only the finished store is left');
    const store = await ConeStore.open(previous.folder, { cacheMb: 8, prefetchWorkers: 0 });
    await assertSameAsSource(small, store);
    await store.close();
  } finally {
    execFileSync('umount', [mounted.path]);
    rmSync(mounted.path, { recursive: true, force: true });
  }
});
