import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  BackendUnavailableError,
  backendOrder,
  isSoftwareAdapter,
  probeBackends,
  selectBackend,
  wasmDirectory,
} from '../../sidecar/runtime/backends';

test('the probe lists every backend once, in the preference order of auto', async () => {
  const probes = await probeBackends();
  assert.deepEqual(
    probes.map((p) => p.name),
    ['cuda', 'cpu-native', 'webgpu', 'wasm', 'cpu'],
  );
  assert.deepEqual(
    [...backendOrder],
    probes.map((p) => p.name),
  );
  for (const p of probes) assert.ok(p.detail.length > 0, `${p.name} has a detail`);
});

test('wasm and cpu are available here; absent native packages are reported, not thrown', async () => {
  const byName = new Map((await probeBackends()).map((p) => [p.name, p]));
  assert.equal(byName.get('cpu')?.available, true);
  assert.equal(byName.get('wasm')?.available, true);
  assert.match(byName.get('wasm')?.detail ?? '', /tfjs-backend-wasm 4\./);
  // The native packages cannot be installed without internet; when absent the reason says so.
  const native = byName.get('cpu-native');
  if (native && !native.available)
    assert.match(native.detail, /@tensorflow\/tfjs-node is not installed|failed to load/);
  const cuda = byName.get('cuda');
  if (cuda && !cuda.available)
    assert.match(cuda.detail, /no NVIDIA GPU is visible|tfjs-node-gpu is not installed|failed to load/);
});

test('the wasm files are located (node_modules in development)', () => {
  const dir = wasmDirectory();
  assert.ok(dir, 'a directory holding tfjs-backend-wasm.wasm');
});

test('selecting wasm and cpu makes them the active TF.js backend and computes', async () => {
  const wasm = await selectBackend('wasm');
  assert.equal(wasm.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(wasm.versions['tfjs-backend-wasm'], tf.version_core);
  assert.deepEqual(Array.from(tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync())), [4, 6]);
  const cpu = await selectBackend('cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(cpu.device, /CPU/);
});

test('auto picks the first available backend in preference order', async () => {
  const first = (await probeBackends()).find((p) => p.available);
  const chosen = await selectBackend('auto');
  assert.equal(chosen.name, first?.name);
});

test('an unavailable or unknown backend is refused with the reason and the fix', async () => {
  const probes = await probeBackends();
  const missing = probes.find((p) => !p.available);
  if (missing) {
    await assert.rejects(selectBackend(missing.name), (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError);
      assert.match(error.message, new RegExp(`"${missing.name}" is unavailable: .+runtime\\.backend`));
      return true;
    });
  }
  await assert.rejects(selectBackend('tpu' as never), /unknown backend; choose one of auto, cuda/);
});

test('software adapters count as no GPU', () => {
  assert.equal(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, false), true);
  assert.equal(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' }, false), true);
  assert.equal(isSoftwareAdapter({ vendor: 'nvidia', description: 'NVIDIA H100' }, true), true, 'a fallback adapter');
  assert.equal(
    isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' }, false),
    false,
  );
});

// Dawn writes driver warnings straight to file descriptor 2, so these run in a child process whose
// stderr can be read: asking for cpu must not load a GPU stack at all, and a full probe must keep
// Dawn's noise inside the webgpu entry's detail.
async function childStderr(body: string): Promise<{ stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const script = `const b = require(${JSON.stringify(require.resolve('../../sidecar/runtime/backends'))});\n(async () => { ${body} })();`;
  return promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('selecting cpu probes nothing else: no Dawn/Vulkan output on stderr', async () => {
  const { stdout, stderr } = await childStderr(`const s = await b.selectBackend('cpu'); process.stdout.write(s.name);`);
  assert.equal(stdout, 'cpu');
  assert.doesNotMatch(stderr, /Vulkan|dawn|BackendVk/i);
});

test("the full probe captures Dawn's messages into the webgpu detail instead of stderr", async () => {
  const { stdout, stderr } = await childStderr(`process.stdout.write(JSON.stringify(await b.probeBackends()));`);
  const webgpu = (JSON.parse(stdout) as { name: string; available: boolean; detail: string }[]).find(
    (p) => p.name === 'webgpu',
  );
  assert.ok(webgpu && webgpu.detail.length > 0);
  assert.doesNotMatch(stderr, /Vulkan|BackendVk/i);
});

// Mesa's llvmpipe behind Dawn's OpenGL ES backend is a software adapter: `auto` and a plain "webgpu"
// request must never use it, and an explicit request with allowSoftwareGpu must. Without Mesa's EGL
// there is no software adapter at all, and the webgpu probe says so; CI installs Mesa.
test('a software WebGPU adapter is used only for an explicit webgpu request that allows it', async () => {
  const { stdout } = await childStderr(`
    const plain = await b.probeBackend('webgpu');
    const auto = await b.selectBackend('auto');
    let software = null;
    try { software = await b.selectBackend('webgpu', { allowSoftwareGpu: true }); } catch (e) { software = { refused: e.message }; }
    process.stdout.write(JSON.stringify({ plain, auto: auto.name, software }));
    process.exit(0);`);
  const { plain, auto, software } = JSON.parse(stdout) as {
    plain: { available: boolean; detail: string };
    auto: string;
    software: { name?: string; device?: string; refused?: string };
  };
  if (plain.available) return; // A hardware GPU: nothing software to check here.
  assert.notEqual(auto, 'webgpu', 'auto never picks a software adapter');
  if (software.refused !== undefined) {
    assert.ok(process.env.CI !== 'true', `CI installs Mesa, so a software adapter must exist: ${software.refused}`);
    assert.match(software.refused, /no software adapter either \(Mesa's EGL and llvmpipe/);
    return;
  }
  assert.match(plain.detail, /only a software adapter \(llvmpipe.*used only when runtime\.allow_software_gpu is true/);
  assert.equal(software.name, 'webgpu');
  assert.match(software.device ?? '', /llvmpipe.*\(software, on the CPU\)/);
});

test('an unavailable backend names the fix for that backend', () => {
  assert.match(
    new BackendUnavailableError('webgpu', 'x').message,
    /Vulkan driver.*runtime\.allow_software_gpu to true/,
  );
  assert.match(new BackendUnavailableError('cuda', 'x').message, /NVIDIA GPU.*@tensorflow\/tfjs-node-gpu/);
  assert.match(new BackendUnavailableError('cpu-native', 'x').message, /install @tensorflow\/tfjs-node/);
});
