// The zip layer of .npz files: opening the archive and reading one .npy member with every check numpy
// makes and a few it does not. yauzl reads the central directory and streams single members, so listing a
// folder never reads voxels; what this module adds:
//   - the file must be a regular file (a FIFO would block the run forever, see runtime/regular_file.ts);
//   - a member's size in the zip directory must be what its .npy header needs (shape × item size + header),
//     and inflating stops as soon as the output passes it, so a small crafted member cannot inflate to
//     gigabytes (a decompression bomb); a declared size that deflate cannot reach from the compressed
//     bytes is refused before anything is allocated;
//   - the CRC-32 over the inflated bytes must match the directory's, as numpy checks it ("Bad CRC-32"),
//     so a bit-flipped file is never used for training.
// yauzl's own size checks are off (validateEntrySizes: false) because the checks here cover them and
// name the file, the member and both sizes.
import yauzl from 'yauzl';
import { promisify } from 'node:util';
import { close } from 'node:fs';
import { openRegularFileDescriptor } from '../runtime/regular_file';
import { crc32 } from './crc32';
import { DataError } from './lightcone_record';
import { npyDataByteLength, npyHeaderExtent, parseNpyHeader, type NpyHeader } from './npy';
import { errorReason } from '../protocol/error_message';

/** The largest .npy header read; numpy itself refuses headers over 10 000 bytes by default. */
const maxHeaderBytes = 65536;
/** Deflate emits at most 258 bytes per 2-bit symbol, so one compressed byte inflates to at most 1032. */
const maxDeflateRatio = 1032;
const storedMethod = 0;
const deflateMethod = 8;

export interface NpzArchive {
  file: string;
  /** Members by file name, e.g. "image.npy". */
  members: ReadonlyMap<string, yauzl.Entry>;
  zip: yauzl.ZipFile;
}

function describeError(error: unknown): string {
  return errorReason(error);
}

/** Opens an .npz and reads its central directory (no member data). */
export async function openNpzArchive(file: string, expected: string): Promise<NpzArchive> {
  const fd = await openRegularFileDescriptor(file, expected, (message) => new DataError(message));
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromFdPromise(fd, { autoClose: false, validateEntrySizes: false });
  } catch (error) {
    await promisify(close)(fd);
    throw new DataError(`${file}: not a readable .npz (zip) archive (${describeError(error)}); expected ${expected}.`);
  }
  // From here on yauzl owns the descriptor and closes it once the archive and its streams are closed.
  const members = new Map<string, yauzl.Entry>();
  try {
    for await (const entry of zip.eachEntry()) members.set(entry.fileName, entry);
  } catch (error) {
    zip.close();
    throw new DataError(
      `${file}: the .npz (zip) directory is damaged (${describeError(error)}); the file is truncated or not an .npz.`,
    );
  }
  return { file, members, zip };
}

function memberError(archive: NpzArchive, entry: yauzl.Entry, problem: string): DataError {
  return new DataError(`${archive.file}: member "${entry.fileName}" ${problem}`);
}

/** Sizes the zip directory gives that no honest archive has; checked before inflating anything. */
function checkDeclaredSizes(archive: NpzArchive, entry: yauzl.Entry): void {
  const { compressedSize, uncompressedSize, compressionMethod } = entry;
  if (compressionMethod === storedMethod && compressedSize !== uncompressedSize) {
    throw memberError(
      archive,
      entry,
      `is stored uncompressed but the zip directory gives ${compressedSize} compressed and ` +
        `${uncompressedSize} uncompressed bytes; the file is damaged. Re-create it with numpy.savez.`,
    );
  }
  if (compressionMethod === deflateMethod && uncompressedSize > compressedSize * maxDeflateRatio + 1024) {
    throw memberError(
      archive,
      entry,
      `declares ${uncompressedSize} bytes uncompressed from ${compressedSize} compressed bytes; ` +
        `deflate inflates at most ${maxDeflateRatio} bytes per byte, so the zip directory is damaged or crafted. Re-create the file with numpy.savez.`,
    );
  }
  if (compressionMethod !== storedMethod && compressionMethod !== deflateMethod) {
    throw memberError(
      archive,
      entry,
      `uses zip compression method ${compressionMethod}; expected stored (0) or deflate (8), ` +
        'as numpy.savez and numpy.savez_compressed write.',
    );
  }
}

