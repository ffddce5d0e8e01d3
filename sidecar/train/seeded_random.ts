// Seeded randomness for the trainer. Everything random in a run is derived from the run seed and a
// position (epoch, step, purpose) rather than drawn from a generator that advances as the run goes:
// then a resumed run needs no generator state to continue with the same batches and the same dropout
// masks as an uninterrupted one, which is what makes resume bit-for-bit exact.

/** A 32-bit hash of integers (a splitmix/murmur-style finaliser), for deriving independent seeds. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    if (!Number.isFinite(part)) throw new Error(`hashSeed: expected finite numbers, got ${part}.`);
    // Fold in both halves of integers up to 2^53 so that large seeds and steps stay distinct.
    for (const word of [part >>> 0, Math.floor(part / 2 ** 32) >>> 0]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** mulberry32: a small, fast, well-distributed 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The order in which epoch `epoch` visits the training set: every index repeated `multiplicity`
 * times (the reference's `train_ds_multiplicity`, docs/paper-mapping.md#training), then a Fisher-Yates
 * shuffle seeded by (seed, epoch).
 */
export function epochOrder(seed: number, epoch: number, size: number, multiplicity = 1): Int32Array {
  if (!Number.isInteger(size) || size < 0)
    throw new Error(`epochOrder: dataset size must be an integer ≥ 0, got ${size}.`);
  if (!Number.isInteger(multiplicity) || multiplicity < 1)
    throw new Error(`train_ds_multiplicity must be an integer ≥ 1, got ${multiplicity}.`);
  const order = new Int32Array(size * multiplicity);
  for (let i = 0; i < order.length; i++) order[i] = i % size;
  const random = mulberry32(hashSeed(seed, epoch, 0x5eed));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/** A seed for a TF.js random op (dropout, sampling) at a given step and purpose. */
export function opSeed(seed: number, step: number, purpose: number): number {
  // tf ops take seeds as numbers that seedrandom turns into strings; keep them positive 31-bit.
  return hashSeed(seed, step, purpose) & 0x7fffffff;
}
