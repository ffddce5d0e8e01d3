// Loader of 21cmFAST lightcone HDF5 files, layouts v3 and v4 (docs/paper-mapping.md#data-21cmfast-hdf5),
// through h5wasm. Detection: `InputParameters` at the root → v4; `lightcones` +
// `user_params` → v3 (with `distances` → v3.3/3.4). Everything else is rejected as non-21cmFAST.
//   - voxels: `lightcones/<field>` (default brightness_temp), float32 [N, N, n_los], LOS fastest, low z first;
//     read with Dataset.slice per slice range so that a large cone is never loaded whole.
//   - v4 buffers: keep LOS indices [lowz_buffer_pixels, n_los − highz_buffer_pixels), as LightCone.from_file does.
//   - redshifts: invert the comoving distance (comoving_distance.ts) with the file's cosmology;
//     v3.0–3.3 store no distances: slice i sits at χ(attrs.redshift) + linspace(0, N·BOX_LEN/HII_DIM, N)[i],
//     exactly as 21cmFAST 3.x writes it (note linspace's spacing N·Δ/(N−1)).
//   - parameters: from the attributes only where the file's source model gives them the paper's meaning
//     (hdf5_parameters.ts); the config's explicit labels (label_source.ts) replace them, and a parameter
//     that has neither refuses the file, naming the flag that decides and its value.
//   - h5wasm returns int64 attributes as BigInt and bools as enums 0/1: every number goes through Number().
import { basename } from 'node:path';
import { checkRegularFile } from '../runtime/regular_file';
import type { Dataset, File as H5File, Group } from 'h5wasm';
import { ComovingDistanceTable } from './comoving_distance';
import { byParameter, parameterInfo, schemaParameterNames, type AstroParams, type ParameterName } from './parameters';
import { readParameterAttributes, type ParameterReadings } from './hdf5_parameters';
import { explicitValuesFor, type ExplicitLabels } from './label_source';
import {
  DataError,
  checkFinite,
  checkParamsInPriors,
  checkRank,
  resolveSliceRange,
  xytToTxy,
  type LightconeEntry,
  type LightconeRecord,
  type LightconeSource,
  type SliceRange,
} from './lightcone_record';
import { errorMessage } from '../protocol/error_message';

type H5Module = typeof import('h5wasm').default;
let h5Promise: Promise<H5Module> | undefined;

/** Loads h5wasm's Node build once (ESM-only package, hence the dynamic import). */
export async function loadH5wasm(): Promise<H5Module> {
  h5Promise ??= import('h5wasm/node').then(async (m) => {
    // The namespace itself where a loader exposes no default export: it has the same members.
    const mod: H5Module = m.default ?? m;
    await mod.ready;
    return mod;
  });
  return h5Promise;
}

export interface Hdf5Options {
  /** Lightcone field to read; default 'brightness_temp'. */
  field?: string;
  /** Labels the config gives explicitly; they replace the files' attributes. */
  labels?: ExplicitLabels;
  allowOutsidePriors?: boolean;
}

export interface Hdf5LightconeInfo {
  layout: 'v3' | 'v4';
  version: string;
  shape: { nx: number; ny: number; nt: number };
  /** First kept LOS index in the stored dataset (v4 low-z buffer), and the stored length. */
  bufferLow: number;
  storedLength: number;
  params: AstroParams;
  /** Where each parameter came from: an attribute path, a labels file line, or a fixed value of the config. */
  provenance: Record<ParameterName, string>;
  /** Transverse cell size in Mpc (BOX_LEN / HII_DIM), when the file gives both. */
  cellMpc?: number;
  /** Redshift of every kept slice, ascending. */
  redshifts: Float64Array;
  history?: LightconeRecord['history'];
}

function num(value: unknown): number {
  return typeof value === 'bigint' ? Number(value) : Number(value);
}

function attr(group: Group, name: string, file: string, where: string): number {
  const a = group.attrs[name];
  if (!a) {
    throw new DataError(
      `${file}: attribute ${where}@${name} is missing; expected a 21cmFAST lightcone with its input parameter groups.`,
    );
  }
  return num(a.value);
}

function group(f: H5File, path: string, file: string): Group {
  const g = f.get(path);
  if (!g || !('keys' in g)) {
    throw new DataError(`${file}: group "${path}" is missing; expected a 21cmFAST lightcone file (v3 or v4 layout).`);
  }
  return g;
}

/** An attribute as text: a string or number as is, anything else (an array, bytes) as JSON. */
function attributeText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
    ? String(value)
    : JSON.stringify(value);
}

