// The paper's preprocessing (arXiv 2506.14757 Sec. 2 and App. B) and the reference code's variants
// (docs/paper-mapping.md#preprocessing), as pure functions on [t, x, y] Float32Arrays.
//
// Time order: files store slice 0 at the LOWEST redshift. The reference code permutes to [t, x, y]
// and flips t, so its tokens run from high z to low z (forward in cosmic time); `toCosmicTimeOrder`
// does that flip. Trimming and sublightcones work in cosmic-time order (the "late" all-zero period
// is the fully ionised low-z end, which comes last after the flip).
//
// Global signal rule: the spatial mean of every slice, then means over consecutive bins of
// `binSize` = 50 slices; a bin count of floor(T / 50) so that the paper's 2350-slice cones give
// exactly 2350 / 50 = 47 tokens. Remainder slices (T mod 50) at the late end are dropped so that
// every token averages the same number of slices. Tokens are then standardised per token position
// with statistics measured on the training set and stored with the dataset.
import type { LightconeRecord, LightconeShape } from './lightcone_record';
import { sliceMeans } from './lightcone_record';

/** Reverses the slice axis of a [t, x, y] record: returns slices from high z to low z. */
export function toCosmicTimeOrder(record: LightconeRecord): LightconeRecord {
  const { nx, ny, nt } = record.shape;
  const plane = nx * ny;
  const brightness = new Float32Array(record.brightness.length);
  for (let k = 0; k < nt; k++)
    brightness.set(record.brightness.subarray(k * plane, (k + 1) * plane), (nt - 1 - k) * plane);
  const redshifts = record.redshifts ? Float64Array.from(record.redshifts).reverse() : undefined;
  return { ...record, brightness, redshifts };
}

/** Means over consecutive bins of `binSize` values; floor(n / binSize) bins, the remainder dropped. */
export function binnedMeans(values: ArrayLike<number>, binSize: number): Float64Array {
  if (!Number.isInteger(binSize) || binSize < 1)
    throw new Error(`binnedMeans: bin size ${binSize} must be a positive integer.`);
  const bins = Math.floor(values.length / binSize);
  if (bins === 0) {
    throw new Error(
      `binnedMeans: ${values.length} slices are fewer than one bin of ${binSize}; use a smaller bin or a longer cone.`,
    );
  }
  const out = new Float64Array(bins);
  for (let b = 0; b < bins; b++) {
    let sum = 0;
    for (let i = b * binSize; i < (b + 1) * binSize; i++) sum += values[i];
    out[b] = sum / binSize;
  }
  return out;
}

/** Global-signal tokens of one record: slice means binned by `binSize` (default 50 → 47 tokens for 2350 slices). */
export function globalSignalTokens(record: Pick<LightconeRecord, 'brightness' | 'shape'>, binSize = 50): Float64Array {
  return binnedMeans(sliceMeans(record), binSize);
}

/** Per-position standardisation statistics, stored with a dataset (JSON-friendly arrays). */
export interface Standardization {
  mean: number[];
  std: number[];
}

/** Mean and standard deviation per position over equal-length rows (the training set's tokens). */
export function fitStandardization(rows: readonly ArrayLike<number>[]): Standardization {
  if (rows.length === 0) throw new Error('fitStandardization: no rows; pass the training set tokens.');
  const n = rows[0].length;
  const mean = new Array<number>(n).fill(0);
  const std = new Array<number>(n).fill(0);
  for (const row of rows) {
    if (row.length !== n)
      throw new Error(`fitStandardization: row of length ${row.length}, expected ${n} like the first row.`);
    for (let i = 0; i < n; i++) mean[i] += row[i] / rows.length;
  }
  for (const row of rows) for (let i = 0; i < n; i++) std[i] += (row[i] - mean[i]) ** 2 / rows.length;
  // A constant position (std 0) is left unscaled rather than divided by zero.
  for (let i = 0; i < n; i++) std[i] = Math.sqrt(std[i]) || 1;
  return { mean, std };
}

export function standardize(row: ArrayLike<number>, stats: Standardization): Float32Array {
  if (row.length !== stats.mean.length) {
    throw new Error(
      `standardize: ${row.length} values but the statistics hold ${stats.mean.length}; recompute them for this token count.`,
    );
  }
  return Float32Array.from({ length: row.length }, (_, i) => (row[i] - stats.mean[i]) / stats.std[i]);
}

export function unstandardize(row: ArrayLike<number>, stats: Standardization): Float64Array {
  return Float64Array.from({ length: row.length }, (_, i) => row[i] * stats.std[i] + stats.mean[i]);
}

export interface BlockSize {
  t: number;
  x: number;
  y: number;
}

/**
 * Patch-mean tokens, the reference regression input (docs/paper-mapping.md#preprocessing): means over t×x×y
 * blocks (e.g. 10×28×28), ordered (t, x, y) row-major. Incomplete trailing blocks are dropped.
 * Returns the token values and the token grid shape.
 */
