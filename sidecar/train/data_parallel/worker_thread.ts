// Starts a worker thread from an entry module given without its extension: the built `<entry>.js` (the
// esbuild bundle, next to the sidecar's) when it exists, else `<entry>.ts` through tsx's require hook.
// Node 20 cannot start a .ts worker by itself, and `execArgv: ['--import', 'tsx']` does not reach a worker's
// entry file, so a one-line bootstrap registers tsx inside the worker and then loads the TypeScript entry.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export function startWorkerThread(entry: string, workerData: unknown): Worker {
  if (existsSync(`${entry}.js`)) return new Worker(`${entry}.js`, { workerData });
  if (!existsSync(`${entry}.ts`)) {
    throw new Error(`Worker entry ${entry}.js (or .ts) does not exist; rebuild with "npm run build".`);
  }
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(`${entry}.ts`)});`, { eval: true, workerData });
}
