// Converts any lightcone source (simulator cache, .npz, 21cmFAST HDF5, .npy) once into a store
// (store_layout.ts), cached under a key of its content. The conversion
//  - reads each cone whole once (an .npz member is t-fastest, so any slice range needs all of it; the
//    cost is paid here, once per file) and writes it as slice chunks;
//  - works in `<key>.partial/`, writing every file atomically and recording finished cones in
//    progress.json, so a killed conversion resumes at the first unfinished cone;
//  - renames the folder to `<key>/` once the root manifest is written, so a store under its final name
//    is always complete, and a rebuild replaces the previous store only once the new one is whole;
//  - on a full disk (ENOSPC) removes the partial folder, leaves every finished store as it was and
//    says how much room it needed.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errorCode, errorMessage } from '../../protocol/error_message';
import { isProcessAlive } from '../../protocol/run_listing';
import { isRecord } from '../../../schemas/json_value';
import { DataError, sliceMeans, type LightconeRecord, type LightconeSource } from '../lightcone_record';
import { parameterNames } from '../parameters';
import { AtomicFileStore } from './atomic_file_store';
import { readStoreManifest } from './store_manifest';
import {
  brightnessPath,
  chunkSlicesFor,
  conePath,
  globalSignalPath,
  gzipLevel,
  redshiftsPath,
  storeFormat,
  storeKey,
  type StoreManifest,
  type StoredCone,
} from './store_layout';
import { loadZarrita } from './zarr_library';

/** Progress of a conversion, for the phase line of `l3m train`, the monitor and `l3m data`. */
export type StoreProgress =
  | { kind: 'store-cached'; folder: string; cones: number }
  | { kind: 'store-started'; folder: string; cones: number; resumedCones: number }
  | {
      kind: 'store-cone';
      done: number;
      total: number;
      /** Compressed MB written by this process so far, and its rate. */
      megabytes: number;
      megabytesPerSecond: number;
      etaSeconds: number | null;
    }
  | { kind: 'store-done'; folder: string; seconds: number; megabytes: number }
  /** Another process on this machine is converting the same dataset; this one waits for its store. */
  | { kind: 'store-waiting'; folder: string; pid: number };

export interface ConvertOptions {
  /** Folder holding the stores (store_layout.ts storesRoot). */
  root: string;
  /** Everything that determines the source's content; hashed into the store's key. */
  fingerprint: unknown;
  /** Build a new store even when one exists; the old one is replaced only once the new one is complete. */
  rebuild?: boolean;
  onProgress?: (event: StoreProgress) => void;
  /** Stops between cones; what is finished stays in the partial folder for the next run to resume. */
  signal?: AbortSignal;
}

/** Thrown when a conversion is cancelled; the finished cones are kept for the next run. */
export class StoreConversionCancelledError extends Error {
  constructor(
    readonly done: number,
    readonly total: number,
  ) {
    super(
      `Converting the dataset into its store was cancelled after ${done} of ${total} lightcones; the next run resumes from there.`,
    );
    this.name = 'StoreConversionCancelledError';
  }
}

interface Progress {
  key: string;
  cones: StoredCone[];
  bytes: number;
}

const progressName = 'progress.json';
const lockName = 'lock.json';

/** Returns the complete store of the source, converting it first when there is none (or `rebuild`). */
export async function ensureStore(
  source: LightconeSource,
  options: ConvertOptions,
): Promise<{ folder: string; manifest: StoreManifest; fromCache: boolean }> {
  const key = storeKey(options.fingerprint);
  const folder = join(options.root, key);
  if (!options.rebuild) {
    const cached = await readStoreManifest(folder);
    if (cached) {
      options.onProgress?.({ kind: 'store-cached', folder, cones: cached.cones.length });
      return { folder, manifest: cached, fromCache: true };
    }
  }
  const partial = `${folder}.partial`;
  await mkdir(partial, { recursive: true });
  const finishedMeanwhile = await takeLock(partial, folder, options);
  if (finishedMeanwhile && !options.rebuild) {
    options.onProgress?.({ kind: 'store-cached', folder, cones: finishedMeanwhile.cones.length });
    return { folder, manifest: finishedMeanwhile, fromCache: true };
  }
  try {
    const manifest = await convertInto(partial, folder, key, source, options);
    await commit(partial, folder);
    return { folder, manifest, fromCache: false };
  } catch (error) {
    if (errorCode(error) === 'ENOSPC') {
      await rm(partial, { recursive: true, force: true });
      throw new DataError(
        `The disk filled up while converting ${source.description} into its store ${folder} ` +
          `(${errorMessage(error)}). The partial store was removed and every finished store is as it was; ` +
          'free some space, or point L3M_CACHE_DIR at a larger disk, and run again.',
      );
    }
    await rm(join(partial, lockName), { force: true });
    throw error;
  }
}

