// The generation task's data: the config's lightcones (simulator cache or files, data/dataset.ts),
// read from the dataset's store a window at a time (memory bounded by data.cache_mb, whatever the
// dataset's size), split by lightcone, in cosmic-time order, trimmed and transformed (statistics fitted
// on the training split in one streaming pass, kept in the store for the next run), cut into
// sublightcone windows; and the batches the trainer asks for: a training example is a window of `data.sublightcone` (stride apart), read from a random offset inside its stride (the
// reference's random crop of t_max slices inside a stored chunk, docs/paper-mapping.md#generation), with a
// random rotation / mirror / periodic shift as configured, cut into p×p patches.
import type { ResolvedExperimentConfig } from '../../../schemas/generated/experiment_config';
import { identityAugmentation, randomAugmentation, type Augmentation } from '../../data/augmentation';
import { patchGatherIndex, type PreparedCone } from '../../data/batches';
import { buildGenerationSet, forEachSliceBlock, openDataset } from '../../data/dataset';
import { normalizeParams } from '../../data/parameters';
import type { SliceTransformOptions } from '../../data/preprocessing';
import { readTrainingStatistics, statisticsKey, writeTrainingStatistics } from '../../data/store/training_statistics';
import type { DatasetProgress } from '../../data/simulated_dataset';
import { patchGrid } from '../../data/tokenization';
import type { Random } from '../../data/splits';

export interface ConeSplit {
  ids: string[];
  cones: PreparedCone[];
}

export interface WindowRef {
  cone: number;
  start: number;
}

export interface GenerationData {
  train: ConeSplit;
  validation: ConeSplit;
  test: ConeSplit;
  transform: SliceTransformOptions | undefined;
  /** Slices of the longest training cone: the time-step normalisation (timeStepValue). */
  sliceScale: number;
  n: number;
  patchSize: number;
  rows: number;
  cols: number;
  windowLength: number;
  contextSlices: number;
  stride: number;
  trainWindows: WindowRef[];
  /** Per-pixel mean of every training patch (p²): the mean-patch baseline. */
  meanPatch: Float32Array;
  /** The store's chunk cache in MB (data.cache_mb), for the "Data:" line; absent for data held in memory. */
  cacheMb?: number;
  /** Stops the store's prefetching workers; data held in memory need none. */
  close?: () => Promise<void>;
}

/** Loads, splits and prepares the config's dataset for generation. */
export async function loadGenerationData(
  config: ResolvedExperimentConfig,
  configDir: string,
  onProgress?: (event: DatasetProgress) => void,
  signal?: AbortSignal,
  onPhase?: (text: string) => void,
): Promise<GenerationData> {
  const opened = await openDataset(config.data, { configDir, onProgress, signal, onPhase });
  const patchSize = config.data.patch_size;
  const { preprocessing } = config.data;
  const statisticsInputs = {
    train: opened.split.train,
    sliceTransform: preprocessing.slice_transform,
    standardize: preprocessing.standardize,
    trim: preprocessing.trim,
    trimKeepSlices: preprocessing.trim_keep_slices,
    patchSize,
  };
  const key = statisticsKey(opened.store.manifest.key, statisticsInputs);
  const stored = await readTrainingStatistics(opened.store.folder, key, patchSize);
  const set = buildGenerationSet(opened, config.data, stored);
  if (set.train.length === 0)
    throw new Error(
      `The dataset has ${opened.ids.length} lightcones and none is left for training after the validation and test fractions; use more lightcones.`,
    );
  const { n } = set.train[0];
  const grid = patchGrid(n, n, 1, patchSize);
  const { length, context } = config.data.sublightcone;
  const stride = config.data.sublightcone.stride ?? length - context;
  const trainWindows: WindowRef[] = [];
  set.train.forEach((cone, index) => {
    if (cone.n !== n)
      throw new Error(
        `Lightcone ${opened.split.train[index]} has ${cone.n}² slices but ${opened.split.train[0]} has ${n}²; a dataset needs one slice size.`,
      );
    if (cone.nt < length)
      throw new Error(
        `Lightcone ${opened.split.train[index]} has ${cone.nt} slices after trimming, fewer than data.sublightcone.length ${length}; keep more slices (data.preprocessing.trim_keep_slices) or shorten the window.`,
      );
    for (let start = 0; start + length <= cone.nt; start += stride) trainWindows.push({ cone: index, start });
  });
  const statistics = stored ?? { transform: set.transform, meanPatch: meanPatch(set.train, patchSize) };
  if (!stored) await writeTrainingStatistics(opened.store.folder, key, statisticsInputs, statistics);
  return {
    train: { ids: opened.split.train, cones: set.train },
    validation: { ids: opened.split.validation, cones: set.validation },
    test: { ids: opened.split.test, cones: set.test },
    transform: set.transform,
    sliceScale: Math.max(...set.train.map((c) => c.nt)),
    n,
    patchSize,
    rows: grid.rows,
    cols: grid.cols,
    windowLength: length,
    contextSlices: context,
    stride,
    trainWindows,
    meanPatch: statistics.meanPatch,
    cacheMb: config.data.cache_mb,
    close: () => opened.store.close(),
  };
}

