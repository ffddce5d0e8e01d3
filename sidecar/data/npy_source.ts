// Loader of plain NumPy lightcones: a folder of `<name>.npy` arrays [x, y, t] (t from low to high
// redshift, like every other format) each with a sibling `<name>.json` holding the six parameters
// by canonical name, e.g. {"mWDM": 2, "omegaM": 0.31, "E0": 500, "log10LX": 40, "log10Tvir": 4.7,
// "zeta": 30}, and optionally "redshifts": [...] (one per slice). Because .npy is uncompressed, a
// slice range is read through a file handle one x-row at a time (ny·nt values), so memory stays at
// one row plus the requested slices however large the file is.
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openRegularFile, readRegularFile } from '../runtime/regular_file';
import { encodeNpyHeader, npyDataByteLength, parseNpyHeader, readNpy } from './npy';
import { byParameter, parameterNames, type AstroParams } from './parameters';
import { isRecord } from '../../schemas/json_value';
import {
  DataError,
  checkFinite,
  checkParamsInPriors,
  checkRank,
  resolveSliceRange,
  type LightconeEntry,
  type LightconeRecord,
  type LightconeSource,
  type SliceRange,
} from './lightcone_record';
import { errorMessage } from '../protocol/error_message';

interface Sidecar {
  params: AstroParams;
  redshifts?: Float64Array;
}

const dataError = (message: string) => new DataError(message);
const expectedArray = 'an .npy array [x, y, t] written by numpy.save';

async function readSidecarJson(file: string): Promise<Sidecar> {
  const expected = `a JSON object with ${parameterNames.join(', ')} next to the .npy array`;
  const text = (await readRegularFile(file, expected, dataError)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DataError(`${file}: not valid JSON (${errorMessage(error)}).`);
  }
  // A value that is not an object has none of the keys, and is refused by the first of them.
  const json = isRecord(parsed) ? parsed : {};
  const params = byParameter((name) => {
    const value = json[name];
    if (typeof value !== 'number') {
      throw new DataError(
        `${file}: "${name}" is ${JSON.stringify(value)}; expected a number (keys: ${parameterNames.join(', ')}).`,
      );
    }
    return value;
  });
  const z = json.redshifts;
  const redshifts: unknown[] | undefined = Array.isArray(z) ? z : undefined;
  return { params, redshifts: redshifts ? Float64Array.from(redshifts, Number) : undefined };
}

interface Header {
  nx: number;
  ny: number;
  nt: number;
  dtype: string;
  dataOffset: number;
  fortranOrder: boolean;
}

async function readHeader(file: string): Promise<Header> {
  const handle = await openRegularFile(file, expectedArray, dataError);
  try {
    const head = new Uint8Array(65536);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const header = parseNpyHeader(head.subarray(0, bytesRead), file);
    checkRank(header.shape, 3, file, 'array', '[x, y, t]');
    // Checked before any array is sized by the header, so a damaged shape cannot ask for petabytes.
    const needed = header.dataOffset + npyDataByteLength(header, file);
    const { size } = await handle.stat();
    if (size < needed) {
      throw new DataError(
        `${file}: .npy array of shape [${header.shape.join(', ')}] and dtype ${header.dtype} needs ` +
          `${needed} bytes but the file has ${size}; the file is truncated.`,
      );
    }
    const [nx, ny, nt] = header.shape;
    return { nx, ny, nt, dtype: header.dtype, dataOffset: header.dataOffset, fortranOrder: header.fortranOrder };
  } finally {
    await handle.close();
  }
}

