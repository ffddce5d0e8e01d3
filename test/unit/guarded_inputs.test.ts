// Files the sidecar wrote, read back after someone edited or damaged them: run.json with a status that
// only looks known (an Object.prototype name), and a dataset cache manifest missing its fields. Each is
// refused with what is wrong, instead of being taken as valid or failing later with a TypeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunRecord } from '../../sidecar/protocol/run_folder';
import { datasetCacheFormat, manifestName, readCachedManifest } from '../../sidecar/data/dataset_cache';

const record = { id: 'r', experiment: 'e', task: 'regression', createdAt: '2026-01-01T00:00:00Z', version: '0.1.0' };

test('run.json: a status named like a property every object has is not a status', () => {
  for (const status of ['toString', 'constructor', '__proto__', 'running ']) {
    const parsed = parseRunRecord(JSON.stringify({ ...record, status }));
    assert.ok('error' in parsed, `status ${JSON.stringify(status)} was accepted`);
    assert.match(parsed.error, /status/);
  }
  assert.ok('record' in parseRunRecord(JSON.stringify({ ...record, status: 'running' })));
});

test('a dataset cache manifest without its fields names the file and says to delete the folder', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'l3m-manifest-'));
  try {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, manifestName), JSON.stringify({ format: datasetCacheFormat, key: 'k' }));
    await assert.rejects(readCachedManifest(folder), (error: Error) => {
      assert.ok(error.message.includes(join(folder, manifestName)), error.message);
      assert.match(error.message, /not a complete dataset manifest .*Delete the folder/);
      return true;
    });
    // Another format version is not this cache's: no dataset, no error.
    writeFileSync(join(folder, manifestName), JSON.stringify({ format: datasetCacheFormat + 1 }));
    assert.equal(await readCachedManifest(folder), undefined);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
