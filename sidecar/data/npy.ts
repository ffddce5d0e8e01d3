// The sidecar's side of the .npy format (sidecar/protocol/npy_format.ts, shared with the extension and
// the panels): the same encoder and decoder, with a malformed array raised as a DataError, which the
// loaders and `l3m data` report as bad input (exit code "invalid") rather than as a crash.
// Reading files stays with the loaders (npy_source.ts, npz_archive.ts), through runtime/regular_file.ts.
import {
  NpyFormatError,
  decodeNpy,
  encodeNpy,
  npyDataByteLength as byteLength,
  npyHeaderExtent as headerExtent,
  parseNpyHeader as parseHeader,
  type NpyArray,
  type NpyHeader,
} from '../protocol/npy_format';
import { DataError } from './lightcone_record';

export type { NpyArray, NpyHeader };
export { encodeNpyHeader } from '../protocol/npy_format';

function asDataError<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof NpyFormatError) throw new DataError(error.message);
    throw error;
  }
}

/** Byte length of an .npy header, or undefined while `bytes` is too short to tell (npy_format.ts). */
export const npyHeaderExtent = (bytes: Uint8Array, name: string): number | undefined =>
  asDataError(() => headerExtent(bytes, name));

/** Parses the header of an .npy byte buffer; `name` is used in error messages. */
export const parseNpyHeader = (bytes: Uint8Array, name: string): NpyHeader =>
  asDataError(() => parseHeader(bytes, name));

/** Bytes the elements of an .npy array occupy by its header; a damaged shape is refused. */
export const npyDataByteLength = (header: NpyHeader, name: string): number =>
  asDataError(() => byteLength(header, name));

/** Decodes an .npy buffer (any real numeric dtype, C or Fortran order) into a C-order float array. */
export const readNpy = (bytes: Uint8Array, name: string): NpyArray => asDataError(() => decodeNpy(bytes, name));

/** Encodes a C-order float array as an .npy (format 1.0) byte buffer: '<f4' or '<f8' by array type. */
export const writeNpy: (data: Float32Array | Float64Array, shape: readonly number[]) => Uint8Array = encodeNpy;
