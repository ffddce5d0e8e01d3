// Seeded randomness and the train/validation/test split by lightcone. The reference code shuffles
// `glob()` output with random.seed(42), so its split depends on the filesystem's directory order
// (docs/paper-mapping.md#diff-split); here ids are sorted first and then shuffled by a seeded generator, so
// the same files and seed give the same split on every machine.
import seedrandom from 'seedrandom';

export type Random = () => number;

/** A deterministic generator of uniform numbers in [0, 1) (Alea, from the seedrandom package). */
export function seededRandom(seed: number | string): Random {
  return seedrandom.alea(String(seed));
}

/** Uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** Fisher–Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

export interface DatasetSplit {
  train: string[];
  validation: string[];
  test: string[];
}

/**
 * Splits lightcone ids into train/validation/test. Ids are sorted (code-point order) before the
 * seeded shuffle, so the input order never matters. Sizes: validation = round(n·f_val),
 * test = round(n·f_test), the rest train; each split keeps sorted order for readability.
 */
export function splitByLightcone(ids: readonly string[], fractions: SplitFractions, seed: number): DatasetSplit {
  const total = fractions.train + fractions.validation + fractions.test;
  if (Object.values(fractions).some((f) => !(f >= 0)) || Math.abs(total - 1) > 1e-9) {
    throw new Error(
      `splitByLightcone: fractions ${JSON.stringify(fractions)} must be non-negative and sum to 1 (got ${total}).`,
    );
  }
  if (new Set(ids).size !== ids.length)
    throw new Error('splitByLightcone: lightcone ids are not unique; expected one id per lightcone.');
  const order = shuffled([...ids].sort(), seededRandom(`split:${seed}`));
  const nValidation = Math.round(order.length * fractions.validation);
  const nTest = Math.round(order.length * fractions.test);
  const validation = order.slice(0, nValidation).sort();
  const test = order.slice(nValidation, nValidation + nTest).sort();
  const train = order.slice(nValidation + nTest).sort();
  return { train, validation, test };
}
