// From a resolved experiment config's `data` section to ready training data: the lightcone source
// (simulator cache or files), converted once into its chunked store (store/), and the
// train/validation/test split (openDataset, the one way every task, `l3m data` and the benchmarks open
// data), and the prepared cones for generation (transformed, trimmed, cosmic-time ordered), read from
// the store a window at a time. Regression tokens are built from the opened dataset by
// tasks/regression/regression_data.ts; everything below it is a pure function or a loader.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { ResolvedData } from '../../schemas/generated/experiment_config';
import type { PreparedCone } from './batches';
import { datasetCacheRoot } from './dataset_cache';
import { ConeStore } from './store/cone_store';
import { ensureStore, type StoreProgress } from './store/convert_store';
import { storesRoot } from './store/store_layout';
import { StoreSource } from './store/store_source';
import { checkRegularFileSync } from '../runtime/regular_file';
import { DataError, type LightconeSource } from './lightcone_record';
import { Hdf5FilesSource } from './hdf5_source';
import { NpyFolderSource } from './npy_source';
import { NpzFolderSource } from './npz_source';
import { hasExplicitLabels, readExplicitLabels } from './label_source';
import { parameterFromSchemaName, parameterNames, type ParameterName } from './parameters';
import { LogStatistics, fitLogStandardization, transformVoxels, type SliceTransformOptions } from './preprocessing';
import { generateSimulatedDataset, type DatasetProgress, type SimulatedDataset } from './simulated_dataset';
import { splitByLightcone, type DatasetSplit } from './splits';
import { UniformLightcones } from './uniform_lightcones';
import type { Priors } from './dataset_cache';
import { errorReason } from '../protocol/error_message';

/** Schema parameter names (snake_case) → canonical names of parameters.ts. */
export const schemaParameterNames: Readonly<Record<string, ParameterName>> = parameterFromSchemaName;

export interface OpenedDataset {
  /** The dataset's store as a LightconeSource: the original ids, parameters and voxels. */
  source: LightconeSource;
  /** The converted store every read goes through, with its chunk cache of data.cache_mb. */
  store: ConeStore;
  /** True when the store was found in the cache rather than converted by this call. */
  storeFromCache: boolean;
  ids: string[];
  split: DatasetSplit;
  /** Set when the data come from the simulator. */
  simulated?: SimulatedDataset;
}

export interface OpenOptions {
  /** Folder of the config file, against which a relative `data.files.path` is resolved. */
  configDir: string;
  cacheRoot?: string;
  workers?: number;
  onProgress?: (event: DatasetProgress) => void;
  /** Cancels simulating a dataset (DatasetCancelledError) or converting it into its store (between cones). */
  signal?: AbortSignal;
  /** The conversion into the store, as a phase line with progress and ETA ("converting lightcones 3/50 …"). */
  onPhase?: (text: string) => void;
  /** Converts the source into a new store even when one is cached (`l3m data --rebuild`). */
  rebuild?: boolean;
  /** Worker threads prefetching chunks (default 1; 0 for none). */
  prefetchWorkers?: number;
}

