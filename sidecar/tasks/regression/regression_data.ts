// The regression dataset of a config: the lightcones and split that data/dataset.ts's openDataset
// opens (the built-in simulator's cache, or files, converted into the dataset's store), turned into one
// row of scalar tokens per lightcone
// (the paper's global signal, or the reference code's patch means), standardised per token position
// with statistics of the training split only, and the six parameters min-max normalised to [0, 1].
//
// Global signal: the spatial mean of every slice, in cosmic-time order (high z first, as the
// reference flips time), averaged over bins of ⌊T / tokens⌋ slices, keeping the first `tokens` bins.
// For the paper's 2350-slice cones and 47 tokens that is the 50-slice binning of the data module;
// the simulator's shorter cones get the same number of tokens with proportionally shorter bins.
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import type { OpenedDataset } from '../../data/dataset';
import { sliceMeans, type LightconeRecord } from '../../data/lightcone_record';
import {
  binnedMeans,
  fitStandardization,
  patchMeanTokens,
  standardize,
  toCosmicTimeOrder,
  type Standardization,
} from '../../data/preprocessing';
import { normalizeParams } from '../../data/parameters';
import type { RegressionData, RegressionSplit } from './regression_task';

export interface LoadedRegressionData {
  data: RegressionData;
  standardization: Standardization;
  /** Where the lightcones came from, for the log. */
  description: string;
}

/** Tokens of one lightcone, before standardisation. */
export function lightconeTokens(
  record: LightconeRecord,
  preprocessing: ResolvedExperimentConfig['data']['preprocessing'],
): Float64Array {
  if (preprocessing.tokens === 'global_signal')
    return globalSignalTokenRow(sliceMeans(record), record.id, preprocessing);
  const [t, x, y] = preprocessing.patch_mean_shape;
  return Float64Array.from(patchMeanTokens(toCosmicTimeOrder(record), { t, x, y }).tokens);
}

/**
 * Tokens of the dataset's lightcone `id`: global-signal tokens from the store's global signal (the
 * slice means the conversion computed, the same floats as sliceMeans of the cone), so that no voxel
 * is read; patch-mean tokens from the cone's voxels.
 */
async function coneTokens(
  dataset: OpenedDataset,
  id: string,
  preprocessing: ResolvedExperimentConfig['data']['preprocessing'],
): Promise<{ tokens: Float64Array; targets: Float64Array }> {
  const index = dataset.store.indexOf(id);
  if (preprocessing.tokens === 'global_signal' && index >= 0) {
    const cone = dataset.store.cone(index);
    const means = dataset.store.globalSignal(index);
    return { tokens: globalSignalTokenRow(means, cone.id, preprocessing), targets: normalizeParams(cone.params) };
  }
  const record = await dataset.source.load(id);
  return { tokens: lightconeTokens(record, preprocessing), targets: normalizeParams(record.params) };
}

/** Global-signal tokens from the slice means in redshift order (see the header). */
function globalSignalTokenRow(
  sliceMeansByRedshift: Float64Array,
  id: string,
  preprocessing: ResolvedExperimentConfig['data']['preprocessing'],
): Float64Array {
  const count = preprocessing.global_signal_tokens;
  const means = Float64Array.from(sliceMeansByRedshift).reverse(); // cosmic-time order: high z first
  const binSize = Math.floor(means.length / count);
  if (binSize < 1) {
    throw new Error(
      `Lightcone ${id} has ${means.length} slices, fewer than data.preprocessing.global_signal_tokens = ${count}; use fewer tokens or longer lightcones.`,
    );
  }
  return binnedMeans(means, binSize).slice(0, count);
}

/**
 * Loads every lightcone of a dataset opened by data/dataset.ts's openDataset once, in its split,
 * tokenised and standardised with statistics of the training split.
 */
export async function loadRegressionData(
  config: ResolvedExperimentConfig,
  dataset: OpenedDataset,
  onProgress?: (done: number, total: number) => void,
): Promise<LoadedRegressionData> {
  const { source, ids, split } = dataset;
  if (split.train.length === 0) {
    throw new Error(
      `The dataset (${source.description}) has ${ids.length} lightcones and none is left for training after the validation and test fractions; use more lightcones.`,
    );
  }
  const raw = new Map<string, { tokens: Float64Array; targets: Float64Array }>();
  let done = 0;
  for (const id of [...split.train, ...split.validation, ...split.test]) {
    raw.set(id, await coneTokens(dataset, id, config.data.preprocessing));
    onProgress?.(++done, ids.length);
  }
  const tokenCount = raw.get(split.train[0])!.tokens.length;
  for (const [id, row] of raw) {
    if (row.tokens.length !== tokenCount) {
      throw new Error(
        `Lightcone ${id} gives ${row.tokens.length} tokens but ${split.train[0]} gives ${tokenCount}; all lightcones of a dataset need the same shape.`,
      );
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
