// The layout of a lightcone store: one Zarr v3 group per converted dataset, in the dataset cache
// (`<cache root>/stores/<key>/`), laid out for what training reads.
//
//   zarr.json                    root group; its attributes hold the manifest (StoreManifest) once complete
//   parameters                   float64 [cones, 6], canonical parameter order (parameters.ts)
//   cones/<i>/zarr.json          group of cone i; attributes: id, source file, parameters, slice facts
//   cones/<i>/brightness         float32 [t, x, y], slice 0 at the LOWEST redshift as in every source;
//                                chunks of `chunkSlices` whole slices, so a window of slices along the
//                                line of sight reads only the chunks that hold it
//   cones/<i>/global_signal      float64 [t], the spatial mean of every slice (sliceMeans), one chunk
//   cones/<i>/redshifts          float64 [t], when the source knows them
//
// One file per chunk (Zarr's default chunk keys) makes every read countable, a write atomic by rename,
// a conversion resumable cone by cone, and a damaged chunk nameable by its array and index.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AstroParams } from '../parameters';

/** Bump when the layout or the meaning of a stored value changes: old stores are then rebuilt under a new key. */
export const storeFormat = 1;

/**
 * gzip level of the chunks. Level 1 compresses brightness temperatures nearly as well as level 6
 * (the values are noisy float32; the gain is mostly in the ionised, all-zero regions) at several
 * times the speed: bench/dataset measures both.
 */
export const gzipLevel = 1;

/**
 * Raw bytes aimed at per chunk. A generation window (12 slices in the paper) of 140 × 140 slices then
 * spans two or three chunks of 6 slices; smaller chunks would multiply the files, larger ones the
 * bytes decoded but not used.
 */
export const targetChunkBytes = 512 * 1024;

/** Whole slices per chunk for slices of nx × ny float32 values: about targetChunkBytes, at least one. */
export function chunkSlicesFor(nx: number, ny: number, nt: number): number {
  return Math.max(1, Math.min(nt, 256, Math.round(targetChunkBytes / (4 * nx * ny))));
}

export const conePath = (index: number): string => `cones/${String(index).padStart(6, '0')}`;
export const brightnessPath = (index: number): string => `${conePath(index)}/brightness`;
export const globalSignalPath = (index: number): string => `${conePath(index)}/global_signal`;
export const redshiftsPath = (index: number): string => `${conePath(index)}/redshifts`;

/** The file of the chunk at `coords` of an array (Zarr v3 default chunk keys, "/" separated). */
export function chunkFile(arrayPath: string, coords: readonly number[]): string {
  return `${arrayPath}/c/${coords.join('/')}`;
}

/** What the store knows of one cone without reading its voxels. */
export interface StoredCone {
  id: string;
  /** The file the cone was converted from (or the simulator's .npy), for messages. */
  source: string;
  nx: number;
  ny: number;
  nt: number;
  chunkSlices: number;
  params: AstroParams;
  /** Index in the source's full cone of slice 0 (non-zero when the source cut a slice range). */
  firstSlice: number;
  /** Lowest slice (redshift order) holding a non-zero voxel; nt when every slice is zero. Trimming reads it. */
  firstNonZeroSlice: number;
  hasRedshifts: boolean;
  history?: { z: number[]; xHI?: number[]; meanTb?: number[] };
}

export interface StoreManifest {
  format: number;
  key: string;
  /** The source's description (e.g. `npz folder /data/lcs`), which messages and the "Data:" line show. */
  description: string;
  cones: StoredCone[];
  createdAt: string;
  /** Compressed bytes of every chunk written. */
  bytes: number;
  seconds: number;
}

/** Where the stores live: a `stores` folder inside the dataset cache root. */
export function storesRoot(datasetRoot: string): string {
  return join(datasetRoot, 'stores');
}

/** JSON with object keys sorted at every level, so equal inputs always hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(Reflect.get(value, k))}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The store's key: sha256 of the format and everything that determines the source's content. */
export function storeKey(fingerprint: unknown): string {
  return createHash('sha256')
    .update(canonicalJson({ storeFormat, gzipLevel, targetChunkBytes, fingerprint }))
    .digest('hex');
}

/** The message tail that says how to rebuild a store. */
export function rebuildHint(folder: string): string {
  return `rebuild the store with \`l3m data --rebuild <config>\`, or delete ${folder} and run again`;
}
