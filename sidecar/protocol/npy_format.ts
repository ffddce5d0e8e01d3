// NumPy's .npy format (versions 1.0, 2.0 and 3.0), the one encoder and decoder for every process:
// the sidecar writes samples and reads datasets with it, the extension host counts finished slices
// and reads the data preview, and the panels decode the sample bytes they are posted. It imports
// nothing and touches no file, so a browser bundle can load it; reading files stays with the caller.
// The header is a few lines, hence hand-written: magic "\x93NUMPY", version bytes, a little-endian
// header length (u16 for 1.0, u32 for 2.0/3.0), then a Python dict literal {'descr': '<f4',
// 'fortran_order': False, 'shape': (140, 140, 2350), } padded to a multiple of 64 bytes.
// Specification: numpy/lib/format.py (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
// The paper's dataset stores float16 or float32 images; every real numeric dtype decodes to
// Float32Array/Float64Array, and object arrays (pickles) are refused because loading them runs code.

/** What a malformed .npy throws; the message names the file, what it holds and what was expected. */
export class NpyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyFormatError';
  }
}

export interface NpyArray {
  /** Values in C order, converted to float. Float64 stays Float64Array, everything else is Float32Array. */
  data: Float32Array | Float64Array;
  shape: number[];
  /** The descr string as stored, e.g. '<f4'. */
  dtype: string;
}

export interface NpyHeader {
  dtype: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first array element. */
  dataOffset: number;
}

/** "\x93NUMPY" */
export const npyMagic: readonly number[] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

const expectedArray = 'expected an array written by numpy.save';

/**
 * Byte length of an .npy header (magic, version, length field and the dict), which is the offset of the
 * first element; undefined while `bytes` is too short to tell. Lets a stream stop once it has the header.
 */
export function npyHeaderExtent(bytes: Uint8Array, name: string): number | undefined {
  if (bytes.length < 8) return undefined;
  if (npyMagic.some((b, i) => bytes[i] !== b)) {
    throw new NpyFormatError(`${name}: not a NumPy .npy file (it does not start with "\\x93NUMPY"); ${expectedArray}.`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) return bytes.length < 10 ? undefined : 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) return bytes.length < 12 ? undefined : 12 + view.getUint32(8, true);
  throw new NpyFormatError(
    `${name}: .npy format version ${major}.${bytes[7]} is not supported; expected 1.0, 2.0 or 3.0.`,
  );
}

/** Parses the header of an .npy byte buffer; `name` is used in error messages. */
export function parseNpyHeader(bytes: Uint8Array, name: string): NpyHeader {
  const extent = npyHeaderExtent(bytes, name);
  if (extent === undefined) {
    throw new NpyFormatError(
      `${name}: not a NumPy .npy file (${bytes.length} bytes, shorter than the .npy preamble); ${expectedArray}.`,
    );
  }
  const major = bytes[6];
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = extent - headerStart;
  if (extent > bytes.length) {
    throw new NpyFormatError(
      `${name}: .npy header claims ${headerLength} bytes but the file has ${bytes.length}; the file is truncated.`,
    );
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, extent));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(
      `${name}: .npy header ${JSON.stringify(text.trim())} lacks descr, fortran_order or shape; ` +
        'expected a plain numeric array written by numpy.save (structured and object arrays are not supported).',
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new NpyFormatError(`${name}: .npy shape (${shapeText}) is not a tuple of non-negative integers.`);
  }
  return { dtype: descr, fortranOrder: fortran === 'True', shape, dataOffset: extent };
}

interface NpyElement {
  kind: string;
  size: number;
  little: boolean;
}

function elementOf(dtype: string, name: string): NpyElement {
  const match = /^([<>|=])([fiub])(\d+)$/.exec(dtype);
  if (!match) {
    throw new NpyFormatError(
      `${name}: .npy dtype '${dtype}' is not supported; expected a float, int or bool array ` +
        "such as '<f4', '<f2', '<f8' or '<i8'.",
    );
  }
  const size = Number(match[3]);
  if (![1, 2, 4, 8].includes(size) || (match[2] === 'f' && size === 1) || (match[2] === 'b' && size !== 1)) {
    throw new NpyFormatError(
      `${name}: .npy dtype '${dtype}' is not supported; expected float16/32/64, int8-64, uint8-64 or bool.`,
    );
  }
  return { kind: match[2], size, little: match[1] !== '>' };
}

/**
 * Bytes the elements of an .npy array occupy by its header (shape × item size), so that a reader knows
 * how much data to expect before reading any. A shape whose size is not an exact integer is refused.
 */
export function npyDataByteLength(header: NpyHeader, name: string): number {
  const { size } = elementOf(header.dtype, name);
  const bytes = header.shape.reduce((a, b) => a * b, size);
  if (!Number.isSafeInteger(bytes)) {
    throw new NpyFormatError(
      `${name}: .npy shape [${header.shape.join(', ')}] of dtype ${header.dtype} would hold ${bytes} bytes, ` +
        'more than any file can; the header is damaged.',
    );
  }
  return bytes;
}