export function patchMeanTokens(
  record: Pick<LightconeRecord, 'brightness' | 'shape'>,
  block: BlockSize,
): { tokens: Float32Array; grid: [number, number, number] } {
  const { nx, ny, nt } = record.shape;
  const gt = Math.floor(nt / block.t);
  const gx = Math.floor(nx / block.x);
  const gy = Math.floor(ny / block.y);
  if (gt === 0 || gx === 0 || gy === 0) {
    throw new Error(
      `patchMeanTokens: block ${block.t}×${block.x}×${block.y} is larger than the cone ${nt}×${nx}×${ny}; use a smaller block.`,
    );
  }
  const sums = new Float64Array(gt * gx * gy);
  for (let k = 0; k < gt * block.t; k++) {
    const bt = Math.floor(k / block.t);
    for (let i = 0; i < gx * block.x; i++) {
      const row = (k * nx + i) * ny;
      const base = (bt * gx + Math.floor(i / block.x)) * gy;
      for (let j = 0; j < gy * block.y; j++) sums[base + Math.floor(j / block.y)] += record.brightness[row + j];
    }
  }
  const size = block.t * block.x * block.y;
  return { tokens: Float32Array.from(sums, (s) => s / size), grid: [gt, gx, gy] };
}

export type SliceTransform = 'log1p' | 'log';

/** Constants of the reference code's NormalizeLog: (sgn(x)·ln(1+|x|) + 1.51) / 2.74 (src/utils/preprocessing.py). */
export const referenceLog1pShift = 1.51;
export const referenceLog1pScale = 2.74;

export interface SliceTransformOptions {
  kind: SliceTransform;
  /** Standardisation after the log. For 'log1p' the reference constants are the default. */
  shift?: number;
  scale?: number;
}

/**
 * Voxel transform for generation. 'log1p' (default): sgn(x)·ln(1+|x|), finite everywhere, then
 * (· + shift)/scale with the reference constants. 'log': the paper's Eq. 38, sgn(x)·ln|x| then
 * standardisation with dataset statistics; we define its value at x = 0 as 0 (sgn(0) = 0), as
 * ln 0 is −∞ and fully ionised regions are exactly 0 mK. Note that Eq. 38 is not injective:
 * x and −1/x map to the same value (sgn(0.2)·ln 0.2 = sgn(−5)·ln 5), so 'log' is invertible only
 * for |x| > 1 mK (0 and ±1 also collide at 0); 'log1p' is a bijection, one more reason it is the default.
 */
export function transformVoxels(values: Float32Array, options: SliceTransformOptions): Float32Array {
  const shift = options.shift ?? (options.kind === 'log1p' ? referenceLog1pShift : 0);
  const scale = options.scale ?? (options.kind === 'log1p' ? referenceLog1pScale : 1);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    const magnitude = Math.abs(x);
    const logged =
      options.kind === 'log1p'
        ? Math.sign(x) * Math.log1p(magnitude)
        : x === 0
          ? 0
          : Math.sign(x) * Math.log(magnitude);
    out[i] = (logged + shift) / scale;
  }
  return out;
}

/**
 * Inverse of `transformVoxels` (exact up to float rounding). For 'log' it returns the |x| ≥ 1
 * preimage (and 0 for 0), since values in (−1, 1) fold onto that branch.
 */
export function inverseTransformVoxels(values: Float32Array, options: SliceTransformOptions): Float32Array {
  const shift = options.shift ?? (options.kind === 'log1p' ? referenceLog1pShift : 0);
  const scale = options.scale ?? (options.kind === 'log1p' ? referenceLog1pScale : 1);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const logged = values[i] * scale - shift;
    if (options.kind === 'log1p') out[i] = Math.sign(logged) * Math.expm1(Math.abs(logged));
    // 0 and ±1 mK all map to 0 under Eq. 38; we send (float-rounded) 0 back to 0 mK, the common value.
    else out[i] = Math.abs(logged) < 1e-6 ? 0 : Math.sign(logged) * Math.exp(Math.abs(logged));
  }
  return out;
}

/**
 * Shift and scale for the 'log' transform measured on training data (mean and standard deviation
 * of sgn(x)·ln|x| over all non-zero voxels), as Eq. 38's standardisation needs. Fed slices in order,
 * piece by piece (a cone read from its store window after window), it adds the same terms in the same
 * order as over whole arrays, so the result is the same to the last bit.
 */
export class LogStatistics {
  private sum = 0;
  private sumSquares = 0;
  private count = 0;

  add(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (x === 0) continue;
      const v = Math.sign(x) * Math.log(Math.abs(x));
      this.sum += v;
      this.sumSquares += v * v;
      this.count++;
    }
  }

  result(): { shift: number; scale: number } {
    if (this.count === 0) return { shift: 0, scale: 1 };
    const mean = this.sum / this.count;
    return { shift: -mean, scale: Math.sqrt(Math.max(this.sumSquares / this.count - mean * mean, 0)) || 1 };
  }
}

/** LogStatistics over whole arrays. */
export function fitLogStandardization(samples: readonly Float32Array[]): { shift: number; scale: number } {
  const statistics = new LogStatistics();
  for (const values of samples) statistics.add(values);
  return statistics.result();
}

/**
 * Trims the late all-zero period (cosmic-time order: the fully ionised end) so that at most
 * `keepZeroSlices` all-zero slices remain (the reference keeps 2·t_end; the paper keeps 100).
 */
export function trimLateZeros(
  brightness: Float32Array,
  shape: LightconeShape,
  keepZeroSlices = 100,
): { brightness: Float32Array; shape: LightconeShape } {
  const plane = shape.nx * shape.ny;
  let lastNonZero = -1;
  for (let k = shape.nt - 1; k >= 0 && lastNonZero < 0; k--) {
    for (let p = k * plane; p < (k + 1) * plane; p++) {
      if (brightness[p] !== 0) {
        lastNonZero = k;
        break;
      }
    }
  }
  const nt = Math.min(shape.nt, lastNonZero + 1 + keepZeroSlices);
  return { brightness: brightness.slice(0, nt * plane), shape: { ...shape, nt } };
}
