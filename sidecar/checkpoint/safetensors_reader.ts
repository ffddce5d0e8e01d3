// Streaming reader of the safetensors format (https://github.com/huggingface/safetensors, "Format"):
// 8 bytes little-endian u64 N, N bytes of JSON header {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__"?: {string: string}}, then the data region; offsets are relative to the data region.
// Opening a file reads and validates only the header; each tensor is read later with one positioned read at
// its offset, so a multi-GB checkpoint never sits in memory whole. Every inconsistency (truncated file,
// offsets that overlap or run past the end, a size that does not match dtype × shape) is an error naming
// the file and the tensor, raised at open time, before any weight is used.
import { closeSync, fstatSync, readSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { openRegularFileSync } from '../runtime/regular_file';
import { decodeToFloat32, dtypeBytes, floatDtypes, isFloatDtype } from './safetensors_dtype';
import { errorMessage } from '../protocol/error_message';
import { isRecord } from '../../schemas/json_value';

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range inside the data region. */
  begin: number;
  end: number;
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Headers larger than this are refused (the Rust library's limit is 100 MB too), so a corrupt length cannot OOM us. */
const maxHeaderBytes = 100_000_000;

export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  readonly metadata: Record<string, string> = {};
  private fd: number | null;
  private readonly dataStart: number;

  /** Opens `path` and validates its header; throws an error naming the file on any inconsistency. */
  constructor(readonly path: string) {
    // A FIFO would block here forever and a directory fails later with a bare EISDIR: refuse both by name.
    this.fd = openRegularFileSync(
      path,
      'a safetensors file (8-byte header length, JSON header, tensor data)',
      (message) => new Error(`Safetensors file ${message}`),
    );
    try {
      const fileSize = fstatSync(this.fd).size;
      if (fileSize < 8)
        throw this.error(
          `the file is ${fileSize} bytes, shorter than the 8-byte header length; it is truncated or not safetensors`,
        );
      const lengthBytes = this.readExactly(0, 8);
      const headerLength = Number(new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true));
      if (headerLength > maxHeaderBytes || 8 + headerLength > fileSize) {
        throw this.error(
          `the header claims ${headerLength} bytes but the file has only ${fileSize - 8} after the length; ` +
            'the file is truncated or not safetensors',
        );
      }
      this.dataStart = 8 + headerLength;
      let header: unknown;
      try {
        header = JSON.parse(Buffer.from(this.readExactly(8, headerLength)).toString('utf8'));
      } catch (cause) {
        throw this.error(`the header is not valid JSON (${errorMessage(cause)})`);
      }
      if (!isRecord(header)) throw this.error('the header is not a JSON object');
      this.parseHeader(header, fileSize - this.dataStart);
    } catch (error) {
      closeSync(this.fd);
      this.fd = null;
      throw error;
    }
  }

  private error(problem: string): Error {
    return new Error(`Safetensors file ${this.path}: ${problem}.`);
  }

  private parseHeader(header: Record<string, unknown>, dataLength: number): void {
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (typeof entry === 'object' && entry !== null) {
          for (const [key, value] of Object.entries(entry)) if (typeof value === 'string') this.metadata[key] = value;
        }
        continue;
      }
      const info = isRecord(entry) ? entry : {};
      const offsets = info.data_offsets;
      if (typeof info.dtype !== 'string' || !isCountList(info.shape) || !isCountList(offsets) || offsets.length !== 2) {
        throw this.error(
          `tensor "${name}" has a malformed header entry ${JSON.stringify(entry)}; expected ` +
            '{dtype, shape: int[], data_offsets: [begin, end]}',
        );
      }
      const bytesPerElement = dtypeBytes[info.dtype];
      if (bytesPerElement === undefined) throw this.error(`tensor "${name}" has unknown dtype "${info.dtype}"`);
      const [begin, end] = offsets;
      const shape = info.shape;
      const expectedBytes = shape.reduce((a, b) => a * b, 1) * bytesPerElement;
      if (!Number.isSafeInteger(expectedBytes)) {
        throw this.error(
          `tensor "${name}" has shape [${shape.join(', ')}] of ${info.dtype}, more bytes than any file holds; the header is damaged`,
        );
      }
      if (end < begin || end - begin !== expectedBytes) {
        throw this.error(
          `the header lies about tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, ` +
            `but ${info.dtype} [${shape.join(', ')}] needs ${expectedBytes}`,
        );
      }
      if (end > dataLength) {
        throw this.error(
          `tensor "${name}" ends at data byte ${end}, past the end of the data (${dataLength} bytes); ` +
            'the file is truncated or its header lies about offsets',
        );
      }
      this.tensors.set(name, { name, dtype: info.dtype, shape, begin, end });
    }
    // The format requires the tensors to tile the data region without overlaps; an overlap means a corrupt header.
    const sorted = [...this.tensors.values()].sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].begin < sorted[i - 1].end) {
        throw this.error(
          `the header lies about offsets: tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`,
        );
      }
    }
  }

  private readExactly(position: number, length: number): Uint8Array {
    if (this.fd === null) throw this.error('the file was closed');
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const read = readSync(this.fd, buffer, done, length - done, position + done);
      if (read === 0) throw this.error(`unexpected end of file at byte ${position + done}; the file is truncated`);
      done += read;
    }
    return buffer;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw this.error(`no tensor named "${name}"`);
    return info;
  }

  /** The raw little-endian bytes of one tensor, read from disk now. */
  readBytes(name: string): Uint8Array {
    const info = this.info(name);
    return this.readExactly(this.dataStart + info.begin, info.end - info.begin);
  }

  /** One tensor converted to float32 values (BF16, F16 and F32 only). */
  readFloat32(name: string): Float32Array {
    const info = this.info(name);
    if (!isFloatDtype(info.dtype)) {
      throw this.error(
        `tensor "${name}" has dtype ${info.dtype}, which is not supported for weights; ` +
          `supported: ${floatDtypes.join(', ')}`,
      );
    }
    const bytes = this.readBytes(name);
    // F32 on a little-endian host is already the float32 layout: view the freshly read buffer instead of copying.
    if (info.dtype === 'F32' && hostIsLittleEndian) return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
    return decodeToFloat32(bytes, info.dtype);
  }

  /** One tensor as a float32 tf.Tensor of its stored shape. */
  readTensor(name: string): tf.Tensor {
    const info = this.info(name);
    return tf.tensor(this.readFloat32(name), info.shape, 'float32');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** A list of integers ≥ 0: a tensor's shape, or its data offsets. */
function isCountList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number' && Number.isInteger(item) && item >= 0);
}