/** Half-precision (IEEE 754 binary16) to number; the paper's TFRecords store float16 images. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes the elements of an .npy buffer (C or Fortran order) into a C-order float array. */
export function decodeNpy(bytes: Uint8Array, name: string): NpyArray {
  const header = parseNpyHeader(bytes, name);
  const { kind, size, little } = elementOf(header.dtype, name);
  const dataBytes = npyDataByteLength(header, name);
  const count = dataBytes / size;
  const needed = header.dataOffset + dataBytes;
  if (bytes.length < needed) {
    throw new NpyFormatError(
      `${name}: .npy array of shape [${header.shape.join(', ')}] and dtype ${header.dtype} needs ` +
        `${needed} bytes but the file has ${bytes.length}; the file is truncated.`,
    );
  }
  const start = bytes.byteOffset + header.dataOffset;
  let out: Float32Array | Float64Array;
  if (kind === 'f' && size !== 2 && little === littleEndianHost) {
    // Native float data needs no per-element decoding: one copy (which also aligns it) is enough.
    const copy = bytes.buffer.slice(start, start + dataBytes);
    out = size === 8 ? new Float64Array(copy) : new Float32Array(copy);
  } else {
    const view = new DataView(bytes.buffer, start, dataBytes);
    out = kind === 'f' && size === 8 ? new Float64Array(count) : new Float32Array(count);
    const read = elementReader(view, kind, size, little);
    for (let i = 0; i < count; i++) out[i] = read(i);
  }
  const data = header.fortranOrder && header.shape.length > 1 ? fortranToC(out, header.shape) : out;
  return { data, shape: header.shape, dtype: header.dtype };
}

/** An .npy array as the panels draw it: float32 values in C order. */
export interface Float32Npy {
  shape: number[];
  data: Float32Array;
}

/**
 * Decodes .npy bytes for a page or a host that reports what it cannot read instead of failing:
 * the array as float32, or the reason it is unreadable (the same message the sidecar throws).
 */
export function parseNpy(buffer: ArrayBuffer | Uint8Array, name: string): { array: Float32Npy } | { error: string } {
  try {
    const { data, shape } = decodeNpy(buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer), name);
    return { array: { shape, data: data instanceof Float32Array ? data : Float32Array.from(data) } };
  } catch (error) {
    if (error instanceof NpyFormatError) return { error: error.message };
    throw error;
  }
}

function elementReader(view: DataView, kind: string, size: number, little: boolean): (i: number) => number {
  if (kind === 'f' && size === 2) return (i) => halfToFloat(view.getUint16(i * 2, little));
  if (kind === 'f' && size === 4) return (i) => view.getFloat32(i * 4, little);
  if (kind === 'f' && size === 8) return (i) => view.getFloat64(i * 8, little);
  if (kind === 'i' && size === 1) return (i) => view.getInt8(i);
  if (kind === 'i' && size === 2) return (i) => view.getInt16(i * 2, little);
  if (kind === 'i' && size === 4) return (i) => view.getInt32(i * 4, little);
  if (kind === 'i' && size === 8) return (i) => Number(view.getBigInt64(i * 8, little));
  if (kind === 'u' && size === 2) return (i) => view.getUint16(i * 2, little);
  if (kind === 'u' && size === 4) return (i) => view.getUint32(i * 4, little);
  if (kind === 'u' && size === 8) return (i) => Number(view.getBigUint64(i * 8, little));
  return (i) => view.getUint8(i); // u1 and b1, the only 1-byte kinds elementOf lets through besides i1
}

/** Reorders a Fortran-order (first axis fastest) array into C order (last axis fastest). */
function fortranToC(data: Float32Array | Float64Array, shape: number[]): Float32Array | Float64Array {
  const out = data instanceof Float64Array ? new Float64Array(data.length) : new Float32Array(data.length);
  const rank = shape.length;
  const cStrides = new Array<number>(rank);
  const fStrides = new Array<number>(rank);
  cStrides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) cStrides[d] = cStrides[d + 1] * shape[d + 1];
  fStrides[0] = 1;
  for (let d = 1; d < rank; d++) fStrides[d] = fStrides[d - 1] * shape[d - 1];
  for (let c = 0; c < data.length; c++) {
    let rest = c;
    let f = 0;
    for (let d = 0; d < rank; d++) {
      const index = Math.floor(rest / cStrides[d]);
      rest -= index * cStrides[d];
      f += index * fStrides[d];
    }
    out[c] = data[f];
  }
  return out;
}

/**
 * The header (format 1.0) of an array of `shape` and dtype `descr`, padded as numpy pads it so that the
 * data starts at a multiple of 64 bytes. Serves the encoder, a reader decoding part of a file, and tests
 * that need headers no encoder would write (a shape far larger than the data).
 */
export function encodeNpyHeader(descr: string, shape: readonly number[], fortranOrder = false): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (dict.length > 0xffff)
    throw new RangeError(
      `encodeNpyHeader: a header of ${dict.length} bytes needs format 2.0; use a shape of fewer dimensions.`,
    );
  const out = new Uint8Array(10 + dict.length);
  out.set(npyMagic, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}

/** Encodes a C-order float array as an .npy (format 1.0) byte buffer: '<f4' or '<f8' by array type. */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(
      `encodeNpy: shape [${shape.join(', ')}] holds ${count} values but the array has ${data.length}; pass a matching shape.`,
    );
  }
  const header = encodeNpyHeader(data instanceof Float64Array ? '<f8' : '<f4', shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  // Through a little-endian view, so the file is the same on any host byte order.
  const view = new DataView(out.buffer, header.length);
  if (data instanceof Float64Array) for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], true);
  else for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}
