// Reading a store (store_layout.ts): slice ranges of a cone, its global signal and redshifts, through an
// LRU cache of decoded chunks of at most data.cache_mb, so that memory does not grow with the dataset.
// Reads are synchronous (the training loop's batches are built synchronously): a chunk missing from
// the cache is read and gunzipped here; prefetch() has worker threads decode the chunks of coming
// batches into the cache first (prefetch_pool.ts). A missing or damaged chunk is named by its array
// and index, with the file its cone came from and how to rebuild the store.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { errorMessage } from '../../protocol/error_message';
import { isRecord } from '../../../schemas/json_value';
import { DataError } from '../lightcone_record';
import { ChunkCache } from './chunk_cache';
import { FolderChunkBytes, type ChunkBytes } from './chunk_bytes';
import { PrefetchPool } from './prefetch_pool';
import { readStoreManifest } from './store_manifest';
import {
  brightnessPath,
  chunkFile,
  globalSignalPath,
  rebuildHint,
  redshiftsPath,
  type StoreManifest,
  type StoredCone,
} from './store_layout';

/** A missing or damaged chunk: names the array, the chunk index, the cone's source file and the fix. */
export class StoreChunkError extends DataError {
  constructor(
    readonly folder: string,
    readonly arrayPath: string,
    readonly chunk: number,
    readonly sourceFile: string,
    problem: string,
  ) {
    super(
      `${folder}: chunk ${chunk} of array ${arrayPath} (converted from ${sourceFile}) ${problem}; ${rebuildHint(folder)}.`,
    );
    this.name = 'StoreChunkError';
  }
}

export interface ConeStoreOptions {
  /** data.cache_mb: the most decoded chunks held, in MB (10^6 bytes). */
  cacheMb: number;
  /** Where chunk bytes come from; default the store's files. */
  bytes?: ChunkBytes;
  /** Worker threads that decode prefetched chunks; 0 turns prefetching off. Default 1. */
  prefetchWorkers?: number;
}

/** The codec chain the conversion writes; a store with another one was not written by this version. */
const expectedCodecs = JSON.stringify(['bytes', 'gzip']);

export class ConeStore {
  readonly cache: ChunkCache;
  private readonly bytes: ChunkBytes;
  private pool: PrefetchPool | undefined;
  private readonly prefetchWorkers: number;

  private constructor(
    readonly folder: string,
    readonly manifest: StoreManifest,
    options: ConeStoreOptions,
  ) {
    this.cache = new ChunkCache(options.cacheMb * 1e6);
    this.bytes = options.bytes ?? new FolderChunkBytes(folder);
    this.prefetchWorkers = options.prefetchWorkers ?? 1;
  }

  static async open(folder: string, options: ConeStoreOptions): Promise<ConeStore> {
    if (endianness() !== 'LE') {
      throw new DataError(
        `${folder}: lightcone stores are read on little-endian machines only (this one is big-endian).`,
      );
    }
    const manifest = await readStoreManifest(folder);
    if (!manifest) {
      throw new DataError(
        `${folder}: no complete lightcone store here (its root zarr.json has no manifest); ${rebuildHint(folder)}.`,
      );
    }
    const store = new ConeStore(folder, manifest, options);
    store.checkArrayMetadata(0);
    return store;
  }

  get cones(): readonly StoredCone[] {
    return this.manifest.cones;
  }

  cone(index: number): StoredCone {
    const cone = this.manifest.cones[index];
    if (!cone) {
      throw new Error(`ConeStore: lightcone ${index} is outside the store's ${this.manifest.cones.length} lightcones.`);
    }
    return cone;
  }

  /** Index of the cone with this id (the source's id), or -1. */
  indexOf(id: string): number {
    this.ids ??= new Map(this.manifest.cones.map((c, i) => [c.id, i]));
    return this.ids.get(id) ?? -1;
  }
  private ids: Map<string, number> | undefined;

  /** The chunk indices holding slices [start, end) of a cone. */
  chunksOf(index: number, start: number, end: number): number[] {
    const { chunkSlices } = this.cone(index);
    const chunks: number[] = [];
    for (let c = Math.floor(start / chunkSlices); c * chunkSlices < end; c++) chunks.push(c);
    return chunks;
  }

