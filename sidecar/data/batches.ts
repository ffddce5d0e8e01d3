// Batching helpers for the training loop, as plain typed arrays (the training code turns them into
// tensors), deterministic for a seed.
//  - Regression: global-signal (or patch-mean) tokens, already standardised, with the min-max
//    normalised parameters (Eq. 32) as targets; one sample per lightcone, shuffled per epoch.
//  - Generation: the prepared cone and the index map that augments and patches a slice in one
//    gather (generation_data.ts draws the windows).
import { augmentationSourceIndex, type Augmentation } from './augmentation';
import { normalizeParams, type AstroParams } from './parameters';
import { seededRandom, shuffled } from './splits';

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
      throw new Error(
        `regressionBatch: sample ${index} has ${sample.tokens.length} tokens, expected ${tokenCount}; all cones need the same length.`,
      );
    }
    inputs.set(sample.tokens, b * tokenCount);
    targets.set(normalizeParams(sample.params), b * 6);
  });
  return { inputs, targets, batchSize: indices.length, tokenCount };
}

/** The sample order of one epoch: a seeded shuffle, split into batches (the last may be short unless dropLast). */
export function epochBatches(
  sampleCount: number,
  batchSize: number,
  seed: number,
  epoch: number,
  dropLast = false,
): number[][] {
  const order = shuffled(
    Array.from({ length: sampleCount }, (_, i) => i),
    seededRandom(`epoch:${seed}:${epoch}`),
  );
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const batch = order.slice(i, i + batchSize);
    if (!dropLast || batch.length === batchSize) batches.push(batch);
  }
  return batches;
}

/**
 * A cone ready for generation batches: transformed voxels in cosmic-time order, [t, n, n], read a
 * window at a time (from the dataset's store, dataset.ts, or from memory, memoryCone), so that no
 * split is ever held whole.
 */
export interface PreparedCone {
  n: number;
  nt: number;
  params: AstroParams;
  /** The transformed slices [start, end), cosmic-time order, [t, n, n]. */
  readSlices(start: number, end: number): Float32Array;
  /** Asks for slices [start, end) to be read ahead, where the cone is on disk. */
  prefetch?(start: number, end: number): void;
  /** The redshift of each slice [start, end) in the same cosmic-time order, when the source knows them. */
  redshifts?(start: number, end: number): number[] | undefined;
}

/** A cone whose transformed slices are held in memory. */
export type MemoryCone = PreparedCone & { slices: Float32Array };

/** A cone whose transformed slices are already in memory (tests, benchmarks, small data). */
export function memoryCone(cone: { slices: Float32Array; n: number; nt: number; params: AstroParams }): MemoryCone {
  const { slices, n, nt } = cone;
  if (slices.length !== nt * n * n) {
    throw new Error(`memoryCone: ${slices.length} values for ${nt} slices of ${n}×${n}; expected ${nt * n * n}.`);
  }
  return { ...cone, readSlices: (start, end) => slices.subarray(start * n * n, end * n * n) };
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
