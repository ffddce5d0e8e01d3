// Batching helpers for the training loop, as plain typed arrays (the training code turns them into
// tensors). Both are deterministic for a seed.
//  - Regression: global-signal (or patch-mean) tokens, already standardised, with the min-max
//    normalised parameters (Eq. 32) as targets; one sample per lightcone, shuffled per epoch.
//  - Generation: random 12-slice windows of preprocessed cones (cosmic-time order), each with a
//    random D4 symmetry and periodic translation (reference training collate), cut into patches.
import { augmentationSourceIndex, randomAugmentation, identityAugmentation, type Augmentation } from './augmentation';
import { normalizeParams, type AstroParams } from './parameters';
import { randomInt, seededRandom, shuffled, type Random } from './splits';
import { lossMask, randomWindowStart, trainingContextSlices, trainingWindowLength } from './sublightcones';
import { patchGrid } from './tokenization';

export interface RegressionSample {
  /** Standardised tokens (e.g. 47 global-signal values). */
  tokens: Float32Array;
  params: AstroParams;
}

export interface RegressionBatch {
  /** [B, nTokens] */
  inputs: Float32Array;
  /** [B, 6] min-max normalised parameters in canonical order. */
  targets: Float32Array;
  batchSize: number;
  tokenCount: number;
}

export function regressionBatch(samples: readonly RegressionSample[], indices: readonly number[]): RegressionBatch {
  if (indices.length === 0) throw new Error('regressionBatch: no indices; pass at least one sample index.');
  const tokenCount = samples[indices[0]].tokens.length;
  const inputs = new Float32Array(indices.length * tokenCount);
  const targets = new Float32Array(indices.length * 6);
  indices.forEach((index, b) => {
    const sample = samples[index];
    if (!sample) throw new Error(`regressionBatch: sample index ${index} is outside the ${samples.length} samples.`);
    if (sample.tokens.length !== tokenCount) {
      throw new Error(`regressionBatch: sample ${index} has ${sample.tokens.length} tokens, expected ${tokenCount}; all cones need the same length.`);
    }
    inputs.set(sample.tokens, b * tokenCount);
    targets.set(normalizeParams(sample.params), b * 6);
  });
  return { inputs, targets, batchSize: indices.length, tokenCount };
}

/** The sample order of one epoch: a seeded shuffle, split into batches (the last may be short unless dropLast). */
export function epochBatches(sampleCount: number, batchSize: number, seed: number, epoch: number, dropLast = false): number[][] {
  const order = shuffled(Array.from({ length: sampleCount }, (_, i) => i), seededRandom(`epoch:${seed}:${epoch}`));
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const batch = order.slice(i, i + batchSize);
    if (!dropLast || batch.length === batchSize) batches.push(batch);
  }
  return batches;
}

/** A cone ready for generation batches: transformed voxels in cosmic-time order, [t, n, n]. */
export interface PreparedCone {
  slices: Float32Array;
  n: number;
  nt: number;
  params: AstroParams;
}

export interface GenerationBatchOptions {
  batchSize: number;
  patchSize: number;
  windowLength?: number;
  contextSlices?: number;
  augment?: boolean;
}

export interface GenerationBatch {
  /** [B, window, rows·cols, p·p] patch vectors, slice by slice, patches row by row. */
  patches: Float32Array;
  /** [B, 6] normalised parameters. */
  params: Float32Array;
  /** [B] start slice of each window in its cone (the t-index token input). */
  startSlices: Int32Array;
  /** [B] index of the cone in the input list. */
  coneIndices: Int32Array;
  /** [window] 0 for the context slices excluded from the loss. */
  lossMask: Uint8Array;
  batchSize: number;
  windowLength: number;
  patchesPerSlice: number;
  patchDim: number;
  augmentations: Augmentation[];
}

/** Source voxel (in the original n×n slice) of every position of the augmented slice's patch vectors. */
export function patchGatherIndex(n: number, patchSize: number, augmentation: Augmentation): Int32Array {
  const source = augmentationSourceIndex(n, augmentation);
  const map = new Int32Array(n * n);
  const blocks = n / patchSize;
  let o = 0;
  for (let a = 0; a < blocks; a++) {
    for (let b = 0; b < blocks; b++) {
      for (let u = 0; u < patchSize; u++) {
        for (let v = 0; v < patchSize; v++) map[o++] = source[(a * patchSize + u) * n + b * patchSize + v];
      }
    }
  }
  return map;
}

/** Draws one generation batch from `cones` with `random` (pass seededRandom(seed) for reproducibility). */
export function generationBatch(cones: readonly PreparedCone[], options: GenerationBatchOptions, random: Random): GenerationBatch {
  if (cones.length === 0) throw new Error('generationBatch: no cones; load a dataset first.');
  const windowLength = options.windowLength ?? trainingWindowLength;
  const context = options.contextSlices ?? trainingContextSlices;
  const { n } = cones[0];
  const grid = patchGrid(n, n, windowLength, options.patchSize);
  const patchesPerSlice = grid.rows * grid.cols;
  const patchDim = options.patchSize * options.patchSize;
  const perSample = windowLength * n * n;
  const patches = new Float32Array(options.batchSize * perSample);
  const params = new Float32Array(options.batchSize * 6);
  const startSlices = new Int32Array(options.batchSize);
  const coneIndices = new Int32Array(options.batchSize);
  const augmentations: Augmentation[] = [];
  for (let b = 0; b < options.batchSize; b++) {
    const coneIndex = randomInt(random, cones.length);
    const cone = cones[coneIndex];
    if (cone.n !== n) throw new Error(`generationBatch: cone ${coneIndex} is ${cone.n}² but cone 0 is ${n}²; a dataset needs one slice size.`);
    const start = randomWindowStart(cone.nt, windowLength, random);
    const augmentation = options.augment === false ? identityAugmentation : randomAugmentation(random, n);
    // One gather per voxel: augmentation and patching fused through a per-sample index map
    // (equal to patchify(applyAugmentation(window)), which the tests check).
    const gather = patchGatherIndex(n, options.patchSize, augmentation);
    const plane = n * n;
    for (let k = 0; k < windowLength; k++) {
      const src = (start + k) * plane;
      const dst = b * perSample + k * plane;
      for (let o = 0; o < plane; o++) patches[dst + o] = cone.slices[src + gather[o]];
    }
    params.set(normalizeParams(cone.params), b * 6);
    startSlices[b] = start;
    coneIndices[b] = coneIndex;
    augmentations.push(augmentation);
  }
  return {
    patches, params, startSlices, coneIndices, lossMask: lossMask(windowLength, context),
    batchSize: options.batchSize, windowLength, patchesPerSlice, patchDim, augmentations,
  };
}
