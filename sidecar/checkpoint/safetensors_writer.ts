// Writes the safetensors format (https://github.com/huggingface/safetensors, "Format") so that Python's
// `safetensors` library loads it unchanged: u64 LE header length, a JSON header padded with spaces to a
// multiple of 8 bytes (as the Rust writer pads, so the data is aligned), then the tensors back to back.
// The file is streamed tensor by tensor into a temporary file in the same folder, fsynced and renamed over the
// target, so a reader never sees half a checkpoint and a large model is never held twice in memory. The bytes
// are hashed (sha256) as they are written, so a checkpoint can record what each of its files must contain.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { dtypeBytes, encodeFromFloat32, type FloatDtype } from './safetensors_dtype';
import { tempFilePrefix } from '../runs/atomic_write';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  /** Called when the tensor is written, so that only one tensor's values are materialised at a time. */
  values: () => Float32Array;
  /** Stored dtype; default F32. */
  dtype?: FloatDtype;
}

/** A tensor whose values are read asynchronously when it is written, one tensor at a time. */
export interface TensorToRead extends Omit<TensorToWrite, 'values'> {
  values: () => Promise<Float32Array>;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** The header bytes (length prefix + padded JSON) for the tensors in order. */
export function safetensorsHeader(
  tensors: readonly Omit<TensorToWrite, 'values'>[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = new Set<string>();
  for (const tensor of tensors) {
    if (names.has(tensor.name)) throw new Error(`safetensors writer: tensor name "${tensor.name}" appears twice.`);
    names.add(tensor.name);
    const dtype = tensor.dtype ?? 'F32';
    const bytes = tensor.shape.reduce((a, b) => a * b, 1) * dtypeBytes[dtype];
    header[tensor.name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const padding = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(padding);
  const jsonBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + jsonBytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  return out;
}

/** A file written whole: its name in its folder, the sha256 of its bytes (hex) and its length. */
export interface WrittenFile {
  file: string;
  sha256: string;
  bytes: number;
}

/** A temporary file in `dir` that receives the header, then each tensor's bytes in order, hashed as they go. */
class TemporaryFile {
  readonly path: string;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(dir: string, label: string, header: Uint8Array) {
    this.path = join(dir, `${tempFilePrefix}${label}.${process.pid}.${randomBytes(4).toString('hex')}`);
    this.fd = openSync(this.path, 'wx');
    try {
      this.write(header);
    } catch (error) {
      this.discard();
      throw error;
    }
  }

  /** Appends a tensor's values, checked against its shape. */
  append(tensor: Omit<TensorToWrite, 'values'>, values: Float32Array): void {
    const expected = tensor.shape.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw new Error(
        `safetensors writer: tensor "${tensor.name}" has ${values.length} values but shape ` +
          `[${tensor.shape.join(', ')}] needs ${expected}.`,
      );
    }
    this.write(encodeFromFloat32(values, tensor.dtype ?? 'F32'));
  }

  /** Fsyncs and closes the file; returns its hash and length. */
  complete(): { tempPath: string; sha256: string; bytes: number } {
    fsyncSync(this.fd);
    closeSync(this.fd);
    return { tempPath: this.path, sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  /** Closes and removes the unfinished file. */
  discard(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(this.path);
    } catch {
      /* never created */
    }
  }

  private write(chunk: Uint8Array): void {
    writeAll(this.fd, chunk);
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
}

/** Streams the file into a fresh temporary file in `dir`, fsynced, hashing the bytes as they go. */
function writeTemporary(
  dir: string,
  label: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): { tempPath: string; sha256: string; bytes: number } {
  const file = new TemporaryFile(dir, label, safetensorsHeader(tensors, metadata));
  try {
    for (const tensor of tensors) file.append(tensor, tensor.values());
    return file.complete();
  } catch (error) {
    file.discard();
    throw error;
  }
}

/** As writeTemporary, awaiting each tensor's values in turn (a GPU tensor is read asynchronously). */
async function writeTemporaryAsync(
  dir: string,
  label: string,
  tensors: readonly TensorToRead[],
  metadata?: Record<string, string>,
): Promise<{ tempPath: string; sha256: string; bytes: number }> {
  const file = new TemporaryFile(dir, label, safetensorsHeader(tensors, metadata));
  try {
    for (const tensor of tensors) file.append(tensor, await tensor.values());
    return file.complete();
  } catch (error) {
    file.discard();
    throw error;
  }
}

function renameInto(tempPath: string, path: string): void {
  try {
    renameSync(tempPath, path);
  } catch (error) {
    try {
      unlinkSync(tempPath);
    } catch {
      /* already gone */
    }
    throw error;
  }
}

/** Writes `tensors` to `path` atomically (temporary file + fsync + rename); returns its hash and length. */
export function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): WrittenFile {
  const written = writeTemporary(dirname(path), basename(path), tensors, metadata);
  renameInto(written.tempPath, path);
  return { file: basename(path), sha256: written.sha256, bytes: written.bytes };
}

/**
 * Writes `tensors` atomically into `dir` under a name derived from the content's hash (`nameOf(hash)`),
 * so that a new version never replaces the bytes an existing reference points at: a file of that name
 * already holds exactly these bytes. Each tensor's values are awaited in turn, so that only one is
 * materialised at a time even when reading it is asynchronous.
 */
export async function writeSafetensorsByContent(
  dir: string,
  nameOf: (sha256: string) => string,
  tensors: readonly TensorToRead[],
  metadata?: Record<string, string>,
): Promise<WrittenFile> {
  const written = await writeTemporaryAsync(dir, nameOf('content'), tensors, metadata);
  const file = nameOf(written.sha256);
  renameInto(written.tempPath, join(dir, file));
  return { file, sha256: written.sha256, bytes: written.bytes };
}
