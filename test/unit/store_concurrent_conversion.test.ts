// Two processes converting one dataset into its store at once, as the runs of a sweep do when they start together
// on the same data: the second waits for the first (it says so) and then uses the store the first finished, instead
// of failing. The first is held with SIGSTOP once it holds the lock, so the overlap does not depend on timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeLightconeNpz, labelFromParams } from '../../sidecar/data/npz_source';
import { fiducialParams } from '../../sidecar/data/parameters';

interface Child {
  process: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
  /** Resolves at the first printed line that `matches`. */
  line(matches: (line: Record<string, unknown>) => boolean): Promise<void>;
}

function start(folder: string, root: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/store_convert_child.ts', folder, root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { matches: (line: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of waiters.filter((w) => w.matches(line))) w.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    line: (matches) =>
      lines.some(matches) ? Promise.resolve() : new Promise((resolve) => waiters.push({ matches, resolve })),
  };
}

/** Resolves once some `<key>.partial/lock.json` exists under `root`. */
async function lockTaken(root: string): Promise<void> {
  for (;;) {
    const partial = existsSync(root) ? readdirSync(root).find((name) => name.endsWith('.partial')) : undefined;
    if (partial && existsSync(join(root, partial, 'lock.json'))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a second conversion of the same dataset waits for the first and uses its store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l3m-store-lock-'));
  try {
    const folder = join(dir, 'cones');
    mkdirSync(folder);
    const [nx, nt] = [16, 120];
    for (let c = 0; c < 6; c++) {
      const voxels = Float32Array.from({ length: nx * nx * nt }, (_, i) => ((i * (c + 3)) % 97) - 48);
      const label = labelFromParams({ ...fiducialParams, zeta: 20 + c });
      writeFileSync(join(folder, `lc${c}.npz`), encodeLightconeNpz(voxels, [nx, nx, nt], label));
    }
    const root = join(dir, 'stores');
    const first = start(folder, root);
    await lockTaken(root);
    first.process.kill('SIGSTOP');
    const second = start(folder, root);
    try {
      await second.line((l) => l['event'] === 'store-waiting');
    } finally {
      first.process.kill('SIGCONT');
    }
    assert.equal(await first.exited, 0, 'the first conversion finishes');
    assert.equal(await second.exited, 0, `the second waits and succeeds: ${JSON.stringify(second.lines)}`);
    assert.deepEqual(first.lines.at(-1), { result: { fromCache: false, cones: 6 } });
    assert.deepEqual(second.lines.at(-1), { result: { fromCache: true, cones: 6 } });
    assert.ok(!second.lines.some((l) => l['event'] === 'store-started'), 'the second converted nothing itself');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