export interface NpyMember {
  header: NpyHeader;
  /** The whole .npy (header and elements), CRC-checked; absent when only the header was asked for. */
  bytes?: Uint8Array;
}

/**
 * Reads one .npy member: its header only (`headerOnly`, stops inflating right after it), or all of it
 * into one buffer of exactly the size the header declares, checked against the zip directory's CRC-32.
 */
export async function readNpyMember(archive: NpzArchive, entry: yauzl.Entry, headerOnly = false): Promise<NpyMember> {
  checkDeclaredSizes(archive, entry);
  const name = `${archive.file}:${entry.fileName}`;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await archive.zip.openReadStreamPromise(entry);
  } catch (error) {
    throw memberError(archive, entry, `cannot be read (${describeError(error)}); the file is truncated or damaged.`);
  }
  let head: Uint8Array = new Uint8Array(0);
  let header: NpyHeader | undefined;
  let bytes: Uint8Array | undefined;
  let filled = 0;
  let crc = 0;
  try {
    for await (const piece of stream) {
      // A stream without an encoding gives Buffers; a string would only come from one set to decode.
      let chunk: Uint8Array = typeof piece === 'string' ? Buffer.from(piece) : piece;
      if (!header) {
        head = concat(head, chunk);
        const extent = npyHeaderExtent(head, name);
        if (extent !== undefined && extent > maxHeaderBytes) {
          throw memberError(
            archive,
            entry,
            `has a .npy header of ${extent} bytes; expected at most ${maxHeaderBytes} (numpy writes a few hundred).`,
          );
        }
        if (extent === undefined || head.length < extent) continue;
        header = parseNpyHeader(head.subarray(0, extent), name);
        const needed = header.dataOffset + npyDataByteLength(header, name);
        if (needed !== entry.uncompressedSize) {
          throw memberError(
            archive,
            entry,
            `declares ${entry.uncompressedSize} bytes uncompressed, but its .npy header ` +
              `(shape [${header.shape.join(', ')}], dtype ${header.dtype}) needs ${needed}; the file is damaged or crafted. ` +
              'Re-create it with numpy.savez.',
          );
        }
        if (headerOnly) return { header };
        bytes = new Uint8Array(needed);
        chunk = head;
      }
      if (filled + chunk.length > bytes!.length) {
        throw memberError(
          archive,
          entry,
          `inflates past the ${bytes!.length} bytes its .npy header and the zip directory declare; ` +
            'the file is damaged or crafted (a decompression bomb). Re-create it with numpy.savez.',
        );
      }
      bytes!.set(chunk, filled);
      filled += chunk.length;
      crc = crc32(chunk, crc);
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw memberError(
      archive,
      entry,
      `cannot be inflated (${describeError(error)}); the file is truncated or damaged.`,
    );
  }
  if (!header) parseNpyHeader(head, name); // throws the matching "not an .npy" or "truncated" error
  if (!header || filled !== bytes!.length) {
    throw memberError(
      archive,
      entry,
      `ends after ${filled} of the ${entry.uncompressedSize} bytes it declares; the file is truncated.`,
    );
  }
  const stored = entry.crc32 >>> 0;
  if (crc !== stored) {
    throw memberError(
      archive,
      entry,
      `fails its CRC-32 check (stored 0x${hex(stored)}, computed 0x${hex(crc)}); the file is damaged ` +
        '(numpy refuses it with "Bad CRC-32"). Copy or re-create it.',
    );
  }
  return { header, bytes };
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
