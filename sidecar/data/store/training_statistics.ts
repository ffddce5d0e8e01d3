// What generation fits on its training cones — the 'sgn_log' shift and scale and the mean patch — kept in
// the store beside the chunks, so that a later run on the same data (and each data-parallel worker,
// evaluation and sampling) reads them instead of streaming every training cone again. The pass costs
// as much as reading the training split once, which at the paper's scale is minutes.
//
//   statistics/<key>.json   { format, key, inputs, transform, meanPatch }
//
// The key is a sha256 of everything the values depend on: the store (its own key), the training cones
// in their order (the split: the sums are added in that order), the transform and its standardisation,
// the trim and the patch size. Values are JSON numbers, which give back every finite double bit for bit
// (and every float32 through it); anything else (a damaged file, another format) is a miss, and the
// statistics are computed again.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { isRecord } from '../../../schemas/json_value';
import type { SliceTransformOptions } from '../preprocessing';
import { canonicalJson } from './store_layout';

/** Bump when what is stored, or how it is computed, changes: older files are then never read. */
export const statisticsFormat = 1;

/** Everything the statistics depend on besides the store itself. */
export interface StatisticsInputs {
  /** Training cone ids in the order the pass visits them. */
  train: readonly string[];
  sliceTransform: string;
  standardize: boolean;
  trim: boolean;
  trimKeepSlices: number;
  patchSize: number;
}

export interface TrainingStatistics {
  /** The voxel transform with its fitted statistics; undefined for raw mK ('none'). */
  transform: SliceTransformOptions | undefined;
  /** Per-pixel mean of every training patch (p²). */
  meanPatch: Float32Array;
}

/** The key of the statistics of `inputs` in the store whose own key is `storeKey`. */
export function statisticsKey(storeKey: string, inputs: StatisticsInputs): string {
  return createHash('sha256').update(canonicalJson({ statisticsFormat, storeKey, inputs })).digest('hex');
}

export const statisticsPath = (folder: string, key: string): string => join(folder, 'statistics', `${key}.json`);

/** The stored statistics of this key, or undefined when there are none (or none this version wrote). */
export async function readTrainingStatistics(
  folder: string,
  key: string,
  patchSize: number,
): Promise<TrainingStatistics | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(statisticsPath(folder, key), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || parsed.format !== statisticsFormat || parsed.key !== key) return undefined;
  const { meanPatch } = parsed;
  if (!Array.isArray(meanPatch) || meanPatch.length !== patchSize * patchSize || !meanPatch.every(isFiniteNumber)) {
    return undefined;
  }
  const transform = parsed.transform === null ? undefined : parseTransform(parsed.transform);
  if (transform === null) return undefined;
  return { transform, meanPatch: Float32Array.from(meanPatch) };
}

/**
 * Stores the statistics under their key, atomically (a reader sees the whole file or none). Returns
 * false, writing nothing, when a value is not a finite number (JSON could not give it back) or the
 * store's folder cannot be written (a read-only shared cache): the run goes on with what it computed.
 */
export async function writeTrainingStatistics(
  folder: string,
  key: string,
  inputs: StatisticsInputs,
  statistics: TrainingStatistics,
): Promise<boolean> {
  const { transform, meanPatch } = statistics;
  const values = [...meanPatch, transform?.shift, transform?.scale].filter((v) => v !== undefined);
  if (!values.every(Number.isFinite)) return false;
  const path = statisticsPath(folder, key);
  // Several processes or threads can finish the same pass at once (data-parallel workers): each writes
  // its own temporary file, and the renames leave one of the equal results.
  const temporary = `${path}.${process.pid}-${threadId}.partial`;
  try {
    await mkdir(join(folder, 'statistics'), { recursive: true });
    const record = { format: statisticsFormat, key, inputs, transform: transform ?? null, meanPatch: [...meanPatch] };
    await writeFile(temporary, JSON.stringify(record));
    await rename(temporary, path);
    return true;
  } catch {
    await rm(temporary, { force: true }).catch(() => undefined);
    return false;
  }
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** A stored transform, or null when the record is not one this version writes. */
function parseTransform(value: unknown): SliceTransformOptions | null {
  if (!isRecord(value) || (value.kind !== 'log' && value.kind !== 'log1p')) return null;
  const transform: SliceTransformOptions = { kind: value.kind };
  for (const name of ['shift', 'scale'] as const) {
    if (value[name] === undefined) continue;
    if (!isFiniteNumber(value[name])) return null;
    transform[name] = value[name];
  }
  return transform;
}
