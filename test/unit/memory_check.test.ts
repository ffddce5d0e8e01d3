// A run whose estimated memory is more than the machine's (or L3M_MEMORY_LIMIT_MB) is refused before it starts,
// with the figures and what to lower, and leaves no run folder; the limit comes from the override, the cgroup or
// the machine, whichever applies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { machineMemoryLimit, MemoryEstimateExceededError } from '../../sidecar/jobs/memory_check';
import { prepareRun } from '../../sidecar/jobs/train_job';

const gib = 2 ** 30;
const noFiles = () => undefined;

test('the limit: L3M_MEMORY_LIMIT_MB over everything; else the cgroup when below the machine; else the machine', () => {
  assert.deepEqual(machineMemoryLimit({ L3M_MEMORY_LIMIT_MB: '512' }, noFiles, 24 * gib), {
    bytes: 512 * 2 ** 20,
    source: 'L3M_MEMORY_LIMIT_MB',
  });
  assert.throws(
    () => machineMemoryLimit({ L3M_MEMORY_LIMIT_MB: 'lots' }, noFiles, gib),
    /"lots".*positive number of MB/,
  );
  const cgroup = (text: string) => (path: string) => (path === '/sys/fs/cgroup/memory.max' ? text : undefined);
  assert.equal(machineMemoryLimit({}, cgroup(`${8 * gib}\n`), 24 * gib).bytes, 8 * gib);
  assert.match(machineMemoryLimit({}, cgroup(`${8 * gib}\n`), 24 * gib).source, /cgroup/);
  assert.deepEqual(machineMemoryLimit({}, cgroup('max\n'), 24 * gib), {
    bytes: 24 * gib,
    source: "the machine's memory",
  });
  assert.equal(machineMemoryLimit({}, cgroup(`${64 * gib}`), 24 * gib).bytes, 24 * gib);
});

test('prepareRun refuses a config whose estimate is over the limit, with the figures, and creates nothing', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-memory-check-'));
  const saved = process.env.L3M_MEMORY_LIMIT_MB;
  try {
    writeFileSync(join(workspace, 'package.json'), '{"private": true}\n');
    const configPath = join(workspace, 'quickstart-generation.l3m.json');
    copyFileSync(resolve('examples/quickstart-generation.l3m.json'), configPath);
    const runsDir = join(workspace, 'runs');
    process.env.L3M_MEMORY_LIMIT_MB = '100';
    await assert.rejects(prepareRun(configPath, runsDir), (error: unknown) => {
      assert.ok(error instanceof MemoryEstimateExceededError);
      assert.ok(error.estimate.totalBytes > 100 * 2 ** 20);
      assert.equal(error.limit.bytes, 100 * 2 ** 20);
      assert.match(error.message, /quickstart-generation\.l3m\.json: this run needs about [\d.]+ MiB of memory/);
      assert.match(error.message, /more than the 100 MiB available \(L3M_MEMORY_LIMIT_MB\)/);
      assert.match(
        error.message,
        /Nothing was started\. To fit: .*lower data\.cache_mb|To fit: .*training\.batch_size/,
      );
      return true;
    });
    assert.ok(!existsSync(runsDir) || readdirSync(join(runsDir)).length === 0, 'no run folder');
    process.env.L3M_MEMORY_LIMIT_MB = String(64 * 1024);
    const { runDir } = await prepareRun(configPath, runsDir);
    assert.ok(existsSync(join(runDir, 'run.json')), 'under a limit it fits, the run is created');
  } finally {
    if (saved === undefined) delete process.env.L3M_MEMORY_LIMIT_MB;
    else process.env.L3M_MEMORY_LIMIT_MB = saved;
    rmSync(workspace, { recursive: true, force: true });
  }
});
