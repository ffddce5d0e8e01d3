// The one in-memory lightcone type shared by every data source (simulator, .npz folders, 21cmFAST
// HDF5 files, plain .npy arrays), plus the checks every loader runs before it hands data on.
//
// Layout: `brightness` is a Float32Array in [t, x, y] C order (slice-major: one slice of nx·ny
// values after another). Every file format stores [x, y, t] with the line of sight fastest; the
// loaders transpose once on load so that everything downstream (tokenisation, augmentation,
// global signal) works on contiguous slices. Slice 0 is the LOWEST redshift, as in every file
// format; `toCosmicTimeOrder` in preprocessing.ts flips to the paper's token order (high z first).
import { byParameter, parameterInfo, parameterNames, type AstroParams, type ParameterName } from './parameters';

export interface LightconeShape {
  /** Transverse cells along x (first file axis). */
  nx: number;
  /** Transverse cells along y (second file axis). */
  ny: number;
  /** Slices along the line of sight in this record (after any slice range was applied). */
  nt: number;
}

export interface LightconeRecord {
  /** Stable identifier: the file name (without folder) or `sim-<index>` for simulated cones. */
  id: string;
  /** Brightness temperature in mK, [t, x, y] C order, t = 0 at the lowest redshift. */
  brightness: Float32Array;
  shape: LightconeShape;
  /** Redshift of every slice in this record, ascending, when the source knows it. */
  redshifts?: Float64Array;
  /** The six parameters in physical units (log10 for T_vir and L_X). */
  params: AstroParams;
  /** Where it came from: a file path, or `simulator:<version>`. */
  source: string;
  /** Index in the full cone of this record's slice 0 (non-zero when a slice range was loaded). */
  firstSlice: number;
  /** Optional global histories (simulator and 21cmFAST global_quantities), ordered by ascending z. */
  history?: { z: Float64Array; xHI?: Float64Array; meanTb?: Float64Array };
}

/** What a source knows about a lightcone without reading its voxels. */
export interface LightconeEntry {
  id: string;
  /** Full shape of the cone (nt = all slices). */
  shape: LightconeShape;
  params: AstroParams;
  /** Where each parameter came from (an attribute, a labels file line), where the source says. */
  provenance?: Readonly<Record<ParameterName, string>>;
  /** Transverse cell size in Mpc, where the source knows it. */
  cellMpc?: number;
}

/** Half-open slice range [start, end) along the line of sight. */
export interface SliceRange {
  start: number;
  end: number;
}

/**
 * A collection of lightcones that loads one cone (or a slice range of it) on demand, so that large
 * files are read slice by slice instead of whole. `list()` returns entries sorted by id.
 */
export interface LightconeSource {
  /** Human-readable description for messages, e.g. `npz folder /data/lcs`. */
  readonly description: string;
  list(): Promise<LightconeEntry[]>;
  load(id: string, range?: SliceRange): Promise<LightconeRecord>;
  /** Releases open file handles; safe to call twice. */
  close(): Promise<void>;
}

/** Error for bad input data; the message names the file, the dataset and what was expected. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** Resolves and validates a slice range against a cone of `nt` slices. */
export function resolveSliceRange(range: SliceRange | undefined, nt: number, where: string): SliceRange {
  const resolved = range ?? { start: 0, end: nt };
  const { start, end } = resolved;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > nt || start >= end) {
    throw new DataError(
      `${where}: slice range [${start}, ${end}) is outside the cone's ${nt} slices; ` +
        `expected integers with 0 ≤ start < end ≤ ${nt}.`,
    );
  }
  return resolved;
}

/**
 * Transposes an [x, y, t] C-order block (the file layout) to [t, x, y]. `nt` is the number of
 * slices in `xyt`, which may be a slice range already cut by the reader.
 */
export function xytToTxy(xyt: ArrayLike<number>, nx: number, ny: number, nt: number): Float32Array {
  const out = new Float32Array(nx * ny * nt);
  const plane = nx * ny;
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const src = (i * ny + j) * nt;
      const dst = i * ny + j;
      for (let k = 0; k < nt; k++) out[k * plane + dst] = xyt[src + k];
    }
  }
  return out;
}

/** Inverse of `xytToTxy`: [t, x, y] back to the file layout [x, y, t]. */
export function txyToXyt(txy: ArrayLike<number>, nx: number, ny: number, nt: number): Float32Array {
  const out = new Float32Array(nx * ny * nt);
  const plane = nx * ny;
  for (let k = 0; k < nt; k++) {
    for (let ij = 0; ij < plane; ij++) out[ij * nt + k] = txy[k * plane + ij];
  }
  return out;
}

/** Throws naming the file and dataset when `data` holds a NaN or an infinity. */
export function checkFinite(data: ArrayLike<number>, file: string, dataset: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new DataError(
        `${file}: dataset "${dataset}" holds ${data[i]} at flat index ${i}; ` +
          'expected finite brightness temperatures. Re-export the file or drop this lightcone.',
      );
    }
  }
}

/** Throws when the array's shape does not have the expected rank. */
export function checkRank(
  shape: readonly number[],
  rank: number,
  file: string,
  dataset: string,
  meaning: string,
): void {
  if (shape.length !== rank) {
    throw new DataError(
      `${file}: dataset "${dataset}" has shape [${shape.join(', ')}] (rank ${shape.length}); ` +
        `expected rank ${rank} ${meaning}.`,
    );
  }
}

/**
 * Checks that every parameter is finite and inside the prior (with a small relative tolerance for
 * rounding in stored files), because normalised labels outside [0, 1] silently break the
 * regression head's sigmoid means.
 */
export function checkParamsInPriors(params: AstroParams, file: string, dataset: string): void {
  for (const name of parameterNames) {
    const value = params[name];
    const { min, max, label } = parameterInfo[name];
    const slack = 1e-6 * (max - min);
    if (!Number.isFinite(value) || value < min - slack || value > max + slack) {
      throw new DataError(
        `${file}: ${dataset} gives ${label} (${name}) = ${value}, outside the prior [${min}, ${max}]; ` +
          "expected parameters inside the priors of the paper's Table 1 (check the label order option).",
      );
    }
  }
}

/** Builds AstroParams from six values in the canonical order. */
export function paramsFromArray(values: ArrayLike<number>): AstroParams {
  return byParameter((_, i) => Number(values[i]));
}

/** Spatial mean of every slice of a [t, x, y] record: the global signal per slice. */
export function sliceMeans(record: Pick<LightconeRecord, 'brightness' | 'shape'>): Float64Array {
  const { nx, ny, nt } = record.shape;
  const plane = nx * ny;
  const out = new Float64Array(nt);
  for (let k = 0; k < nt; k++) {
    let sum = 0;
    for (let p = k * plane, e = p + plane; p < e; p++) sum += record.brightness[p];
    out[k] = sum / plane;
  }
  return out;
}
