// Opening input files (datasets, checkpoints, configs) only when they are regular files. Opening a FIFO
// for reading blocks until some process writes to it, so a stray FIFO where a data file belongs would leave
// a run "running" forever; a directory or a device fails later, deep inside a parser, with an EISDIR or a
// message that names no file. Each function here refuses such paths with an error that names the path,
// what it is, and what was expected.
//
// The file is opened with O_NONBLOCK, which makes open() return at once on a FIFO and changes nothing for
// a regular file, and its kind is then read from the open descriptor (fstat), so nothing can swap the file
// between the check and the read. Windows has no O_NONBLOCK and no FIFOs in the file system.
import {
  close,
  closeSync,
  constants,
  fstat,
  fstatSync,
  open as openFd,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  type Stats,
} from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { errorCode, errorMessage } from '../protocol/error_message';

/** Builds the error thrown for a refused path (DataError for datasets, Error elsewhere). */
export type MakeError = (message: string) => Error;

const plainError: MakeError = (message) => new Error(message);
const readFlags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function notRegular(path: string, stats: Stats, expected: string): string {
  return `${path}: is ${kindOf(stats)}, not a regular file; expected ${expected}. Replace it with a regular file or move it out of the way.`;
}

function openFailure(path: string, error: unknown, expected: string): string {
  const code = errorCode(error);
  if (code === 'ENOENT') return `${path}: does not exist; expected ${expected}.`;
  if (code === 'EACCES' || code === 'EPERM')
    return `${path}: permission denied (${code}); expected ${expected} readable by this user.`;
  return `${path}: cannot be opened (${code ?? errorMessage(error)}); expected ${expected}.`;
}

/** Opens `path` for reading if it is a regular file; `expected` completes "expected …" in the error. */
export async function openRegularFile(
  path: string,
  expected: string,
  makeError: MakeError = plainError,
): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, readFlags);
  } catch (error) {
    throw makeError(openFailure(path, error, expected));
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw makeError(notRegular(path, stats, expected));
  }
  return handle;
}

/**
 * openRegularFile as a bare descriptor, for libraries that take over a descriptor and close it
 * themselves (yauzl.fromFd); a FileHandle would close it a second time.
 */
export async function openRegularFileDescriptor(
  path: string,
  expected: string,
  makeError: MakeError = plainError,
): Promise<number> {
  let fd: number;
  try {
    fd = await promisify(openFd)(path, readFlags);
  } catch (error) {
    throw makeError(openFailure(path, error, expected));
  }
  const stats = await promisify(fstat)(fd);
  if (!stats.isFile()) {
    await promisify(close)(fd);
    throw makeError(notRegular(path, stats, expected));
  }
  return fd;
}

/** The synchronous openRegularFile: returns a file descriptor the caller closes. */
export function openRegularFileSync(path: string, expected: string, makeError: MakeError = plainError): number {
  let fd: number;
  try {
    fd = openSync(path, readFlags);
  } catch (error) {
    throw makeError(openFailure(path, error, expected));
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw makeError(notRegular(path, stats, expected));
  }
  return fd;
}

/** Reads a whole regular file. */
export async function readRegularFile(
  path: string,
  expected: string,
  makeError: MakeError = plainError,
): Promise<Buffer> {
  const handle = await openRegularFile(path, expected, makeError);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Reads a whole regular file, synchronously. */
export function readRegularFileSync(path: string, expected: string, makeError: MakeError = plainError): Buffer {
  const fd = openRegularFileSync(path, expected, makeError);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks that `path` is a regular file without opening it, for libraries that open files by path
 * themselves (h5wasm). stat() never blocks on a FIFO; the file could change before the library opens
 * it, which only an attacker racing the run could arrange.
 */
export async function checkRegularFile(
  path: string,
  expected: string,
  makeError: MakeError = plainError,
): Promise<Stats> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    throw makeError(openFailure(path, error, expected));
  }
  if (!stats.isFile()) throw makeError(notRegular(path, stats, expected));
  return stats;
}

/** The synchronous checkRegularFile. */
export function checkRegularFileSync(path: string, expected: string, makeError: MakeError = plainError): Stats {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw makeError(openFailure(path, error, expected));
  }
  if (!stats.isFile()) throw makeError(notRegular(path, stats, expected));
  return stats;
}

/** The names of the regular files in `dir` (not folders, links or FIFOs); none when it cannot be read. */
export function regularFileNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}
