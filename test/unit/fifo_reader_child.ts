// Child process of input_fifos.test.ts: opens each given path with the reader named beside it and prints
// one JSON line per case as it finishes. It runs apart from the test process because a reader that opens
// a FIFO synchronously blocks its whole thread, and only a process can be stopped from outside.
import { basename, dirname } from 'node:path';
import { readCheckpointMetadata } from '../../sidecar/checkpoint/checkpoint';
import { readHfConfig } from '../../sidecar/checkpoint/hf_checkpoint';
import { SafetensorsFile } from '../../sidecar/checkpoint/safetensors_reader';
import { Hdf5FilesSource } from '../../sidecar/data/hdf5_source';
import { NpyFolderSource } from '../../sidecar/data/npy_source';
import { NpzFolderSource } from '../../sidecar/data/npz_source';

export type FifoReader = 'npz' | 'npy' | 'hdf5' | 'safetensors' | 'hf-config' | 'checkpoint-metadata';

const readers: Record<FifoReader, (path: string) => unknown> = {
  npz: (path) => new NpzFolderSource(dirname(path)).list(),
  npy: (path) => new NpyFolderSource(dirname(path)).list(),
  hdf5: (path) => new Hdf5FilesSource([path]).list(),
  safetensors: (path) => new SafetensorsFile(path).close(),
  'hf-config': (path) => readHfConfig(dirname(path)),
  'checkpoint-metadata': (path) => readCheckpointMetadata(dirname(path), basename(path, '.json')),
};

async function main(): Promise<void> {
  const cases = JSON.parse(process.argv[2]) as { reader: FifoReader; path: string }[];
  for (const { reader, path } of cases) {
    try {
      await readers[reader](path);
      console.log(JSON.stringify({ reader, outcome: 'accepted' }));
    } catch (error) {
      console.log(JSON.stringify({ reader, outcome: 'refused', message: (error as Error).message }));
    }
  }
}

void main();
