// From a resolved experiment config's `data` section to ready training data: the lightcone source
// (simulator cache or files) and the train/validation/test split (openDataset, the one way every
// task, `l3m data` and the benchmarks open data), and the prepared cones for generation (transformed,
// trimmed, cosmic-time ordered). Regression tokens are built from the opened dataset by
// tasks/regression/regression_data.ts; everything below it is a pure function or a loader.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { ResolvedData } from '../../schemas/generated/experiment_config';
import type { PreparedCone } from './batches';
import { checkRegularFileSync } from '../runtime/regular_file';
import { DataError, type LightconeSource } from './lightcone_record';
import { Hdf5FilesSource } from './hdf5_source';
import { NpyFolderSource } from './npy_source';
import { NpzFolderSource } from './npz_source';
import { parameterNames, type ParameterName } from './parameters';
import {
  fitLogStandardization,
  toCosmicTimeOrder,
  transformVoxels,
  trimLateZeros,
  type SliceTransformOptions,
} from './preprocessing';
import { generateSimulatedDataset, type DatasetProgress, type SimulatedDataset } from './simulated_dataset';
import { splitByLightcone, type DatasetSplit } from './splits';
import type { Priors } from './dataset_cache';
import { errorReason } from '../protocol/error_message';

/** Schema parameter names (snake_case) → canonical names of parameters.ts. */
export const schemaParameterNames: Readonly<Record<string, ParameterName>> = {
  m_wdm: 'mWDM',
  omega_m: 'omegaM',
  e_0: 'E0',
  log10_l_x: 'log10LX',
  log10_t_vir: 'log10Tvir',
  zeta: 'zeta',
};

export interface OpenedDataset {
  source: LightconeSource;
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
  /** Cancels simulating a dataset (DatasetCancelledError); a cached or file dataset opens regardless. */
  signal?: AbortSignal;
}

function filesSource(data: ResolvedData, configDir: string): LightconeSource {
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
      return new Hdf5FilesSource(files);
    }
  }
}

/** Opens the configured dataset (simulating it on first use) and splits it by lightcone. */
export async function openDataset(data: ResolvedData, options: OpenOptions): Promise<OpenedDataset> {
  let source: LightconeSource;
  let simulated: SimulatedDataset | undefined;
  if (data.source === 'simulator') {
    const { m_wdm, omega_m, e_0, log10_l_x, log10_t_vir, zeta } = data.simulator.priors;
    const priors: Priors = { mWDM: m_wdm, omegaM: omega_m, E0: e_0, log10LX: log10_l_x, log10Tvir: log10_t_vir, zeta };
    simulated = await generateSimulatedDataset(
      { preset: data.simulator.preset, count: data.simulator.count, seed: data.simulator.seed, priors },
      {
        cacheRoot: options.cacheRoot,
        workers: options.workers,
        onProgress: options.onProgress,
        signal: options.signal,
      },
    );
    source = simulated.source;
  } else {
    source = filesSource(data, options.configDir);
  }
  const ids = (await source.list()).map((e) => e.id);
  const validation = data.splits.validation_fraction;
  const test = data.splits.test_fraction;
  const split = splitByLightcone(ids, { train: 1 - validation - test, validation, test }, data.splits.seed);
  return { source, ids, split, simulated };
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
 * Prepares cones for generation batches: cosmic-time order, trimmed, then `transform` applied
 * (pass undefined for raw mK values; buildGenerationSet fits it on the training split).
 */
export async function buildGenerationCones(
  opened: OpenedDataset,
  data: ResolvedData,
  ids: readonly string[],
  transform: SliceTransformOptions | undefined,
): Promise<PreparedCone[]> {
  const cones: PreparedCone[] = [];
  for (const id of ids) {
    const record = toCosmicTimeOrder(await opened.source.load(id));
    if (record.shape.nx !== record.shape.ny) {
      throw new DataError(
        `${record.source}: slices are ${record.shape.nx}×${record.shape.ny}; generation expects square slices.`,
      );
    }
    const trimmed = data.preprocessing.trim
      ? trimLateZeros(record.brightness, record.shape, data.preprocessing.trim_keep_slices)
      : { brightness: record.brightness, shape: record.shape };
    const slices = transform ? transformVoxels(trimmed.brightness, transform) : trimmed.brightness;
    cones.push({ slices, n: record.shape.nx, nt: trimmed.shape.nt, params: record.params });
  }
  return cones;
}

export interface GenerationSet {
  train: PreparedCone[];
  validation: PreparedCone[];
  test: PreparedCone[];
  /** The voxel transform applied (statistics of 'sgn_log' fitted on the training split); store it with the run. */
  transform: SliceTransformOptions | undefined;
}

/** Prepares all three splits for generation, fitting the 'sgn_log' statistics on training cones only. */
export async function buildGenerationSet(opened: OpenedDataset, data: ResolvedData): Promise<GenerationSet> {
  const untransformedTrain = await buildGenerationCones(opened, data, opened.split.train, undefined);
  const transform = sliceTransformOptions(
    data,
    untransformedTrain.map((c) => c.slices),
  );
  const train = transform
    ? untransformedTrain.map((c) => ({ ...c, slices: transformVoxels(c.slices, transform) }))
    : untransformedTrain;
  return {
    train,
    validation: await buildGenerationCones(opened, data, opened.split.validation, transform),
    test: await buildGenerationCones(opened, data, opened.split.test, transform),
    transform,
  };
}

/** Parameter names in canonical order, re-exported for CLI tables. */
export { parameterNames };
