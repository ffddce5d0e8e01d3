// On-disk cache of simulated datasets. A dataset lives in `<cache root>/<key>/` where the key is the
// sha256 of everything that determines its content (simulator version, the size preset's values,
// seed, count, priors, cache format), so a change to any of them makes a new dataset and an
// unchanged config finds the old one. The cache root is `$L3M_CACHE_DIR/datasets` or
// `~/.cache/l3m-studio/datasets`. A dataset is built in a temporary sibling folder and renamed into
// place in one step, so a crash never leaves a half-written dataset under the final name.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { isProcessAlive } from '../protocol/run_listing';
import { join } from 'node:path';
import type { AstroParams, ParameterName } from './parameters';
import type { SimulatorPresetName, SimulatorSize } from './simulator';
import { errorCode } from '../protocol/error_message';
import { isNumberArray, isRecord } from '../../schemas/json_value';

/** Bump when the layout of a cached dataset changes. */
export const datasetCacheFormat = 1;

export type Priors = Record<ParameterName, { min: number; max: number }>;

/** Everything that determines a simulated dataset's content. */
export interface SimulatedDatasetKey {
  simulatorVersion: string;
  preset: SimulatorPresetName | 'custom';
  size: SimulatorSize;
  seed: number;
  count: number;
  priors: Priors;
}

export function datasetCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.L3M_CACHE_DIR && env.L3M_CACHE_DIR.length > 0 ? env.L3M_CACHE_DIR : join(homedir(), '.cache', 'l3m-studio');
  return join(base, 'datasets');
}

/** JSON with object keys sorted at every level, so equal keys always hash equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(Reflect.get(value, k))}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function datasetCacheKey(key: SimulatedDatasetKey): string {
  return createHash('sha256')
    .update(canonicalJson({ format: datasetCacheFormat, ...key }))
    .digest('hex');
}

/** One accepted cone in a cached dataset. */
export interface ManifestCone {
  id: string;
  /** Index of the parameter draw (sampleParams(seed, drawIndex)). */
  drawIndex: number;
  params: AstroParams;
  tau: number;
  neutralFractionAtZMin: number;
}

export interface ManifestRejection {
  drawIndex: number;
  reason: string;
}

export interface DatasetManifest {
  format: number;
  key: SimulatedDatasetKey;
  hash: string;
  createdAt: string;
  shape: { nx: number; ny: number; nt: number };
  cones: ManifestCone[];
  rejected: ManifestRejection[];
  /** Mean over the accepted cones of ⟨x_HI⟩ and ⟨δT_b⟩ per node, ascending z (for `l3m data`). */
  meanHistory: { z: number[]; xHI: number[]; meanTb: number[] };
  seconds: number;
}

export const manifestName = 'manifest.json';

/** Reads a complete cached dataset, or undefined when there is none (a folder without manifest is not complete). */
export async function readCachedManifest(folder: string): Promise<DatasetManifest | undefined> {
  const path = join(folder, manifestName);
  if (!existsSync(path)) return undefined;
  const manifest: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!isRecord(manifest) || manifest.format !== datasetCacheFormat) return undefined;
  if (!isDatasetManifest(manifest)) {
    throw new Error(
      `${path}: not a complete dataset manifest (it needs key, hash, shape, cones, rejected and meanHistory as the simulator writes them); ` +
        `the file was edited or damaged. Delete the folder ${folder} to simulate the dataset again.`,
    );
  }
  return manifest;
}

/** What the readers of a cached dataset use: its shape, its cones with their parameters, and the histories. */
function isDatasetManifest(value: Record<string, unknown>): value is Record<string, unknown> & DatasetManifest {
  const { key, hash, createdAt, shape, cones, rejected, meanHistory, seconds } = value;
  return (
    typeof value.format === 'number' &&
    isRecord(key) &&
    typeof hash === 'string' &&
    typeof createdAt === 'string' &&
    typeof seconds === 'number' &&
    isRecord(shape) &&
    typeof shape.nx === 'number' &&
    typeof shape.ny === 'number' &&
    typeof shape.nt === 'number' &&
    Array.isArray(cones) &&
    cones.every(isManifestCone) &&
    Array.isArray(rejected) &&
    rejected.every((r) => isRecord(r) && typeof r.drawIndex === 'number' && typeof r.reason === 'string') &&
    isRecord(meanHistory) &&
    isNumberArray(meanHistory.z) &&
    isNumberArray(meanHistory.xHI) &&
    isNumberArray(meanHistory.meanTb)
  );
}

function isManifestCone(value: unknown): value is ManifestCone {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.drawIndex === 'number' &&
    typeof value.tau === 'number' &&
    typeof value.neutralFractionAtZMin === 'number' &&
    isRecord(value.params) &&
    Object.values(value.params).every((v) => typeof v === 'number')
  );
}

/** A short tag of this machine's name, so that a cache shared between machines is cleaned only by the machine that wrote a folder. */
function hostTag(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/**
 * A fresh temporary folder next to the final one, on the same file system so that rename is atomic.
 * Its name carries this machine's tag and this process's pid, so that removeAbandonedTemporaryFolders
 * can tell a folder whose simulation was killed from one that is still being filled.
 */
export async function makeTemporaryFolder(finalFolder: string): Promise<string> {
  const temporary = `${finalFolder}.tmp-${hostTag()}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await mkdir(temporary, { recursive: true });
  return temporary;
}

/**
 * Removes the temporary dataset folders in the cache `root` whose simulating process died (killed, out
 * of memory) on this machine; returns their paths. A folder of another machine sharing the cache, or of
 * a live process, is kept. Folders named before the machine tag was added count as this machine's.
 */
export async function removeAbandonedTemporaryFolders(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = /\.tmp-(?:([0-9a-f]{8})-)?(\d+)-[0-9a-z]+-[0-9a-z]+$/.exec(name);
    if (!match || (match[1] !== undefined && match[1] !== hostTag())) continue;
    const pid = Number(match[2]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(join(root, name));
  }
  return removed;
}

/**
 * Moves a finished temporary folder into place. When another process finished the same dataset
 * first, its copy wins (same content by construction) and ours is removed.
 */
export async function commitFolder(temporary: string, finalFolder: string): Promise<void> {
  try {
    await rename(temporary, finalFolder);
  } catch (error) {
    const code = errorCode(error);
    if (
      (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') &&
      existsSync(join(finalFolder, manifestName))
    ) {
      await rm(temporary, { recursive: true, force: true });
      return;
    }
    throw error;
  }
}
