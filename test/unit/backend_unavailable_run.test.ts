// A run that names a GPU backend this machine lacks does not start: prepareRun refuses it before the
// run folder exists, with the probe's reason and what would make the backend available. The probes
// run in a child process, as Dawn writes to file descriptor 2 and keeps driver threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeTinyWorkspace } from '../integration/train_fixture';

interface Attempt {
  refused?: { name: string; message: string };
  runDir?: string;
  probe: { available: boolean; detail: string };
}

/** prepareRun on a tiny config with `runtime`, in a fresh process; what it did and what the probe said. */
async function attempt(workspace: string, runtime: Record<string, unknown>): Promise<Attempt> {
  const config = writeTinyWorkspace(workspace, { runtime });
  const jobs = require.resolve('../../sidecar/jobs/train_job');
  const backends = require.resolve('../../sidecar/runtime/backends');
  const script = `
    const { prepareRun } = require(${JSON.stringify(jobs)});
    const { probeBackend } = require(${JSON.stringify(backends)});
    (async () => {
      const out = {};
      try { out.runDir = (await prepareRun(${JSON.stringify(config)}, ${JSON.stringify(join(workspace, 'runs'))})).runDir; }
      catch (e) { out.refused = { name: e.name, message: e.message }; }
      out.probe = await probeBackend(${JSON.stringify(runtime.backend)}, { allowSoftwareGpu: ${runtime.allow_software_gpu === true} });
      process.stdout.write(JSON.stringify(out));
      process.exit(0);
    })();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, L3M_BACKEND: '' },
  });
  return JSON.parse(stdout) as Attempt;
}

test('runtime.backend "cuda" or "webgpu" where unavailable: no run folder, the reason and the fix', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'l3m-backend-refused-'));
  try {
    const cuda = await attempt(workspace, { backend: 'cuda' });
    if (cuda.probe.available) {
      assert.ok(cuda.runDir, 'cuda is available here, so the run is created');
    } else {
      assert.equal(cuda.refused?.name, 'BackendUnavailableError');
      assert.ok(cuda.refused.message.includes(cuda.probe.detail), 'the message carries the probe reason');
      assert.match(cuda.refused.message, /requested by runtime\.backend/);
      assert.match(cuda.refused.message, /NVIDIA GPU and its driver, with @tensorflow\/tfjs-node-gpu/);
    }
    const webgpu = await attempt(workspace, { backend: 'webgpu' });
    if (!webgpu.probe.available) {
      assert.equal(webgpu.refused?.name, 'BackendUnavailableError');
      assert.ok(webgpu.refused.message.includes(webgpu.probe.detail));
      assert.match(webgpu.refused.message, /Vulkan driver.*runtime\.allow_software_gpu to true/);
    }
    if (!cuda.probe.available && !webgpu.probe.available)
      assert.equal(existsSync(join(workspace, 'runs')), false, 'no run folder was created');
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});
