// Reading a store's manifest (the root group's `l3m` attribute, store_layout.ts): undefined when the
// folder holds no complete store, an error naming the folder when its manifest is damaged.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecord } from '../../../schemas/json_value';
import { DataError } from '../lightcone_record';
import { rebuildHint, storeFormat, type StoreManifest } from './store_layout';

export async function readStoreManifest(folder: string): Promise<StoreManifest | undefined> {
  const path = join(folder, 'zarr.json');
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new DataError(`${path}: the store's root metadata is not JSON (${String(error)}); ${rebuildHint(folder)}.`);
  }
  const manifest = isRecord(parsed) && isRecord(parsed.attributes) ? parsed.attributes.l3m : undefined;
  if (!isRecord(manifest) || manifest.format !== storeFormat) return undefined;
  if (!isStoreManifest(manifest)) {
    throw new DataError(
      `${path}: the store's manifest lacks its key or cones (the file was edited or damaged); ${rebuildHint(folder)}.`,
    );
  }
  return manifest;
}

/** The fields readers use; the cones were written by this version's conversion (the format says so). */
function isStoreManifest(value: Record<string, unknown>): value is Record<string, unknown> & StoreManifest {
  return (
    typeof value.key === 'string' &&
    typeof value.description === 'string' &&
    Array.isArray(value.cones) &&
    value.cones.length > 0 &&
    value.cones.every((c) => isRecord(c) && typeof c.id === 'string' && typeof c.nt === 'number')
  );
}
