// Where a store reader gets a chunk's bytes: the chunk file, read synchronously, since the training
// loop builds its batches synchronously (zarrita's reads are asynchronous; the prefetch workers use
// them to fill the cache ahead). An interface, so that a test can count the reads on a real store.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode } from '../../protocol/error_message';

export interface ChunkBytes {
  /** The bytes of a store file (a path inside the store), or undefined when there is no such file. */
  read(path: string): Uint8Array | undefined;
}

export class FolderChunkBytes implements ChunkBytes {
  constructor(readonly folder: string) {}

  read(path: string): Uint8Array | undefined {
    try {
      return readFileSync(join(this.folder, path));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }
}