function float64(value: unknown): Float64Array | undefined {
  if (value === null || value === undefined || typeof value !== 'object') return undefined;
  const length: unknown = Reflect.get(value, 'length');
  if (typeof length !== 'number') return undefined;
  return Float64Array.from({ length }, (_, i) => Number(Reflect.get(value, i)));
}

/** The dataset at `path`, or undefined where there is none (a group, a link, nothing). */
function datasetAt(g: Group, path: string): Dataset | undefined {
  const entity = g.get(path);
  return entity !== null && 'shape' in entity ? entity : undefined;
}

/** The class of a value h5wasm returned, for messages. */
function kindOf(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value;
  const constructor: unknown = Reflect.get(value, 'constructor');
  return typeof constructor === 'function' ? constructor.name : typeof value;
}

/** Reads the metadata of an open 21cmFAST lightcone file (layout, shape, parameters, redshifts). */
export function describeLightconeFile(f: H5File, file: string, options: Hdf5Options = {}): Hdf5LightconeInfo {
  const rootKeys = f.keys();
  const isV4 = rootKeys.includes('InputParameters');
  const isV3 = !isV4 && rootKeys.includes('lightcones') && rootKeys.includes('user_params');
  if (!isV4 && !isV3) {
    throw new DataError(
      `${file}: not a 21cmFAST lightcone file (root holds ${rootKeys.join(', ') || 'nothing'}); ` +
        'expected groups "lightcones" and "InputParameters" (v4) or "lightcones" and "user_params" (v3).',
    );
  }
  const field = options.field ?? 'brightness_temp';
  const dataset = datasetAt(f, `lightcones/${field}`);
  if (!dataset) {
    const have = rootKeys.includes('lightcones')
      ? group(f, 'lightcones', file).keys().join(', ')
      : 'no lightcones group';
    throw new DataError(
      `${file}: dataset "lightcones/${field}" is missing (found ${have}); expected the lightcone field to read.`,
    );
  }
  const shape = dataset.shape ?? [];
  checkRank(shape, 3, file, `lightcones/${field}`, '[x, y, line of sight] (angular lightcones are not supported)');
  const [nx, ny, storedLength] = shape;

  const prefix = isV4 ? 'InputParameters/' : '';
  const cosmo = group(f, `${prefix}cosmo_params`, file);
  // A lightcone file always has its astrophysical parameters, whichever of them its model uses.
  group(f, `${prefix}astro_params`, file);
  const where = (g: string) => `${prefix}${g}`;
  const omegaM = attr(cosmo, 'OMm', file, where('cosmo_params'));
  const hubble = cosmo.attrs.hlittle ? num(cosmo.attrs.hlittle.value) : 0.6766;
  const version = attributeText(
    (isV4
      ? (f.attrs.__version__?.value ?? group(f, 'InputParameters', file).attrs['21cmFAST-version']?.value)
      : f.attrs.version?.value) ?? 'unknown',
  );
  const labels = resolveParameters(readParameterAttributes(f, isV4 ? 'v4' : 'v3', version), file, options.labels);

  let bufferLow = 0;
  let bufferHigh = 0;
  if (isV4) {
    bufferLow = f.attrs.lowz_buffer_pixels ? num(f.attrs.lowz_buffer_pixels.value) : 0;
    bufferHigh = f.attrs.highz_buffer_pixels ? num(f.attrs.highz_buffer_pixels.value) : 0;
  }
  const nt = storedLength - bufferLow - bufferHigh;
  if (nt <= 0) {
    throw new DataError(
      `${file}: lightcone has ${storedLength} slices but the buffers remove ${bufferLow} + ${bufferHigh}; ` +
        'expected lowz_buffer_pixels + highz_buffer_pixels smaller than the line of sight.',
    );
  }

  const table = new ComovingDistanceTable({ omegaM, hubble });
  const distancePath = isV4 ? 'lightcone_distances' : 'distances';
  let distances = rootKeys.includes(distancePath) ? float64(datasetAt(f, distancePath)?.value) : undefined;
  if (distances && distances.length !== storedLength) {
    throw new DataError(
      `${file}: dataset "${distancePath}" has ${distances.length} entries but the lightcone has ${storedLength} slices; ` +
        'expected one comoving distance per slice.',
    );
  }
  if (!distances) {
    if (isV4)
      throw new DataError(
        `${file}: dataset "lightcone_distances" is missing; expected it in every 21cmFAST v4 lightcone.`,
      );
    // 21cmFAST 3.0–3.3: distances derived from the lowest redshift as outputs.py does.
    const user = group(f, 'user_params', file);
    const boxLength = attr(user, 'BOX_LEN', file, 'user_params');
    const cells = attr(user, 'HII_DIM', file, 'user_params');
    const zMin = f.attrs.redshift ? num(f.attrs.redshift.value) : NaN;
    if (!Number.isFinite(zMin)) {
      throw new DataError(
        `${file}: root attribute "redshift" is missing; expected the lowest redshift of a 21cmFAST v3 lightcone.`,
      );
    }
    const chiMin = table.distance(zMin);
    const span = (storedLength * boxLength) / cells;
    distances = Float64Array.from(
      { length: storedLength },
      (_, i) => chiMin + (storedLength === 1 ? 0 : (span * i) / (storedLength - 1)),
    );
  }
  const redshifts = Float64Array.from(distances.subarray(bufferLow, storedLength - bufferHigh), (chi) =>
    table.redshift(chi),
  );

  return {
    layout: isV4 ? 'v4' : 'v3',
    version,
    shape: { nx, ny, nt },
    bufferLow,
    storedLength,
    params: labels.params,
    provenance: labels.provenance,
    cellMpc: cellSize(f, isV4),
    redshifts,
    history: readHistory(f, isV4),
  };
}