/** Patches (length, rows·cols, p²) of slices start … start+length−1 of a cone, after an augmentation. */
export function windowPatches(
  cone: PreparedCone,
  start: number,
  length: number,
  patchSize: number,
  augmentation: Augmentation = identityAugmentation,
): Float32Array {
  if (start < 0 || start + length > cone.nt)
    throw new Error(`windowPatches: slices ${start}…${start + length - 1} are outside the cone's ${cone.nt} slices.`);
  const gather = patchGatherIndex(cone.n, patchSize, augmentation);
  const plane = cone.n * cone.n;
  const slices = cone.readSlices(start, start + length);
  const out = new Float32Array(length * plane);
  for (let k = 0; k < length; k++) {
    const base = k * plane;
    for (let o = 0; o < plane; o++) out[k * plane + o] = slices[base + gather[o]];
  }
  return out;
}

/**
 * Per-pixel mean over every patch of every slice of the cones, in one pass a block of slices at a
 * time (the same sums in the same order as over whole cones).
 */
export function meanPatch(cones: readonly PreparedCone[], patchSize: number): Float32Array {
  const p2 = patchSize * patchSize;
  const sums = new Float64Array(p2);
  let count = 0;
  const gathers = new Map<number, Int32Array>();
  forEachSliceBlock(cones, (slices, cone) => {
    let gather = gathers.get(cone.n);
    if (!gather) gathers.set(cone.n, (gather = patchGatherIndex(cone.n, patchSize, identityAugmentation)));
    const plane = cone.n * cone.n;
    for (let base = 0; base < slices.length; base += plane) {
      for (let i = 0; i < plane; i += p2) {
        for (let j = 0; j < p2; j++) sums[j] += slices[base + gather[i + j]];
        count++;
      }
    }
  });
  return Float32Array.from(sums, (s) => s / Math.max(1, count));
}

/**
 * Asks the cones' stores to read ahead the slices that training examples `indices` can draw (each
 * window's whole stride of random offsets), so the next batch finds its chunks decoded.
 */
export function prefetchTrainingWindows(data: GenerationData, indices: ArrayLike<number>): void {
  for (let b = 0; b < indices.length; b++) {
    const window = data.trainWindows[indices[b]];
    if (!window) continue;
    const cone = data.train.cones[window.cone];
    cone.prefetch?.(window.start, Math.min(cone.nt, window.start + data.stride - 1 + data.windowLength));
  }
}

export interface WindowBatch {
  /** (B, length, rows·cols, p²) */
  patches: Float32Array;
  /** (B, 6) */
  params: Float32Array;
  /** (B) start slices in their cones */
  starts: Int32Array;
  batchSize: number;
}

/** A training batch: each window read from a random offset within its stride, randomly augmented as configured. */
export function trainingBatch(
  data: GenerationData,
  indices: ArrayLike<number>,
  augmentation: ResolvedExperimentConfig['data']['augmentation'],
  random: Random,
  rows?: { start: number; size: number },
): WindowBatch {
  const windows = Array.from(indices, (i) => {
    const window = data.trainWindows[i];
    if (window === undefined) {
      throw new Error(
        `Generation training batch: window index ${i} is outside the ${data.trainWindows.length} training windows; the batch order was made for other data.`,
      );
    }
    const cone = data.train.cones[window.cone];
    const room = Math.min(data.stride - 1, cone.nt - data.windowLength - window.start);
    return { cone: window.cone, start: window.start + Math.floor(random() * (Math.max(0, room) + 1)) };
  });
  // Every window's augmentation is drawn, in order, even when only some rows are built: a data-parallel
  // worker's rows then get the augmentations one worker building the whole batch gives them.
  const augmentations = windows.map(() => {
    const drawn = randomAugmentation(random, data.n);
    return {
      rotations: augmentation.rotations ? drawn.rotations : 0,
      transpose: augmentation.reflections ? drawn.transpose : false,
      shiftX: augmentation.translations ? drawn.shiftX : 0,
      shiftY: augmentation.translations ? drawn.shiftY : 0,
    };
  });
  const first = rows?.start ?? 0;
  const kept = rows ? windows.slice(first, first + rows.size) : windows;
  let next = first;
  return windowBatch(data.train.cones, kept, data.windowLength, data.patchSize, () => augmentations[next++]);
}

/** Windows of `length` slices of the given cones, unaugmented unless `augment` draws one per window. */
export function windowBatch(
  cones: readonly PreparedCone[],
  windows: readonly WindowRef[],
  length: number,
  patchSize: number,
  augment: () => Augmentation = () => identityAugmentation,
): WindowBatch {
  const perWindow = length * cones[windows[0]?.cone ?? 0].n ** 2;
  const patches = new Float32Array(windows.length * perWindow);
  const params = new Float32Array(windows.length * 6);
  const starts = new Int32Array(windows.length);
  windows.forEach((window, b) => {
    const cone = cones[window.cone];
    patches.set(windowPatches(cone, window.start, length, patchSize, augment()), b * perWindow);
    params.set(normalizeParams(cone.params), b * 6);
    starts[b] = window.start;
  });
  return { patches, params, starts, batchSize: windows.length };
}

/**
 * Evaluation windows over whole cones: `length` slices every `stride` slices (data.sublightcone), all
 * with the configured context, from the first `maxCones` cones (−1 = all). Same-shaped windows batch
 * together; the few slices after the last whole window are left out.
 */
export function evaluationWindows(
  cones: readonly PreparedCone[],
  sublightcone: { length: number; context: number; stride: number | null },
  maxCones: number,
): WindowRef[] {
  const used = maxCones < 0 ? cones.length : Math.min(maxCones, cones.length);
  const stride = sublightcone.stride ?? sublightcone.length - sublightcone.context;
  const windows: WindowRef[] = [];
  for (let cone = 0; cone < used; cone++) {
    for (let start = 0; start + sublightcone.length <= cones[cone].nt; start += stride) windows.push({ cone, start });
  }
  return windows;
}
