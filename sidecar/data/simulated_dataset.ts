// Dataset generation from the built-in simulator: `count` accepted lightcones drawn with
// sampleParams(seed, i) for i = 0, 1, 2, …; a cone failing the acceptance cut (τ > 0.089 or
// x_HI(z_min) > 0.1, docs/simulator.md#dataset) is recorded in the manifest and the next index is drawn.
// The accepted set is always the first `count` accepted indices, whatever the number of workers
// or the order in which they finish, so a dataset is reproducible for a seed.
//
// Work runs on worker_threads (os.availableParallelism() by default), one cone per worker at a
// time. The result is cached on disk under a sha256 of its inputs (dataset_cache.ts); a second call
// with the same config reads the cache and runs no simulation (`simulatedCount` is 0).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  commitFolder,
  datasetCacheFormat,
  datasetCacheKey,
  datasetCacheRoot,
  makeTemporaryFolder,
  manifestName,
  readCachedManifest,
  type DatasetManifest,
  type ManifestCone,
  type ManifestRejection,
  type Priors,
  type SimulatedDatasetKey,
} from './dataset_cache';
import type { WorkerMessage, WorkerRequest } from './dataset_worker';
import { NpyFolderSource } from './npy_source';
import type { StoreProgress } from './store/convert_store';
import { byParameter, parameterInfo, type AstroParams } from './parameters';
import {
  resolveSize,
  sampleParams,
  simulatorPresets,
  simulatorVersion,
  type SimulatorPresetName,
  type SimulatorSize,
} from './simulator';

export interface SimulatedDatasetConfig {
  preset: SimulatorPresetName;
  /** Explicit size instead of the preset's (benchmarks, tests). */
  size?: SimulatorSize;
  count: number;
  seed: number;
  /** Prior ranges inside the dataset bounds; default the bounds themselves. */
  priors?: Partial<Priors>;
}

export type DatasetProgress =
  | { kind: 'cached'; folder: string; count: number }
  | { kind: 'started'; folder: string; count: number; workers: number }
  | { kind: 'cone'; drawIndex: number; fraction: number; phase: string }
  | {
      kind: 'finished-cone';
      drawIndex: number;
      accepted: boolean;
      reason?: string;
      acceptedSoFar: number;
      rejectedSoFar: number;
      count: number;
    }
  | { kind: 'done'; folder: string; seconds: number }
  // Converting the dataset into its store (store/convert_store.ts), whatever its source.
  | StoreProgress;

export interface GenerateOptions {
  /** Root of the dataset cache; default datasetCacheRoot(). */
  cacheRoot?: string;
  workers?: number;
  onProgress?: (event: DatasetProgress) => void;
  /** Give up after this many draws (default 20·count + 20): narrow priors can reject almost everything. */
  maxDraws?: number;
  /**
   * Cancels the generation: the workers are terminated at once (a cone in progress is abandoned), the
   * temporary folder is removed, and the call rejects with DatasetCancelledError. The cache is never
   * touched, since only a complete dataset is ever renamed into place.
   */
  signal?: AbortSignal;
}

/** Thrown by generateSimulatedDataset when its signal aborts; the caller ends its run as cancelled. */
export class DatasetCancelledError extends Error {
  constructor(
    readonly completedCones: number,
    readonly count: number,
  ) {
    super(
      `Dataset generation was cancelled after ${completedCones} of ${count} lightcones; nothing was cached, the next run simulates the set again.`,
    );
    this.name = 'DatasetCancelledError';
  }
}

export interface SimulatedDataset {
  folder: string;
  manifest: DatasetManifest;
  fromCache: boolean;
  /** Number of simulateLightcone calls made by this call (0 when served from cache). */
  simulatedCount: number;
  source: NpyFolderSource;
}

/** Full priors: the dataset bounds overridden by the config's ranges. */
export function resolvePriors(priors: Partial<Priors> = {}): Priors {
  return byParameter((name) => {
    const { min, max } = parameterInfo[name];
    const range = priors[name] ?? { min, max };
    if (!(range.min >= min && range.max <= max && range.min <= range.max)) {
      throw new Error(
        `simulated dataset: prior of ${name} [${range.min}, ${range.max}] must lie inside the dataset bounds [${min}, ${max}] with min ≤ max.`,
      );
    }
    return { min: range.min, max: range.max };
  });
}

/**
 * The draw for index i: sampleParams (uniform over the dataset bounds) mapped linearly into the
 * configured prior range. A linear map of a uniform variable is uniform, so this samples the
 * narrowed prior exactly while the default priors reproduce sampleParams unchanged.
 */
