// Worker-thread entry of store prefetching (prefetch_pool.ts): decodes the requested chunks of one store
// with zarrita and sends each back, its buffer transferred. A chunk file that is missing is reported as
// an error rather than read as zarrita's fill value, so that a damaged store is never read as zeros.
import { parentPort, workerData } from 'node:worker_threads';
import type { PrefetchReply, PrefetchRequest } from './prefetch_pool';
import { AtomicFileStore } from './atomic_file_store';
import { loadZarrita } from './zarr_library';
import { errorMessage } from '../../protocol/error_message';
import { isRecord } from '../../../schemas/json_value';

type AbsolutePath = `/${string}`;
const folder = isRecord(workerData) && typeof workerData.folder === 'string' ? workerData.folder : '';

async function main(): Promise<void> {
  const zarr = await loadZarrita();
  const files = await AtomicFileStore.open(folder);
  const strict = {
    async get(key: AbsolutePath): Promise<Uint8Array | undefined> {
      const bytes = await files.get(key);
      if (!bytes && key.includes('/c/')) throw new Error(`no chunk file ${key}`);
      return bytes;
    },
  };
  const root = zarr.root(strict);
  const arrays = new Map<string, Promise<Awaited<ReturnType<typeof openArray>>>>();
  const openArray = (path: string) => zarr.open.v3(root.resolve(path), { kind: 'array' });
  parentPort!.on('message', (request: PrefetchRequest) => {
    void (async () => {
      for (const path of request.paths) {
        let reply: PrefetchReply;
        try {
          const [arrayPath, coords] = path.split('/c/');
          let array = arrays.get(arrayPath);
          if (!array) arrays.set(arrayPath, (array = openArray(arrayPath)));
          const chunk = await (await array).getChunk(coords.split('/').map(Number));
          const data = chunk.data;
          if (!(data instanceof Float32Array) || !(data.buffer instanceof ArrayBuffer))
            throw new Error(`${arrayPath} is not float32`);
          reply = { path, data };
          parentPort!.postMessage(reply, [data.buffer]);
          continue;
        } catch (error) {
          reply = { path, error: errorMessage(error) };
        }
        parentPort!.postMessage(reply);
      }
    })();
  });
}

void main();