/** Reads slices [start, end) of an [x, y, t] .npy file into [t, x, y] layout, one x-row at a time. */
async function readSliceRange(file: string, h: Header, start: number, end: number): Promise<Float32Array> {
  const itemMatch = /^[<>|=][fiub](\d+)$/.exec(h.dtype);
  if (!itemMatch || h.fortranOrder) {
    // Rare layouts fall back to a whole read through the general decoder.
    const { data, shape } = readNpy(await readRegularFile(file, expectedArray, dataError), file);
    const [nx, ny, nt] = shape;
    const out = new Float32Array(nx * ny * (end - start));
    for (let ij = 0; ij < nx * ny; ij++)
      for (let k = start; k < end; k++) out[(k - start) * nx * ny + ij] = data[ij * nt + k];
    return out;
  }
  const item = Number(itemMatch[1]);
  const rowBytes = h.ny * h.nt * item;
  const plane = h.nx * h.ny;
  const out = new Float32Array(plane * (end - start));
  const handle = await openRegularFile(file, expectedArray, dataError);
  try {
    // A fake one-row .npy header lets readNpy decode any dtype of the row bytes.
    const rowHeader = encodeNpyHeader(h.dtype, [h.ny, h.nt]);
    const buffer = new Uint8Array(rowHeader.length + rowBytes);
    buffer.set(rowHeader, 0);
    for (let i = 0; i < h.nx; i++) {
      const { bytesRead } = await handle.read(buffer, rowHeader.length, rowBytes, h.dataOffset + i * rowBytes);
      if (bytesRead !== rowBytes) {
        throw new DataError(
          `${file}: array ends inside x-row ${i} (got ${bytesRead} of ${rowBytes} bytes); the file is truncated.`,
        );
      }
      const row = readNpy(buffer, file).data;
      for (let j = 0; j < h.ny; j++) {
        for (let k = start; k < end; k++) out[(k - start) * plane + i * h.ny + j] = row[j * h.nt + k];
      }
    }
  } finally {
    await handle.close();
  }
  return out;
}

/** A folder of `<name>.npy` + `<name>.json` lightcones, sorted by file name. */
export class NpyFolderSource implements LightconeSource {
  readonly description: string;

  constructor(
    private readonly folder: string,
    private readonly options: { allowOutsidePriors?: boolean } = {},
  ) {
    this.description = `npy folder ${folder}`;
  }

  async list(): Promise<LightconeEntry[]> {
    let names: string[];
    try {
      names = (await readdir(this.folder)).filter((n) => n.endsWith('.npy')).sort();
    } catch {
      throw new DataError(
        `${this.folder}: cannot list the dataset folder; expected a folder of <name>.npy + <name>.json lightcones.`,
      );
    }
    if (names.length === 0)
      throw new DataError(
        `${this.folder}: no .npy files found; expected <name>.npy [x, y, t] with <name>.json parameters.`,
      );
    const out: LightconeEntry[] = [];
    for (const name of names) {
      const file = join(this.folder, name);
      const h = await readHeader(file);
      const { params } = await this.params(name);
      out.push({ id: name, shape: { nx: h.nx, ny: h.ny, nt: h.nt }, params });
    }
    return out;
  }

  async load(id: string, range?: SliceRange): Promise<LightconeRecord> {
    // Ids are file names; a bare stem (as in a simulated dataset's manifest) is accepted too.
    const name = basename(id).endsWith('.npy') ? basename(id) : `${basename(id)}.npy`;
    const file = join(this.folder, name);
    const h = await readHeader(file);
    const { start, end } = resolveSliceRange(range, h.nt, file);
    const { params, redshifts } = await this.params(name);
    if (redshifts && redshifts.length !== h.nt) {
      throw new DataError(
        `${file.replace(/\.npy$/, '.json')}: "redshifts" has ${redshifts.length} entries; expected ${h.nt}, one per slice.`,
      );
    }
    const brightness = await readSliceRange(file, h, start, end);
    checkFinite(brightness, file, 'array');
    return {
      id: name,
      brightness,
      shape: { nx: h.nx, ny: h.ny, nt: end - start },
      redshifts: redshifts?.slice(start, end),
      params,
      source: file,
      firstSlice: start,
    };
  }

  async close(): Promise<void> {
    /* files are opened per call */
  }

  private async params(name: string): Promise<Sidecar> {
    const jsonFile = join(this.folder, name.replace(/\.npy$/, '.json'));
    const sidecar = await readSidecarJson(jsonFile);
    if (!this.options.allowOutsidePriors) checkParamsInPriors(sidecar.params, jsonFile, 'the parameter JSON');
    return sidecar;
  }
}