/** How often a conversion waiting for another process's looks again. */
const lockPollMs = 500;

/**
 * One conversion per store. The lock file is created exclusively, so of two processes starting together (the runs
 * of a sweep share their dataset) one converts. The other waits while the holder, a live process on this machine,
 * works, and returns the store it finished (null: this process now holds the lock). A lock whose process is gone
 * (killed) is taken over, and the conversion resumes where it stopped. A lock of another host (a shared file
 * system) is taken over too, since whether its process lives cannot be seen from here: every file of a store is
 * written atomically, so two hosts converting one dataset write the same bytes.
 */
async function takeLock(partial: string, folder: string, options: ConvertOptions): Promise<StoreManifest | null> {
  const path = join(partial, lockName);
  let announced = false;
  for (;;) {
    try {
      await writeFile(path, JSON.stringify({ host: hostname(), pid: process.pid }), { flag: 'wx' });
      return null;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const holder = await lockHolder(path);
    if (holder === 'gone') {
      await rm(path, { force: true });
      continue;
    }
    if (!announced) {
      announced = true;
      options.onProgress?.({ kind: 'store-waiting', folder, pid: holder.pid });
    }
    if (options.signal?.aborted) throw new StoreConversionCancelledError(0, 0);
    await new Promise((resolve) => setTimeout(resolve, lockPollMs));
    const finished = await readStoreManifest(folder);
    if (finished) return finished;
  }
}

/** The live process holding a lock, or 'gone' when none does (no file, an unreadable one, a dead process). */
async function lockHolder(path: string): Promise<{ pid: number } | 'gone'> {
  // A lock just created exclusively may not hold its pid yet: one second look, then it is a killed one's.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const lock: unknown = JSON.parse(await readFile(path, 'utf8'));
      if (!isRecord(lock) || typeof lock.pid !== 'number' || lock.host !== hostname()) return 'gone';
      return lock.pid !== process.pid && isProcessAlive(lock.pid) ? { pid: lock.pid } : 'gone';
    } catch (error) {
      if (!(error instanceof SyntaxError)) return 'gone';
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return 'gone';
}

async function readProgress(partial: string, key: string): Promise<Progress> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(partial, progressName), 'utf8'));
    if (isProgress(parsed, key)) return parsed;
  } catch {
    // No progress yet (or a damaged file, which a conversion written atomically does not leave): start over.
  }
  return { key, cones: [], bytes: 0 };
}

/** Progress of this key, with cones as this version's conversion records them. */
function isProgress(value: unknown, key: string): value is Progress {
  return (
    isRecord(value) &&
    value.key === key &&
    typeof value.bytes === 'number' &&
    Array.isArray(value.cones) &&
    value.cones.every((c) => isRecord(c) && typeof c.id === 'string' && typeof c.chunkSlices === 'number')
  );
}

