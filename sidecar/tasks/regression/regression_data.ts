// The regression dataset of a config: lightcones from the built-in simulator (cached on disk by the
// data module) or from files, split by lightcone, turned into one row of scalar tokens per lightcone
// (the paper's global signal, or the reference code's patch means), standardised per token position
// with statistics of the training split only, and the six parameters min-max normalised to [0, 1].
//
// Global signal: the spatial mean of every slice, in cosmic-time order (high z first, as the
// reference flips time), averaged over bins of ⌊T / tokens⌋ slices, keeping the first `tokens` bins.
// For the paper's 2350-slice cones and 47 tokens that is the 50-slice binning of the data module;
// the simulator's shorter cones get the same number of tokens with proportionally shorter bins.
import { readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import { generateSimulatedDataset, type DatasetProgress } from '../../data/simulated_dataset';
import { Hdf5FilesSource } from '../../data/hdf5_source';
import { NpzFolderSource, labelOrders, type LabelOrder } from '../../data/npz_source';
import { NpyFolderSource } from '../../data/npy_source';
import { sliceMeans, type LightconeRecord, type LightconeSource } from '../../data/lightcone_record';
import { binnedMeans, fitStandardization, patchMeanTokens, standardize, toCosmicTimeOrder, type Standardization } from '../../data/preprocessing';
import { splitByLightcone } from '../../data/splits';
import { normalizeParams, parameterNames, type ParameterName } from '../../data/parameters';
import type { Priors } from '../../data/dataset_cache';
import type { RegressionData, RegressionSplit } from './regression_task';

export interface LoadedRegressionData {
  data: RegressionData;
  standardization: Standardization;
  /** Where the lightcones came from, for the log. */
  description: string;
}

/** The config's snake_case parameter keys, in the canonical order of sidecar/data/parameters.ts. */
const configKeys: Record<ParameterName, string> = {
  mWDM: 'm_wdm', omegaM: 'omega_m', E0: 'e_0', log10LX: 'log10_l_x', log10Tvir: 'log10_t_vir', zeta: 'zeta',
};

/** Tokens of one lightcone, before standardisation. */
export function lightconeTokens(record: LightconeRecord, preprocessing: ResolvedExperimentConfig['data']['preprocessing']): Float64Array {
  if (preprocessing.tokens === 'global_signal') {
    const count = preprocessing.global_signal_tokens;
    const means = sliceMeans(record).reverse(); // cosmic-time order: high z first
    const binSize = Math.floor(means.length / count);
    if (binSize < 1) {
      throw new Error(`Lightcone ${record.id} has ${means.length} slices, fewer than data.preprocessing.global_signal_tokens = ${count}; use fewer tokens or longer lightcones.`);
    }
    return binnedMeans(means, binSize).slice(0, count);
  }
  const [t, x, y] = preprocessing.patch_mean_shape;
  return Float64Array.from(patchMeanTokens(toCosmicTimeOrder(record), { t, x, y }).tokens);
}

function labelOrderOf(order: readonly string[]): LabelOrder {
  for (const [name, names] of Object.entries(labelOrders) as [LabelOrder, readonly ParameterName[]][]) {
    if (names.length === order.length && names.every((n, i) => configKeys[n] === order[i])) return name;
  }
  throw new Error(`data.files.label_order [${order.join(', ')}] is neither the code order [${labelOrders.code.map((n) => configKeys[n]).join(', ')}] `
    + `nor the README order [${labelOrders.readme.map((n) => configKeys[n]).join(', ')}]; use one of the two.`);
}

/**
 * Opens the config's lightcone source (simulating and caching the dataset on first use). An abort of
 * `signal` while simulating rejects with DatasetCancelledError and leaves the cache as it was.
 */
export async function openSource(config: ResolvedExperimentConfig, configDir: string, onProgress?: (event: DatasetProgress) => void,
  signal?: AbortSignal): Promise<LightconeSource> {
  const data = config.data;
  if (data.source === 'simulator') {
    const priors = Object.fromEntries(parameterNames.map((name) => {
      const range = (data.simulator.priors as unknown as Record<string, { min: number; max: number }>)[configKeys[name]];
      return [name, { min: range.min, max: range.max }];
    })) as Priors;
    const dataset = await generateSimulatedDataset({ preset: data.simulator.preset, count: data.simulator.count, seed: data.simulator.seed, priors }, { onProgress, signal });
    return dataset.source;
  }
  const folder = isAbsolute(data.files.path) ? data.files.path : resolve(configDir, data.files.path);
  switch (data.files.format) {
    case 'npz':
      return new NpzFolderSource(folder, { labelOrder: labelOrderOf(data.files.label_order) });
    case 'npy':
      return new NpyFolderSource(folder);
    case 'hdf5': {
      let files: string[];
      try {
        files = readdirSync(folder).filter((f) => /\.(h5|hdf5)$/i.test(f)).sort().map((f) => join(folder, f));
      } catch (error) {
        throw new Error(`data.files.path ${folder} cannot be listed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); point it at a folder of 21cmFAST lightcone .h5 files.`);
      }
      if (files.length === 0) throw new Error(`data.files.path ${folder} holds no .h5/.hdf5 files; point it at a folder of 21cmFAST lightcone files.`);
      return new Hdf5FilesSource(files);
    }
  }
}

/** Loads every lightcone of the source once, split, tokenised, standardised. */
export async function loadRegressionData(config: ResolvedExperimentConfig, source: LightconeSource,
  onProgress?: (done: number, total: number) => void): Promise<LoadedRegressionData> {
  const entries = await source.list();
  const { validation_fraction: validation, test_fraction: test, seed } = config.data.splits;
  const split = splitByLightcone(entries.map((e) => e.id), { train: 1 - validation - test, validation, test }, seed);
  if (split.train.length === 0) {
    throw new Error(`The dataset (${source.description}) has ${entries.length} lightcones and none is left for training after the validation and test fractions; use more lightcones.`);
  }
  const raw = new Map<string, { tokens: Float64Array; targets: Float64Array }>();
  let done = 0;
  for (const id of [...split.train, ...split.validation, ...split.test]) {
    const record = await source.load(id);
    raw.set(id, { tokens: lightconeTokens(record, config.data.preprocessing), targets: normalizeParams(record.params) });
    onProgress?.(++done, entries.length);
  }
  const tokenCount = raw.get(split.train[0])!.tokens.length;
  for (const [id, row] of raw) {
    if (row.tokens.length !== tokenCount) {
      throw new Error(`Lightcone ${id} gives ${row.tokens.length} tokens but ${split.train[0]} gives ${tokenCount}; all lightcones of a dataset need the same shape.`);
    }
  }
  const standardization = config.data.preprocessing.standardize
    ? fitStandardization(split.train.map((id) => raw.get(id)!.tokens))
    : { mean: new Array<number>(tokenCount).fill(0), std: new Array<number>(tokenCount).fill(1) };
  const build = (ids: string[]): RegressionSplit => {
    const tokens = new Float32Array(ids.length * tokenCount);
    const targets = new Float32Array(ids.length * 6);
    ids.forEach((id, i) => {
      const row = raw.get(id)!;
      tokens.set(standardize(row.tokens, standardization), i * tokenCount);
      targets.set(row.targets, i * 6);
    });
    return { ids, tokens, targets };
  };
  return {
    data: { tokenCount, train: build(split.train), validation: build(split.validation), test: build(split.test) },
    standardization,
    description: source.description,
  };
}
