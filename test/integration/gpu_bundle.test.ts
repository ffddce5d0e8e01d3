// The GPU check's bundle (npm run gpu-bundle) is self-contained and fits in 64 MiB: copied to a folder
// outside the repository, with no node_modules around, its launcher runs the check with the bundled Node
// runtime and with the machine's node, and each prints its JSON line; on a machine without an NVIDIA GPU
// every GPU backend is reported unavailable with the reason, while the wasm files and the webgpu package
// inside the bundle are found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

function folderSize(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((total, entry) => {
    const path = join(dir, entry.name);
    return total + (entry.isDirectory() ? folderSize(path) : statSync(path).size);
  }, 0);
}

interface CheckReport {
  check: string;
  node: string;
  nvidiaGpus: string[];
  probes: { name: string; available: boolean; detail: string }[];
  backends: Record<string, { available: boolean; reason?: string }>;
  torch: { available: boolean; reason?: string };
}

async function runCheck(folder: string, env: Record<string, string>): Promise<CheckReport> {
  const { stdout } = await run(join(folder, 'gpu-check'), ['--quick'], {
    cwd: folder,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 16 * 2 ** 20,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: folder, ...env },
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as CheckReport;
}

test('the GPU bundle is under 64 MiB and runs its check outside the repository', { timeout: 900_000 }, async () => {
  const built = await run(process.execPath, [join(root, 'scripts', 'gpu_bundle.mjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  assert.match(built.stdout, /dist\/gpu-bundle: [\d.]+ MiB \(limit 64 MiB\)/);
  const bundle = join(root, 'dist', 'gpu-bundle');
  assert.ok(folderSize(bundle) <= 64 * 2 ** 20, `the bundle is ${folderSize(bundle)} bytes`);

  const away = mkdtempSync(join(tmpdir(), 'l3m-gpu-bundle-'));
  try {
    const folder = join(away, 'gpu-bundle');
    cpSync(bundle, folder, { recursive: true });
    const environments: Record<string, string>[] = [
      { L3M_BUNDLED_NODE: '1', L3M_NODE_CACHE: join(away, 'node-cache') },
      {},
    ];
    for (const env of environments) {
      const report = await runCheck(folder, env);
      assert.equal(report.check, 'l3m-gpu-check');
      if (env.L3M_BUNDLED_NODE) assert.match(report.node, /^v24\./, 'the bundled Node runtime ran the check');
      const probe = new Map(report.probes.map((p) => [p.name, p]));
      assert.equal(probe.get('wasm')?.available, true, 'the wasm files inside the bundle are found');
      assert.doesNotMatch(probe.get('webgpu')?.detail ?? '', /webgpu is not installed/, 'dawn.node inside the bundle');
      for (const name of ['webgpu', 'cuda']) assert.ok(report.backends[name], `${name} is reported`);
      if (report.nvidiaGpus.length === 0) {
        assert.equal(report.backends.cuda.available, false);
        assert.match(report.backends.cuda.reason ?? '', /no NVIDIA GPU is visible/);
        assert.equal(report.backends.webgpu.available, false, 'no hardware adapter without a GPU');
        assert.match(report.backends.webgpu.reason ?? '', /no hardware GPU adapter/);
        assert.equal(report.torch.available, false);
        assert.ok((report.torch.reason ?? '').length > 0, 'PyTorch says why it is not used');
      }
    }
  } finally {
    rmSync(away, { recursive: true, force: true });
  }
});
