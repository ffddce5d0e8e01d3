// Augmentation by the symmetries of a periodic square box: the 8 elements of the dihedral group D4
// (4 rotations by 90°, each optionally preceded by a reflection across the diagonal, i.e. a
// transpose) and periodic translations (the simulation box is periodic, so a cyclic roll is an
// exact symmetry). This is the reference training collate: rot90(k), random transpose, roll in x
// and y by 0…n−1 pixels (docs/paper-mapping.md#augmentation). Applied identically to every slice of a [t, x, y]
// block. Each transform is a permutation of voxels, so `invertAugmentation` undoes it exactly.
import { randomInt, type Random } from './splits';

export interface Augmentation {
  /** Number of counter-clockwise 90° rotations (numpy rot90 in the (x, y) plane), 0–3. */
  rotations: number;
  /** Transpose (reflect across the main diagonal) before rotating. */
  transpose: boolean;
  /** Cyclic shifts in pixels, applied first. */
  shiftX: number;
  shiftY: number;
}

export const identityAugmentation: Augmentation = { rotations: 0, transpose: false, shiftX: 0, shiftY: 0 };

/** The 8 dihedral elements without translation, for exhaustive tests and test-time averaging. */
export const dihedralGroup: readonly Augmentation[] = [false, true].flatMap((transpose) =>
  [0, 1, 2, 3].map((rotations) => ({ rotations, transpose, shiftX: 0, shiftY: 0 })),
);

export function randomAugmentation(random: Random, n: number): Augmentation {
  return {
    rotations: randomInt(random, 4),
    transpose: random() < 0.5,
    shiftX: randomInt(random, n),
    shiftY: randomInt(random, n),
  };
}

/** Destination (x, y) of source voxel (x, y) on an n×n slice; returns x·n + y. */
function destination(x: number, y: number, n: number, a: Augmentation): number {
  let u = (x + a.shiftX) % n;
  let v = (y + a.shiftY) % n;
  if (u < 0) u += n;
  if (v < 0) v += n;
  if (a.transpose) [u, v] = [v, u];
  // numpy.rot90(m)[i, j] = m[j, n−1−i]: the value at (u, v) moves to (n−1−v, u).
  for (let r = 0; r < ((a.rotations % 4) + 4) % 4; r++) [u, v] = [n - 1 - v, u];
  return u * n + v;
}

/** Source-to-destination permutation of one n×n slice. */
function permutation(n: number, a: Augmentation): Int32Array {
  const map = new Int32Array(n * n);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) map[x * n + y] = destination(x, y, n, a);
  return map;
}

/**
 * For every voxel of the augmented n×n slice, the index of the source voxel it comes from: the
 * gather form of `applyAugmentation`, which lets batch code fuse augmentation with patching.
 */
export function augmentationSourceIndex(n: number, a: Augmentation): Int32Array {
  const map = permutation(n, a);
  const source = new Int32Array(n * n);
  for (let p = 0; p < map.length; p++) source[map[p]] = p;
  return source;
}

function checkSquare(nx: number, ny: number): void {
  if (nx !== ny)
    throw new Error(
      `augmentation needs square slices; got ${nx}×${ny}. Rotations of a non-square box are not symmetries.`,
    );
}

/** Applies `a` to every slice of a [t, n, n] block. */
export function applyAugmentation(slices: Float32Array, n: number, nt: number, a: Augmentation): Float32Array {
  checkSquare(n, slices.length / (nt * n));
  const map = permutation(n, a);
  const plane = n * n;
  const out = new Float32Array(slices.length);
  for (let k = 0; k < nt; k++) {
    const base = k * plane;
    for (let p = 0; p < plane; p++) out[base + map[p]] = slices[base + p];
  }
  return out;
}

/** Exact inverse of `applyAugmentation` with the same `a`. */
export function invertAugmentation(slices: Float32Array, n: number, nt: number, a: Augmentation): Float32Array {
  checkSquare(n, slices.length / (nt * n));
  const map = permutation(n, a);
  const plane = n * n;
  const out = new Float32Array(slices.length);
  for (let k = 0; k < nt; k++) {
    const base = k * plane;
    for (let p = 0; p < plane; p++) out[base + p] = slices[base + map[p]];
  }
  return out;
}