async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.partial`, JSON.stringify(value));
  await rename(`${path}.partial`, path);
}

/** Index of the lowest slice with a non-zero voxel; nt when every slice is zero. */
function firstNonZeroSlice(record: LightconeRecord): number {
  const { nx, ny, nt } = record.shape;
  const plane = nx * ny;
  for (let k = 0; k < nt; k++) {
    for (let p = k * plane, end = p + plane; p < end; p++) if (record.brightness[p] !== 0) return k;
  }
  return nt;
}

async function convertInto(
  partial: string,
  folder: string,
  key: string,
  source: LightconeSource,
  options: ConvertOptions,
): Promise<StoreManifest> {
  const store = await AtomicFileStore.open(partial);
  try {
    return await convertThrough(store, partial, folder, key, source, options);
  } catch (error) {
    // zarrita encodes and writes a cone's chunks concurrently and rejects at the first failure (a full disk)
    // while others are still being encoded or written: removing the partial store before they end races with them.
    await store.close();
    throw error;
  }
}

async function convertThrough(
  store: AtomicFileStore,
  partial: string,
  folder: string,
  key: string,
  source: LightconeSource,
  options: ConvertOptions,
): Promise<StoreManifest> {
  const zarr = await loadZarrita();
  const root = zarr.root(store);
  const started = Date.now();
  const entries = await source.list();
  const progress = await readProgress(partial, key);
  const resumedCones = progress.cones.length;
  options.onProgress?.({ kind: 'store-started', folder, cones: entries.length, resumedCones });
  const codecs = [
    { name: 'bytes', configuration: { endian: 'little' } },
    { name: 'gzip', configuration: { level: gzipLevel } },
  ];
  for (let index = resumedCones; index < entries.length; index++) {
    if (options.signal?.aborted) throw new StoreConversionCancelledError(index, entries.length);
    const record = await source.load(entries[index].id);
    const { nx, ny, nt } = record.shape;
    const chunkSlices = chunkSlicesFor(nx, ny, nt);
    const brightness = await zarr.create(root.resolve(brightnessPath(index)), {
      shape: [nt, nx, ny],
      chunkShape: [chunkSlices, nx, ny],
      dtype: 'float32',
      codecs,
      fillValue: 0,
      dimensionNames: ['t', 'x', 'y'],
    });
    await zarr.set(brightness, null, { data: record.brightness, shape: [nt, nx, ny], stride: [nx * ny, ny, 1] });
    const signal = await zarr.create(root.resolve(globalSignalPath(index)), {
      shape: [nt],
      chunkShape: [nt],
      dtype: 'float64',
      codecs,
      fillValue: 0,
      dimensionNames: ['t'],
    });
    await zarr.set(signal, null, { data: sliceMeans(record), shape: [nt], stride: [1] });
    if (record.redshifts) {
      const redshifts = await zarr.create(root.resolve(redshiftsPath(index)), {
        shape: [nt],
        chunkShape: [nt],
        dtype: 'float64',
        codecs,
        fillValue: 0,
        dimensionNames: ['t'],
      });
      await zarr.set(redshifts, null, { data: Float64Array.from(record.redshifts), shape: [nt], stride: [1] });
    }
    const cone: StoredCone = {
      id: entries[index].id,
      source: record.source,
      nx,
      ny,
      nt,
      chunkSlices,
      params: record.params,
      firstSlice: record.firstSlice,
      firstNonZeroSlice: firstNonZeroSlice(record),
      hasRedshifts: record.redshifts !== undefined,
      history: record.history && {
        z: Array.from(record.history.z),
        xHI: record.history.xHI && Array.from(record.history.xHI),
        meanTb: record.history.meanTb && Array.from(record.history.meanTb),
      },
    };
    await zarr.create(root.resolve(conePath(index)), { attributes: { cone } });
    progress.cones.push(cone);
    progress.bytes += store.bytesWritten;
    store.bytesWritten = 0;
    await writeJsonAtomically(join(partial, progressName), progress);
    const seconds = (Date.now() - started) / 1000;
    const converted = index + 1 - resumedCones;
    const megabytes = progress.bytes / 1e6;
    options.onProgress?.({
      kind: 'store-cone',
      done: index + 1,
      total: entries.length,
      megabytes,
      megabytesPerSecond: megabytes / Math.max(seconds, 1e-3),
      etaSeconds: converted > 0 ? ((entries.length - index - 1) * seconds) / converted : null,
    });
  }
  const parameters = await zarr.create(root.resolve('parameters'), {
    shape: [entries.length, 6],
    chunkShape: [entries.length, 6],
    dtype: 'float64',
    codecs,
    fillValue: 0,
    dimensionNames: ['cone', 'parameter'],
    attributes: { names: [...parameterNames] },
  });
  const values = new Float64Array(entries.length * 6);
  progress.cones.forEach((cone, i) => parameterNames.forEach((name, j) => (values[i * 6 + j] = cone.params[name])));
  await zarr.set(parameters, null, { data: values, shape: [entries.length, 6], stride: [6, 1] });
  const seconds = (Date.now() - started) / 1000;
  const manifest: StoreManifest = {
    format: storeFormat,
    key,
    description: source.description,
    cones: progress.cones,
    createdAt: new Date().toISOString(),
    bytes: progress.bytes + store.bytesWritten,
    seconds,
  };
  // The root group's metadata is written last: a store whose manifest is there is complete.
  await zarr.create(root, { attributes: { l3m: manifest } });
  await rm(join(partial, progressName), { force: true });
  await rm(join(partial, lockName), { force: true });
  options.onProgress?.({ kind: 'store-done', folder, seconds, megabytes: manifest.bytes / 1e6 });
  return manifest;
}

/** Moves the finished partial folder into place; a previous store under the name is removed only after. */
async function commit(partial: string, folder: string): Promise<void> {
  const previous = `${folder}.previous-${process.pid}`;
  const hadPrevious = existsSync(folder);
  if (hadPrevious) await rename(folder, previous);
  try {
    await rename(partial, folder);
  } catch (error) {
    if (hadPrevious) await rename(previous, folder);
    throw error;
  }
  if (hadPrevious) await rm(previous, { recursive: true, force: true });
}