  /** Slices [start, end) of a cone in redshift order (slice 0 the lowest), [t, x, y] float32. */
  readSlices(index: number, start: number, end: number): Float32Array {
    const cone = this.cone(index);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > cone.nt || start >= end) {
      throw new DataError(
        `${this.folder}: slices [${start}, ${end}) are outside lightcone ${cone.id}'s ${cone.nt} slices; expected 0 ≤ start < end ≤ ${cone.nt}.`,
      );
    }
    const plane = cone.nx * cone.ny;
    const out = new Float32Array((end - start) * plane);
    for (const c of this.chunksOf(index, start, end)) {
      const data = this.chunk(index, c);
      const first = Math.max(start, c * cone.chunkSlices);
      const last = Math.min(end, (c + 1) * cone.chunkSlices);
      out.set(
        data.subarray((first - c * cone.chunkSlices) * plane, (last - c * cone.chunkSlices) * plane),
        (first - start) * plane,
      );
    }
    return out;
  }

  /** The spatial mean of every slice (sliceMeans at conversion), redshift order. */
  globalSignal(index: number): Float64Array {
    return this.smallArray(index, globalSignalPath(index));
  }

  redshifts(index: number): Float64Array | undefined {
    return this.cone(index).hasRedshifts ? this.smallArray(index, redshiftsPath(index)) : undefined;
  }

  /**
   * Starts decoding the chunks of these slice ranges in worker threads, so that the reads of a coming
   * batch find them in the cache. Chunks already cached or on their way are skipped.
   */
  prefetch(ranges: readonly { cone: number; start: number; end: number }[]): void {
    if (this.prefetchWorkers === 0) return;
    const wanted: { path: string; bytes: number }[] = [];
    for (const { cone, start, end } of ranges) {
      const { nx, ny, chunkSlices } = this.cone(cone);
      for (const c of this.chunksOf(cone, start, end)) {
        const path = chunkFile(brightnessPath(cone), [c, 0, 0]);
        if (!this.cache.has(path)) wanted.push({ path, bytes: chunkSlices * nx * ny * 4 });
      }
    }
    if (wanted.length === 0) return;
    this.pool ??= new PrefetchPool(this.folder, this.prefetchWorkers, (path, data) => {
      if (!this.cache.has(path)) this.cache.set(path, data);
    });
    this.pool.request(wanted);
  }

  /** Waits until every prefetch requested so far has arrived (tests and benchmarks). */
  async prefetched(): Promise<void> {
    await this.pool?.idle();
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
    this.cache.clear();
  }

  private chunk(index: number, c: number): Float32Array {
    const path = chunkFile(brightnessPath(index), [c, 0, 0]);
    const cached = this.cache.get(path);
    if (cached) return cached;
    const { nx, ny, chunkSlices } = this.cone(index);
    const data = new Float32Array(this.decode(index, brightnessPath(index), c, chunkSlices * nx * ny * 4));
    this.cache.set(path, data);
    return data;
  }

  private smallArray(index: number, arrayPath: string): Float64Array {
    return new Float64Array(this.decode(index, arrayPath, 0, this.cone(index).nt * 8));
  }

  /** The raw little-endian bytes of a chunk, checked; an aligned copy that typed arrays can view. */
  private decode(index: number, arrayPath: string, c: number, expectedBytes: number): ArrayBuffer {
    const coords = arrayPath.endsWith('brightness') ? [c, 0, 0] : [c];
    const fail = (problem: string) => new StoreChunkError(this.folder, arrayPath, c, this.cone(index).source, problem);
    const stored = this.bytes.read(chunkFile(arrayPath, coords));
    if (!stored) throw fail(`is missing (no file ${chunkFile(arrayPath, coords)})`);
    let raw: Buffer;
    try {
      // gzip's CRC-32 of the decoded bytes catches a damaged chunk here.
      raw = gunzipSync(stored);
    } catch (error) {
      throw fail(`is damaged: it does not decompress (${errorMessage(error)})`);
    }
    if (raw.byteLength !== expectedBytes) {
      throw fail(`is damaged: it holds ${raw.byteLength} bytes, expected ${expectedBytes}`);
    }
    const copy = new ArrayBuffer(raw.byteLength);
    new Uint8Array(copy).set(raw);
    return copy;
  }

  /** Refuses a store whose arrays use another codec chain than the one this reader decodes. */
  private checkArrayMetadata(index: number): void {
    const path = join(this.folder, brightnessPath(index), 'zarr.json');
    let metadata: unknown;
    try {
      metadata = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new DataError(
        `${path}: cannot read the array's metadata (${errorMessage(error)}); ${rebuildHint(this.folder)}.`,
      );
    }
    const codecs = isRecord(metadata) && Array.isArray(metadata.codecs) ? metadata.codecs : [];
    const names = JSON.stringify(codecs.map((c: unknown) => (isRecord(c) ? c.name : undefined)));
    if (names !== expectedCodecs || !isRecord(metadata) || metadata.data_type !== 'float32') {
      throw new DataError(
        `${path}: array stored as ${String(isRecord(metadata) ? metadata.data_type : '?')} with codecs ${names}; ` +
          `expected float32 with ${expectedCodecs} as this version writes; ${rebuildHint(this.folder)}.`,
      );
    }
  }
}