export function drawParams(seed: number, index: number, priors: Priors): AstroParams {
  const base = sampleParams(seed, index);
  return byParameter((name) => {
    const { min, max } = parameterInfo[name];
    const range = priors[name];
    if (range.min === min && range.max === max) return base[name];
    return range.min + ((base[name] - min) / (max - min)) * (range.max - range.min);
  });
}

/** Simulation seed of draw i: a hash of (seed, i), so cones differ in their initial conditions too. */
export function simulationSeed(seed: number, index: number): number {
  return createHash('sha256').update(`l3m-sim:${seed}:${index}`).digest().readUInt32LE(0) & 0x7fffffff;
}

export function datasetKey(config: SimulatedDatasetConfig): SimulatedDatasetKey {
  if (!Number.isInteger(config.count) || config.count < 1) {
    throw new Error(`simulated dataset: count ${config.count} must be a positive integer.`);
  }
  return {
    simulatorVersion,
    preset: config.size ? 'custom' : config.preset,
    size: resolveSize(config.size ?? config.preset),
    seed: config.seed,
    count: config.count,
    priors: resolvePriors(config.priors),
  };
}

/** Starts a worker: the esbuild bundle's dist/dataset_worker.js, or this folder's .ts under tsx. */
function startWorker(): Worker {
  // __filename, not __dirname: tsx sets the former correctly when an ES module imports this file.
  const here = dirname(__filename);
  const bundled = join(here, 'dataset_worker.js');
  if (existsSync(bundled)) return new Worker(bundled);
  // Development and tests run the TypeScript source: register tsx's CommonJS hook inside the worker
  // (execArgv '--import tsx' is not honoured for worker ES module loading on Node 20).
  const source = join(here, 'dataset_worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

export async function generateSimulatedDataset(
  config: SimulatedDatasetConfig,
  options: GenerateOptions = {},
): Promise<SimulatedDataset> {
  const key = datasetKey(config);
  const hash = datasetCacheKey(key);
  const root = options.cacheRoot ?? datasetCacheRoot();
  const folder = join(root, hash);
  const cached = await readCachedManifest(folder);
  if (options.signal?.aborted) throw new DatasetCancelledError(0, key.count);
  if (cached) {
    options.onProgress?.({ kind: 'cached', folder, count: cached.cones.length });
    return { folder, manifest: cached, fromCache: true, simulatedCount: 0, source: new NpyFolderSource(folder) };
  }
  await mkdir(root, { recursive: true });
  const temporary = await makeTemporaryFolder(folder);
  try {
    const { manifest, simulated } = await simulateInto(temporary, key, hash, options);
    await writeFile(join(temporary, manifestName), JSON.stringify(manifest, null, 1));
    await commitFolder(temporary, folder);
    const finalManifest = (await readCachedManifest(folder)) ?? manifest;
    options.onProgress?.({ kind: 'done', folder, seconds: manifest.seconds });
    return {
      folder,
      manifest: finalManifest,
      fromCache: false,
      simulatedCount: simulated,
      source: new NpyFolderSource(folder),
    };
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

async function simulateInto(
  folder: string,
  key: SimulatedDatasetKey,
  hash: string,
  options: GenerateOptions,
): Promise<{ manifest: DatasetManifest; simulated: number }> {
  const started = Date.now();
  const workerCount = Math.max(1, Math.min(options.workers ?? availableParallelism(), key.count));
  const maxDraws = options.maxDraws ?? 20 * key.count + 20;
  options.onProgress?.({ kind: 'started', folder, count: key.count, workers: workerCount });
  const results = new Map<number, Extract<WorkerMessage, { kind: 'done' }>>();
  const params = new Map<number, AstroParams>();
  const idOf = (index: number) => `sim-${String(index).padStart(6, '0')}`;
  const workers = Array.from({ length: workerCount }, startWorker);
  let nextIndex = 0;
  let acceptedSoFar = 0;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolvePool, rejectPool) => {
      let inFlight = 0;
      let failed = false;
      // Terminating a worker is the only way to stop a cone mid-simulation (the simulator is synchronous
      // inside its thread); the finally block below terminates every worker, so rejecting is enough here.
      onAbort = () => {
        failed = true;
        rejectPool(new DatasetCancelledError(acceptedSoFar, key.count));
      };
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      const dispatch = (worker: Worker) => {
        if (failed) return;
        if (acceptedSoFar >= key.count || nextIndex >= maxDraws) {
          if (inFlight === 0) {
            if (acceptedSoFar >= key.count) resolvePool();
            else {
              rejectPool(
                new Error(
                  `simulated dataset: only ${acceptedSoFar} of ${key.count} cones passed the acceptance cut in ${maxDraws} draws; ` +
                    'widen the priors (small m_WDM and ζ rarely finish reionisation by z = 5) or lower data.simulator.count.',
                ),
              );
            }
          }
          return;
        }
        const drawIndex = nextIndex++;
        const drawn = drawParams(key.seed, drawIndex, key.priors);
        params.set(drawIndex, drawn);
        inFlight++;
        const request: WorkerRequest = {
          drawIndex,
          params: drawn,
          size: key.size,
          simulationSeed: simulationSeed(key.seed, drawIndex),
          folder,
          id: idOf(drawIndex),
        };
        worker.postMessage(request);
      };
      for (const worker of workers) {
        worker.on('message', (message: WorkerMessage) => {
          if (failed) return;
          if (message.kind === 'progress') {
            options.onProgress?.({
              kind: 'cone',
              drawIndex: message.drawIndex,
              fraction: message.fraction,
              phase: message.phase,
            });
            return;
          }
          inFlight--;
          if (message.kind === 'error') {
            failed = true;
            rejectPool(new Error(`simulated dataset: simulating draw ${message.drawIndex} failed: ${message.message}`));
            return;
          }
          results.set(message.drawIndex, message);
          if (message.accepted) acceptedSoFar++;
          options.onProgress?.({
            kind: 'finished-cone',
            drawIndex: message.drawIndex,
            accepted: message.accepted,
            reason: message.reason,
            acceptedSoFar,
            rejectedSoFar: results.size - acceptedSoFar,
            count: key.count,
          });
          dispatch(worker);
        });
        worker.on('error', (error) => {
          failed = true;
          rejectPool(error);
        });
        dispatch(worker);
      }
    });
  } finally {
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  // The dataset is the first `count` accepted indices; later accepted cones (in flight when the
  // count was reached) are deleted so the folder holds exactly the dataset.
  const indices = [...results.keys()].sort((a, b) => a - b);
  const cones: ManifestCone[] = [];
  const rejected: ManifestRejection[] = [];
  for (const index of indices) {
    const result = results.get(index)!;
    if (cones.length >= key.count) {
      if (result.accepted) {
        await rm(join(folder, `${idOf(index)}.npy`), { force: true });
        await rm(join(folder, `${idOf(index)}.json`), { force: true });
      }
      continue;
    }
    if (!result.accepted) {
      rejected.push({ drawIndex: index, reason: result.reason ?? 'rejected' });
      continue;
    }
    const xHI = result.history.xHI;
    const zs = result.history.z;
    const lowest = zs.indexOf(Math.min(...zs));
    cones.push({
      id: idOf(index),
      drawIndex: index,
      params: params.get(index)!,
      tau: result.tau,
      neutralFractionAtZMin: xHI[lowest],
    });
  }
  const first = results.get(cones[0].drawIndex)!;
  const manifest: DatasetManifest = {
    format: datasetCacheFormat,
    key,
    hash,
    createdAt: new Date().toISOString(),
    shape: { nx: first.shape[0], ny: first.shape[1], nt: first.shape[2] },
    cones,
    rejected,
    meanHistory: meanHistory(cones.map((c) => results.get(c.drawIndex)!.history)),
    seconds: (Date.now() - started) / 1000,
  };
  // Every draw that reached a worker ran the simulator, including those past the count.
  return { manifest, simulated: results.size };
}

/** Mean neutral fraction and global signal over cones, on the node redshifts, ascending z. */
function meanHistory(histories: { z: number[]; xHI: number[]; meanTb: number[] }[]): DatasetManifest['meanHistory'] {
  const order = histories[0].z.map((_, i) => i).sort((a, b) => histories[0].z[a] - histories[0].z[b]);
  const mean = (pick: (h: { z: number[]; xHI: number[]; meanTb: number[] }) => number[]) =>
    order.map((i) => histories.reduce((s, h) => s + pick(h)[i], 0) / histories.length);
  return { z: order.map((i) => histories[0].z[i]), xHI: mean((h) => h.xHI), meanTb: mean((h) => h.meanTb) };
}

/** The config's preset values, for messages and the CLI. */
export function presetSummary(preset: SimulatorPresetName): string {
  const s = simulatorPresets[preset];
  return `${preset}: ${s.n}³ cells over ${s.boxMpc} Mpc, ${s.nLos} line-of-sight cells from z = ${s.zMin}`;
}
