// Worker threads that decode a store's chunks ahead of the reads (store_worker.ts), so that the chunks
// of the next batch are in the cache when the training loop asks for them. The workers are unref'd: a
// prefetch never keeps the process alive, and a chunk that did not arrive in time is read by the
// caller itself (cone_store.ts), so prefetching changes only when a chunk is decoded, never its values.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface PrefetchRequest {
  paths: string[];
}

export type PrefetchReply = { path: string; data: Float32Array } | { path: string; error: string };

/** Starts a worker: the bundle's store_worker.js next to it, or this folder's .ts under tsx. */
function startWorker(folder: string): Worker {
  // __filename, not __dirname: tsx sets the former correctly when an ES module imports this file.
  const here = dirname(__filename);
  const bundled = join(here, 'store_worker.js');
  if (existsSync(bundled)) return new Worker(bundled, { workerData: { folder } });
  const source = join(here, 'store_worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: { folder } });
}

export class PrefetchPool {
  private readonly workers: Worker[];
  private readonly inFlight = new Set<string>();
  private next = 0;
  private waiters: (() => void)[] = [];

  constructor(
    folder: string,
    count: number,
    private readonly onChunk: (path: string, data: Float32Array) => void,
  ) {
    this.workers = Array.from({ length: Math.max(1, count) }, () => {
      const worker = startWorker(folder);
      worker.unref();
      worker.on('message', (reply: PrefetchReply) => this.arrived(reply));
      // A worker that fails leaves its chunks to the synchronous reads, which report any damage by name.
      worker.on('error', () => this.inFlight.clear());
      return worker;
    });
  }

  /** Asks for these chunks (skipping those on their way), spread over the workers. */
  request(chunks: readonly { path: string }[]): void {
    const paths = chunks.map((c) => c.path).filter((p) => !this.inFlight.has(p));
    if (paths.length === 0) return;
    for (const path of paths) this.inFlight.add(path);
    const share = Math.ceil(paths.length / this.workers.length);
    for (let i = 0; i < paths.length; i += share) {
      const worker = this.workers[this.next++ % this.workers.length];
      worker.postMessage({ paths: paths.slice(i, i + share) } satisfies PrefetchRequest);
    }
  }

  /** Resolves once nothing requested is still on its way. */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.inFlight.clear();
    this.release();
  }

  private arrived(reply: PrefetchReply): void {
    this.inFlight.delete(reply.path);
    if ('data' in reply) this.onChunk(reply.path, reply.data);
    if (this.inFlight.size === 0) this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