/** BOX_LEN / HII_DIM in Mpc, or undefined where the file lacks either. */
function cellSize(f: H5File, isV4: boolean): number | undefined {
  const grid = f.get(isV4 ? 'InputParameters/simulation_options' : 'user_params');
  if (grid === null || !('keys' in grid)) return undefined;
  const boxLength = Number(grid.attrs.BOX_LEN?.value);
  const cells = Number(grid.attrs.HII_DIM?.value);
  return boxLength > 0 && cells > 0 ? boxLength / cells : undefined;
}

/**
 * Each parameter from the config's explicit labels, else from the file's attributes where its model
 * gives the paper's meaning; refuses the file, naming every parameter that has neither.
 */
function resolveParameters(
  readings: ParameterReadings,
  file: string,
  labels: ExplicitLabels | undefined,
): { params: AstroParams; provenance: Record<ParameterName, string> } {
  const explicit = explicitValuesFor(labels, basename(file), file);
  const refusals: string[] = [];
  const refused: string[] = [];
  const chosen = byParameter((name) => {
    const value = explicit.values[name];
    if (value !== undefined) return { value, from: explicit.provenance[name]! };
    const reading = readings[name];
    if (reading.kind === 'mapped') return reading;
    refusals.push(`  ${parameterInfo[name].label} (${name}): ${reading.reason}`);
    refused.push(schemaParameterNames[name]);
    return { value: NaN, from: '' };
  });
  if (refusals.length > 0) {
    const names = parameterNamesOf(refusals.length);
    throw new DataError(
      `${file}: ${names} cannot be read from this file with the meaning of the paper's Table 1:\n${refusals.join('\n')}\n` +
        `Give ${refusals.length === 1 ? 'it' : 'them'} explicitly: data.files.labels.fixed (${refused.join(', ')}) for a value shared by every lightcone, ` +
        `or an entry for "${basename(file)}" in a labels file (data.files.labels.file); docs/paper-mapping.md#labels explains the rules.`,
    );
  }
  return {
    params: byParameter((name) => chosen[name].value),
    provenance: byParameter((name) => chosen[name].from),
  };
}

function parameterNamesOf(count: number): string {
  return count === 1 ? '1 parameter' : `${count} parameters`;
}

/** Global histories from global_quantities, ordered by ascending redshift (files store nodes high z first). */
function readHistory(f: H5File, isV4: boolean): LightconeRecord['history'] {
  const nodesDataset = datasetAt(f, isV4 ? 'InputParameters/node_redshifts' : 'node_redshifts');
  const z = nodesDataset ? float64(nodesDataset.value) : undefined;
  if (!z || z.length === 0 || !f.keys().includes('global_quantities')) return undefined;
  const quantities = f.get('global_quantities');
  if (quantities === null || !('keys' in quantities)) return undefined;
  const read = (name: string) => {
    if (!quantities.keys().includes(name)) return undefined;
    const values = float64(datasetAt(quantities, name)?.value);
    return values && values.length === z.length ? values : undefined;
  };
  const order = Array.from(z.keys()).sort((a, b) => z[a] - z[b]);
  const reorder = (v: Float64Array | undefined) => (v ? Float64Array.from(order, (i) => v[i]) : undefined);
  return {
    z: reorder(z)!,
    xHI: reorder(read('xH_box') ?? read('neutral_fraction')),
    meanTb: reorder(read('brightness_temp')),
  };
}

