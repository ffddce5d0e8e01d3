// Memory that does not grow with the dataset: the same few generation training steps (the real job,
// validation and checkpoint included) on an on-disk dataset of 24 and of 120 lightcones (48 MB and
// 240 MB of voxels, 6 and 30 times the 8 MB chunk cache), each in its own process. Peak RSS and peak
// heap of the large run stay within the small run's plus a margin of a few caches: the store holds at
// most data.cache_mb of decoded chunks, a batch, the model and its optimizer, whatever the dataset's
// size. Before the store, every cone was held in memory and the large run took 190 MB more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../sidecar/data/npy';
import { fiducialParams } from '../../sidecar/data/parameters';

const n = 16;
const nt = 2048; // 2 MB of float32 per cone
const cacheMb = 8;

function workspaceWith(cones: number): string {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-store-memory-'));
  const folder = join(workspace, 'data');
  mkdirSync(folder);
  let state = cones;
  for (let c = 0; c < cones; c++) {
    const image = Float32Array.from({ length: n * n * nt }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state / 2 ** 32) * 40 - 20;
    });
    writeFileSync(join(folder, `cone-${String(c).padStart(3, '0')}.npy`), writeNpy(image, [n, n, nt]));
    writeFileSync(join(folder, `cone-${String(c).padStart(3, '0')}.json`), JSON.stringify(fiducialParams));
  }
  return workspace;
}

function measure(cones: number): { peakRssMb: number; peakHeapMb: number; logs: string[] } {
  const workspace = workspaceWith(cones);
  try {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '..', 'fixtures', 'store_memory_run.ts'), workspace, String(cacheMb)],
      {
        encoding: 'utf8',
        env: { ...process.env, L3M_CACHE_DIR: join(workspace, 'cache'), L3M_THREADS: '1' },
        maxBuffer: 1 << 24,
      },
    );
    const result = JSON.parse(output.trim().split('\n').pop()!) as {
      outcome: string;
      peakRssMb: number;
      peakHeapMb: number;
      logs: string[];
    };
    assert.equal(result.outcome, 'completed', result.logs.join('\n'));
    return result;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

test('training reads through the store: peak RSS and heap do not grow with the dataset (24 vs 120 cones, 8 MB cache)', () => {
  const small = measure(24);
  const large = measure(120);
  assert.ok(
    large.logs.some((l) => l.includes(`chunk cache ${cacheMb} MB`)),
    `the Data line names the cache: ${large.logs.join('\n')}`,
  );
  // 192 MB more voxels on disk; allowed growth: a few caches' worth (the cache, chunks in flight from the
  // prefetch worker, the conversion's one cone and its transposed copy) and allocator noise.
  const allowedMb = 4 * cacheMb + 16;
  assert.ok(
    large.peakRssMb - small.peakRssMb < allowedMb,
    `peak RSS ${small.peakRssMb.toFixed(0)} MB with 24 cones, ${large.peakRssMb.toFixed(0)} MB with 120 (allowed +${allowedMb} MB)`,
  );
  assert.ok(
    large.peakHeapMb - small.peakHeapMb < allowedMb,
    `peak heap ${small.peakHeapMb.toFixed(0)} MB with 24 cones, ${large.peakHeapMb.toFixed(0)} MB with 120 (allowed +${allowedMb} MB)`,
  );
});