/** A phase line of a store conversion; undefined for events that are not progress. */
export function storePhase(event: StoreProgress): string | undefined {
  if (event.kind === 'store-waiting')
    return `waiting for process ${event.pid}, which is converting this dataset into its store`;
  if (event.kind !== 'store-cone') return undefined;
  const eta = event.etaSeconds === null ? '' : `, ETA ${formatSeconds(event.etaSeconds)}`;
  return `converting lightcones into the store ${event.done}/${event.total} (${event.megabytesPerSecond.toFixed(1)} MB/s written${eta})`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * What determines a file dataset's content without reading its voxels: the resolved `data.files`
 * settings, every file of the folder by name, size and modification time, and what the source lists
 * (ids, shapes and the six parameters as the source maps them). Hashing the voxels themselves would
 * cost as much as converting them.
 */
async function filesFingerprint(data: ResolvedData, configDir: string, source: LightconeSource): Promise<unknown> {
  const path = isAbsolute(data.files.path) ? data.files.path : resolve(configDir, data.files.path);
  const folder = statSync(path).isDirectory() ? path : dirname(path);
  const names = (await readdir(folder)).sort();
  const files = [];
  for (const name of names) {
    const info = await stat(join(folder, name));
    if (info.isFile()) files.push({ name, size: info.size, mtimeMs: info.mtimeMs });
  }
  return { kind: 'files', path, settings: data.files, files, entries: await source.list() };
}

/** The configured files as a source, before any store: `l3m data` lists it for where each label came from. */
export function filesSource(data: ResolvedData, configDir: string): LightconeSource {
  const path = isAbsolute(data.files.path) ? data.files.path : resolve(configDir, data.files.path);
  if (!existsSync(path)) {
    throw new DataError(
      `${path}: data.files.path does not exist; point it at a folder of ${data.files.format} lightcones ` +
        '(a relative path is resolved against the folder of the config file).',
    );
  }
  const isFolder = statSync(path).isDirectory();
  if (!isFolder) {
    checkRegularFileSync(
      path,
      `a folder of ${data.files.format} lightcones, or one such file (data.files.path)`,
      (message) => new DataError(message),
    );
  }
  if (data.files.format !== 'hdf5' && hasExplicitLabels(data.files.labels)) {
    throw new DataError(
      `${path}: data.files.labels gives labels, but data.files.format is '${data.files.format}', whose files carry their own; ` +
        "explicit labels are for 21cmFAST HDF5 files (format 'hdf5'). Remove data.files.labels, or fix the labels in the files.",
    );
  }
  switch (data.files.format) {
    case 'npz': {
      const labelOrder = data.files.label_order.map((name) => schemaParameterNames[name]);
      const folder = isFolder ? path : dirname(path);
      return new NpzFolderSource(folder, { labelOrder });
    }
    case 'npy':
      return new NpyFolderSource(isFolder ? path : dirname(path));
    case 'hdf5': {
      let files = [path];
      if (isFolder) {
        try {
          files = readdirSync(path)
            .filter((n) => ['.h5', '.hdf5'].includes(extname(n).toLowerCase()))
            .map((n) => join(path, n));
        } catch (error) {
          throw new DataError(
            `${path}: data.files.path cannot be listed (${errorReason(error)}); ` +
              'point it at a readable folder of 21cmFAST lightcone .h5 files.',
          );
        }
      }
      if (files.length === 0)
        throw new DataError(
          `${path}: no .h5/.hdf5 files found; point data.files.path at a folder of 21cmFAST lightcone files.`,
        );
      return new Hdf5FilesSource(files, { labels: readExplicitLabels(data.files.labels, configDir) });
    }
  }
}

/**
 * Opens the configured dataset (simulating it on first use), converts it into its store on first use
 * (store/convert_store.ts), and splits it by lightcone. Every later read goes through the store.
 */
export async function openDataset(data: ResolvedData, options: OpenOptions): Promise<OpenedDataset> {
  let raw: LightconeSource;
  let simulated: SimulatedDataset | undefined;
  let fingerprint: unknown;
  const cacheRoot = options.cacheRoot ?? datasetCacheRoot();
  if (data.source === 'simulator') {
    const { m_wdm, omega_m, e_0, log10_l_x, log10_t_vir, zeta } = data.simulator.priors;
    const priors: Priors = { mWDM: m_wdm, omegaM: omega_m, E0: e_0, log10LX: log10_l_x, log10Tvir: log10_t_vir, zeta };
    simulated = await generateSimulatedDataset(
      { preset: data.simulator.preset, count: data.simulator.count, seed: data.simulator.seed, priors },
      {
        cacheRoot,
        workers: options.workers,
        onProgress: options.onProgress,
        signal: options.signal,
      },
    );
    raw = simulated.source;
    fingerprint = { kind: 'simulator', hash: simulated.manifest.hash };
  } else {
    raw = new UniformLightcones(filesSource(data, options.configDir));
    fingerprint = await filesFingerprint(data, options.configDir, raw);
  }
  let converted;
  try {
    converted = await ensureStore(raw, {
      root: storesRoot(cacheRoot),
      fingerprint,
      rebuild: options.rebuild,
      signal: options.signal,
      onProgress: (event) => {
        options.onProgress?.(event);
        const phase = storePhase(event);
        if (phase) options.onPhase?.(phase);
      },
    });
  } finally {
    await raw.close();
  }
  const store = await ConeStore.open(converted.folder, {
    cacheMb: data.cache_mb,
    prefetchWorkers: options.prefetchWorkers,
  });
  const source = new StoreSource(store);
  const ids = store.cones.map((c) => c.id);
  const validation = data.splits.validation_fraction;
  const test = data.splits.test_fraction;
  const split = splitByLightcone(ids, { train: 1 - validation - test, validation, test }, data.splits.seed);
  return { source, store, storeFromCache: converted.fromCache, ids, split, simulated };
}

/** The configured voxel transform; 'sgn_log' needs statistics fitted on training cones. */
export function sliceTransformOptions(
  data: ResolvedData,
  trainingVoxels: readonly Float32Array[],
): SliceTransformOptions | undefined {
  switch (data.preprocessing.slice_transform) {
    case 'none':
      return undefined;
    case 'sgn_log1p':
      return { kind: 'log1p' };
    case 'sgn_log':
      return data.preprocessing.standardize
        ? { kind: 'log', ...fitLogStandardization(trainingVoxels) }
        : { kind: 'log', shift: 0, scale: 1 };
  }
}

/**
 * A cone of the store prepared for generation: cosmic-time order (high z first), trimmed as configured
 * (from the first non-zero slice the conversion recorded) and transformed on read. Each window gives
 * the same floats as transforming the whole trimmed cone and cutting the window out of it.
 */
export function storedGenerationCone(
  opened: OpenedDataset,
  data: ResolvedData,
  id: string,
  transform: SliceTransformOptions | undefined,
): PreparedCone {
  const store = opened.store;
  const index = store.indexOf(id);
  if (index < 0)
    throw new DataError(`${store.folder}: no lightcone "${id}" in the store of ${store.manifest.description}.`);
  const cone = store.cone(index);
  if (cone.nx !== cone.ny) {
    throw new DataError(`${cone.source}: slices are ${cone.nx}×${cone.ny}; generation expects square slices.`);
  }
  const full = cone.nt;
  const nt = data.preprocessing.trim
    ? Math.min(full, full - cone.firstNonZeroSlice + data.preprocessing.trim_keep_slices)
    : full;
  const plane = cone.nx * cone.ny;
  return {
    n: cone.nx,
    nt,
    params: cone.params,
    readSlices(start, end) {
      if (start < 0 || end > nt || start >= end) {
        throw new Error(`Lightcone ${id}: slices [${start}, ${end}) are outside its ${nt} prepared slices.`);
      }
      // Cosmic-time slices [start, end) are the stored (redshift-order) slices [full − end, full − start), reversed.
      const stored = store.readSlices(index, full - end, full - start);
      const out = new Float32Array(stored.length);
      const count = end - start;
      for (let k = 0; k < count; k++) out.set(stored.subarray(k * plane, (k + 1) * plane), (count - 1 - k) * plane);
      return transform ? transformVoxels(out, transform) : out;
    },
    prefetch(start, end) {
      store.prefetch([{ cone: index, start: full - Math.min(end, nt), end: full - Math.max(start, 0) }]);
    },
    redshifts(start, end) {
      const stored = store.redshifts(index);
      if (!stored || start < 0 || end > nt) return undefined;
      // Cosmic-time slice k is stored slice full − 1 − k, as in readSlices.
      return Array.from({ length: Math.max(end - start, 0) }, (_, k) => stored[full - 1 - (start + k)]);
    },
  };
}

/** Prepared cones of `ids` (cosmic-time order, trimmed, then `transform` applied on read; undefined for raw mK). */
export function buildGenerationCones(
  opened: OpenedDataset,
  data: ResolvedData,
  ids: readonly string[],
  transform: SliceTransformOptions | undefined,
): PreparedCone[] {
  return ids.map((id) => storedGenerationCone(opened, data, id, transform));
}

/** Calls `visit` with every cone's slices in order, a block of whole slices at a time (bounded memory). */
export function forEachSliceBlock(
  cones: readonly PreparedCone[],
  visit: (slices: Float32Array, cone: PreparedCone) => void,
  blockSlices = 32,
): void {
  for (const cone of cones) {
    for (let start = 0; start < cone.nt; start += blockSlices) {
      visit(cone.readSlices(start, Math.min(cone.nt, start + blockSlices)), cone);
    }
  }
}

export interface GenerationSet {
  train: PreparedCone[];
  validation: PreparedCone[];
  test: PreparedCone[];
  /** The voxel transform applied (statistics of 'sgn_log' fitted on the training split); store it with the run. */
  transform: SliceTransformOptions | undefined;
}

/**
 * Prepares all three splits for generation, fitting the 'sgn_log' statistics on training cones only
 * in one streaming pass over them (the same sums in the same order as over whole cones), unless
 * `fitted` gives the transform that pass gave before (store/training_statistics.ts).
 */
export function buildGenerationSet(
  opened: OpenedDataset,
  data: ResolvedData,
  fitted?: { transform: SliceTransformOptions | undefined },
): GenerationSet {
  let transform: SliceTransformOptions | undefined;
  if (fitted) {
    transform = fitted.transform;
  } else if (data.preprocessing.slice_transform === 'sgn_log' && data.preprocessing.standardize) {
    const statistics = new LogStatistics();
    forEachSliceBlock(buildGenerationCones(opened, data, opened.split.train, undefined), (slices) =>
      statistics.add(slices),
    );
    transform = { kind: 'log', ...statistics.result() };
  } else {
    transform = sliceTransformOptions(data, []);
  }
  return {
    train: buildGenerationCones(opened, data, opened.split.train, transform),
    validation: buildGenerationCones(opened, data, opened.split.validation, transform),
    test: buildGenerationCones(opened, data, opened.split.test, transform),
    transform,
  };
}

/** Parameter names in canonical order, re-exported for CLI tables. */
export { parameterNames };