/** h5wasm throws bare messages ("name not defined!") on damaged files; give them a file name and a cause. */
function describeSafely(f: H5File, file: string, options: Hdf5Options): Hdf5LightconeInfo {
  try {
    return describeLightconeFile(f, file, options);
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(
      `${file}: reading the HDF5 structure failed (${errorMessage(error)}); the file is truncated or damaged. ` +
        'Expected a complete 21cmFAST lightcone .h5 file.',
    );
  }
}

/**
 * Opens a lightcone file read-only, with the errors a missing or non-HDF5 file should give. h5wasm opens
 * by path and synchronously, so a FIFO would block the whole process: the kind is checked first.
 */
async function openLightconeFile(file: string): Promise<H5File> {
  const h5 = await loadH5wasm();
  await checkRegularFile(file, 'a 21cmFAST lightcone .h5 file', (message) => new DataError(message));
  try {
    return new h5.File(file, 'r');
  } catch (error) {
    throw new DataError(
      `${file}: cannot open as HDF5 (${errorMessage(error)}); the file is truncated or not HDF5. ` +
        'Expected a 21cmFAST lightcone .h5 file.',
    );
  }
}

/** Reads one 21cmFAST lightcone file, or a slice range of its kept (buffer-free) slices. */
export async function readLightconeHdf5(
  file: string,
  range?: SliceRange,
  options: Hdf5Options = {},
): Promise<LightconeRecord> {
  const f = await openLightconeFile(file);
  try {
    const info = describeSafely(f, file, options);
    const { nx, ny, nt } = info.shape;
    const { start, end } = resolveSliceRange(range, nt, file);
    const field = `lightcones/${options.field ?? 'brightness_temp'}`;
    const dataset = datasetAt(f, field);
    if (!dataset) throw new DataError(`${file}: dataset "${field}" is missing; expected the lightcone field to read.`);
    let block: unknown;
    try {
      block = dataset.slice([[], [], [info.bufferLow + start, info.bufferLow + end]]);
    } catch (error) {
      throw new DataError(
        `${file}: reading "${field}" slices [${start}, ${end}) failed (${errorMessage(error)}); the file is truncated or damaged.`,
      );
    }
    if (!(block instanceof Float32Array || block instanceof Float64Array) || block.length !== nx * ny * (end - start)) {
      throw new DataError(
        `${file}: dataset "${field}" returned ${kindOf(block)}; ` +
          `expected ${nx * ny * (end - start)} float values (float32 brightness temperatures).`,
      );
    }
    checkFinite(block, file, field);
    if (!options.allowOutsidePriors) checkParamsInPriors(info.params, file, 'the input parameter groups');
    return {
      id: basename(file),
      brightness: xytToTxy(block, nx, ny, end - start),
      shape: { nx, ny, nt: end - start },
      redshifts: info.redshifts.slice(start, end),
      params: info.params,
      source: file,
      firstSlice: start,
      history: info.history,
    };
  } finally {
    f.close();
  }
}

/** Opens a file only to describe it (no voxels read). */
export async function describeLightconeHdf5(file: string, options: Hdf5Options = {}): Promise<Hdf5LightconeInfo> {
  const f = await openLightconeFile(file);
  try {
    return describeSafely(f, file, options);
  } finally {
    f.close();
  }
}

/** A list of 21cmFAST lightcone files (sorted by file name). */
export class Hdf5FilesSource implements LightconeSource {
  readonly description: string;
  private readonly files: Map<string, string>;

  constructor(
    paths: string[],
    private readonly options: Hdf5Options = {},
  ) {
    const sorted = [...paths].sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : 0));
    this.files = new Map(sorted.map((p) => [basename(p), p]));
    this.description = `${sorted.length} 21cmFAST HDF5 file(s)`;
  }

  async list(): Promise<LightconeEntry[]> {
    const out: LightconeEntry[] = [];
    for (const [id, path] of this.files) {
      const info = await describeLightconeHdf5(path, this.options);
      if (!this.options.allowOutsidePriors) checkParamsInPriors(info.params, path, 'the input parameter groups');
      out.push({ id, shape: info.shape, params: info.params, provenance: info.provenance, cellMpc: info.cellMpc });
    }
    return out;
  }

  async load(id: string, range?: SliceRange): Promise<LightconeRecord> {
    const path = this.files.get(basename(id));
    if (!path) throw new DataError(`${id}: not one of this source's files (${[...this.files.keys()].join(', ')}).`);
    return readLightconeHdf5(path, range, this.options);
  }

  async close(): Promise<void> {
    /* files are opened per call */
  }
}
