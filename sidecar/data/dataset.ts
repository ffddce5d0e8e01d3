// From a resolved experiment config's `data` section to ready training data: the lightcone source
// (simulator cache or files), the train/validation/test split, and the prepared samples for
// regression (standardised global-signal or patch-mean tokens + parameters) and generation
// (transformed, trimmed, cosmic-time ordered cones). This is the one entry point the training and
// CLI code use; everything below it is a pure function or a loader.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { ResolvedData } from '../../schemas/generated/experiment_config';
import type { PreparedCone, RegressionSample } from './batches';
import { DataError, type LightconeRecord, type LightconeSource } from './lightcone_record';
import { Hdf5FilesSource } from './hdf5_source';
import { NpyFolderSource } from './npy_source';
import { NpzFolderSource } from './npz_source';
import { parameterNames, type ParameterName } from './parameters';
import {
  fitLogStandardization, fitStandardization, globalSignalTokens, patchMeanTokens, standardize, toCosmicTimeOrder,
  transformVoxels, trimLateZeros, type SliceTransformOptions, type Standardization,
} from './preprocessing';
import { generateSimulatedDataset, type DatasetProgress, type SimulatedDataset } from './simulated_dataset';
import { splitByLightcone, type DatasetSplit } from './splits';
import type { Priors } from './dataset_cache';

/** Schema parameter names (snake_case) → canonical names of parameters.ts. */
export const schemaParameterNames: Readonly<Record<string, ParameterName>> = {
  m_wdm: 'mWDM', omega_m: 'omegaM', e_0: 'E0', log10_l_x: 'log10LX', log10_t_vir: 'log10Tvir', zeta: 'zeta',
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
    throw new DataError(`${path}: data.files.path does not exist; expected a folder of ${data.files.format} lightcones.`);
  }
  const isFolder = statSync(path).isDirectory();
  switch (data.files.format) {
    case 'npz': {
      const labelOrder = data.files.label_order.map((name) => schemaParameterNames[name]);
      const folder = isFolder ? path : dirname(path);
      return new NpzFolderSource(folder, { labelOrder });
    }
    case 'npy':
      return new NpyFolderSource(isFolder ? path : dirname(path));
    case 'hdf5': {
      const files = isFolder
        ? readdirSync(path).filter((n) => ['.h5', '.hdf5'].includes(extname(n).toLowerCase())).map((n) => join(path, n))
        : [path];
      if (files.length === 0) throw new DataError(`${path}: no .h5/.hdf5 files found; expected 21cmFAST lightcone files.`);
      return new Hdf5FilesSource(files);
    }
  }
}

/** Opens the configured dataset (simulating it on first use) and splits it by lightcone. */
export async function openDataset(data: ResolvedData, options: OpenOptions): Promise<OpenedDataset> {
  let source: LightconeSource;
  let simulated: SimulatedDataset | undefined;
  if (data.source === 'simulator') {
    const priors = Object.fromEntries(Object.entries(data.simulator.priors).map(([name, range]) => [schemaParameterNames[name], range])) as Priors;
    simulated = await generateSimulatedDataset(
      { preset: data.simulator.preset, count: data.simulator.count, seed: data.simulator.seed, priors },
      { cacheRoot: options.cacheRoot, workers: options.workers, onProgress: options.onProgress, signal: options.signal },
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

/** Regression tokens of one record, unstandardised, in cosmic-time order (as the reference feeds them). */
export function regressionTokens(record: LightconeRecord, data: ResolvedData): Float32Array {
  const ordered = toCosmicTimeOrder(record);
  if (data.preprocessing.tokens === 'patch_mean') {
    const [t, x, y] = data.preprocessing.patch_mean_shape;
    return patchMeanTokens(ordered, { t, x, y }).tokens;
  }
  // Bin size chosen so that the cone gives exactly `global_signal_tokens` bins (50 for 2350 → 47).
  const binSize = Math.floor(record.shape.nt / data.preprocessing.global_signal_tokens);
  if (binSize < 1) {
    throw new DataError(`${record.source}: ${record.shape.nt} slices cannot give ${data.preprocessing.global_signal_tokens} global-signal tokens; ` +
      'lower data.preprocessing.global_signal_tokens.');
  }
  return Float32Array.from(globalSignalTokens(ordered, binSize).subarray(0, data.preprocessing.global_signal_tokens));
}

export interface RegressionSet {
  train: RegressionSample[];
  validation: RegressionSample[];
  test: RegressionSample[];
  /** Fitted on the training split; store it with the run to apply it at inference. */
  standardization: Standardization;
}

/** Loads every cone once and builds standardised regression samples per split. */
export async function buildRegressionSet(opened: OpenedDataset, data: ResolvedData): Promise<RegressionSet> {
  const raw = new Map<string, { tokens: Float32Array; record: LightconeRecord }>();
  for (const id of opened.ids) {
    const record = await opened.source.load(id);
    raw.set(id, { tokens: regressionTokens(record, data), record });
  }
  const standardization = fitStandardization(opened.split.train.map((id) => raw.get(id)!.tokens));
  const make = (ids: string[]) => ids.map((id) => {
    const { tokens, record } = raw.get(id)!;
    return { tokens: data.preprocessing.standardize ? standardize(tokens, standardization) : tokens, params: record.params };
  });
  return { train: make(opened.split.train), validation: make(opened.split.validation), test: make(opened.split.test), standardization };
}

/** The configured voxel transform; 'sgn_log' needs statistics fitted on training cones. */
export function sliceTransformOptions(data: ResolvedData, trainingVoxels: readonly Float32Array[]): SliceTransformOptions | undefined {
  switch (data.preprocessing.slice_transform) {
    case 'none': return undefined;
    case 'sgn_log1p': return { kind: 'log1p' };
    case 'sgn_log':
      return data.preprocessing.standardize ? { kind: 'log', ...fitLogStandardization(trainingVoxels) } : { kind: 'log', shift: 0, scale: 1 };
  }
}

/**
 * Prepares cones for generation batches: cosmic-time order, trimmed, then `transform` applied
 * (pass undefined for raw mK values; buildGenerationSet fits it on the training split).
 */
export async function buildGenerationCones(opened: OpenedDataset, data: ResolvedData, ids: readonly string[],
  transform: SliceTransformOptions | undefined): Promise<PreparedCone[]> {
  const cones: PreparedCone[] = [];
  for (const id of ids) {
    const record = toCosmicTimeOrder(await opened.source.load(id));
    if (record.shape.nx !== record.shape.ny) {
      throw new DataError(`${record.source}: slices are ${record.shape.nx}×${record.shape.ny}; generation expects square slices.`);
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
  const transform = sliceTransformOptions(data, untransformedTrain.map((c) => c.slices));
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
