// Probing and choosing the TensorFlow.js compute backend, in the order of docs/design.md#compute-backends:
// cuda (tfjs-node-gpu with a visible NVIDIA GPU), cpu-native (tfjs-node), webgpu (Dawn through the
// `webgpu` npm package, hardware adapters only), wasm, and the pure-JavaScript cpu backend.
//
// The native packages and `webgpu` are optional dependencies that a machine without internet cannot
// install, so every probe turns "not installed" or "no device" into an unavailable entry with the
// reason; nothing here throws for a missing package. Each probe runs once per process, because
// loading a native package or creating a GPU instance has lasting side effects.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { execFile, execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { BackendProbe } from '../protocol/messages';
import { errorCode, errorMessage } from '../protocol/error_message';
import {
  checkOptionalModule,
  describeSearch,
  loadOptionalModule,
  locateOptionalModule,
  optionalBackendPackages,
  type OptionalModuleResult,
} from './optional_modules';

export type BackendName = BackendProbe['name'];
export type BackendRequest = 'auto' | BackendName;

/** The preference order of `auto` (docs/design.md#compute-backends). */
export const backendOrder: readonly BackendName[] = ['cuda', 'cpu-native', 'webgpu', 'wasm', 'cpu'];

/** The name TF.js registers each backend under. */
const tfBackendName: Record<BackendName, string> = {
  cuda: 'tensorflow',
  'cpu-native': 'tensorflow',
  webgpu: 'webgpu',
  wasm: 'wasm',
  cpu: 'cpu',
};

export interface SelectedBackend {
  name: BackendName;
  device: string;
  detail: string;
  /** Versions of the TF.js packages in use, recorded in the run (e.g. { tfjs: '4.22.0', 'tfjs-backend-wasm': '4.22.0' }). */
  versions: Record<string, string>;
}

/** Thrown by selectBackend when the requested backend cannot be used; says why and what to do. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(
      `Compute backend "${backend}" is unavailable: ${reason}. Set runtime.backend to "auto" (or run "l3m probe" to see what is available).`,
    );
    this.name = 'BackendUnavailableError';
  }
}

// `require` that works both in the esbuild bundle (CommonJS) and under tsx in development.
const requireHere = createRequire(typeof __filename !== 'undefined' ? __filename : join(process.cwd(), 'index.js'));

/** What the last search for each optional backend's package found, for the probe's report. */
const moduleSearches = new Map<BackendName, OptionalModuleResult>();

function packageVersion(name: string): string | null {
  // The optional packages are resolved from their own places (optional_modules.ts), not from here.
  const optional = Object.entries(optionalBackendPackages).find(([, pkg]) => pkg === name);
  if (optional) return locateOptionalModule(name).found?.version ?? null;
  // Read package.json from the package folder: some packages' "exports" hide it from require.
  try {
    const entry = requireHere.resolve(name);
    let dir = dirname(entry);
    for (let i = 0; i < 6; i++) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg: unknown = JSON.parse(readFileSync(file, 'utf8'));
        if (
          typeof pkg === 'object' &&
          pkg !== null &&
          'name' in pkg &&
          pkg.name === name &&
          'version' in pkg &&
          typeof pkg.version === 'string' &&
          pkg.version
        )
          return pkg.version;
      }
      dir = dirname(dir);
    }
  } catch {
    return null;
  }
  return null;
}

function cpuDescription(): string {
  const model = cpus()[0]?.model?.trim() || 'unknown CPU';
  return `${model}, ${availableParallelism()} threads`;
}

/** Names of visible NVIDIA GPUs, from the driver's /proc entries or nvidia-smi; [] when there are none. */
export function visibleNvidiaGpus(): string[] {
  if (process.env.CUDA_VISIBLE_DEVICES === '' || process.env.CUDA_VISIBLE_DEVICES === '-1') return [];
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const names = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (names.length > 0) return names;
  } catch {
    // No nvidia-smi: fall back to the driver's /proc entries.
  }
  try {
    const dir = '/proc/driver/nvidia/gpus';
    return readdirSync(dir).map((bus) => {
      const info = readFileSync(join(dir, bus, 'information'), 'utf8');
      return /Model:\s*(.+)/.exec(info)?.[1]?.trim() ?? `NVIDIA GPU ${bus}`;
    });
  } catch {
    return [];
  }
}

function describeImportFailure(pkg: string, error: unknown): string {
  const code = errorCode(error);
  const message = errorMessage(error);
  if ((code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && message.includes(pkg)) {
    return `${pkg} is not installed (optional; the README says how to install it on a machine with internet)`;
  }
  return `${pkg} failed to load: ${message.split('\n')[0]}`;
}

async function probeNative(name: 'cuda' | 'cpu-native'): Promise<BackendProbe> {
  const pkg = name === 'cuda' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  let gpus: string[] = [];
  if (name === 'cuda') {
    gpus = visibleNvidiaGpus();
    if (gpus.length === 0)
      return {
        name,
        available: false,
        detail: 'no NVIDIA GPU is visible (nvidia-smi and /proc/driver/nvidia found none)',
      };
  }
  const search = await loadOptionalModule(pkg);
  moduleSearches.set(name, search);
  if (!search.found) return { name, available: false, detail: describeSearch(search) };
  if (!tf.findBackend('tensorflow') && !tf.engine().registryFactory.tensorflow) {
    return { name, available: false, detail: `${pkg} loaded but registered no "tensorflow" backend` };
  }
  const version = search.found.version;
  return {
    name,
    available: true,
    detail: `${pkg} ${version}`,
    device: name === 'cuda' ? gpus.join(', ') : cpuDescription(),
  };
}

/** A software rasteriser posing as a GPU: slower than the wasm backend, so it counts as no GPU. */
export function isSoftwareAdapter(
  info: { vendor?: string; architecture?: string; device?: string; description?: string },
  isFallback: boolean,
): boolean {
  if (isFallback) return true;
  const text =
    `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`.toLowerCase();
  return /llvmpipe|swiftshader|softpipe|lavapipe|software|microsoft basic render/.test(text);
}

// Dawn writes its driver warnings ("Couldn't load Vulkan: libvulkan.so.1 …" with a C++ source line)
// straight to file descriptor 2, where no JavaScript hook can catch them. So the adapter is first looked
// for in a short-lived child process whose stderr is captured: on a machine without a GPU the noise ends
// up in the probe's detail string instead of the sidecar's log, and Dawn is never loaded in-process.
const adapterScript = `
const m = await import(process.argv[1]);
Object.assign(globalThis, m.globals);
const adapter = await Promise.race([m.create([]).requestAdapter({ powerPreference: 'high-performance' }), new Promise((r) => setTimeout(() => r(null), 15000))]);
process.stdout.write(JSON.stringify(adapter ? { found: true, info: { ...(adapter.info ?? {}) }, fallback: adapter.isFallbackAdapter === true } : { found: false }));
process.exit(0);`;

interface AdapterPreflight {
  found: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  fallback?: boolean;
  stderr: string;
}

/** What adapterScript prints; anything else (a crash's output) counts as no adapter. */
function isPreflightReport(value: unknown): value is Omit<AdapterPreflight, 'stderr'> {
  if (typeof value !== 'object' || value === null || !('found' in value) || typeof value.found !== 'boolean')
    return false;
  const info: unknown = 'info' in value ? value.info : undefined;
  return (
    info === undefined ||
    (typeof info === 'object' &&
      info !== null &&
      Object.values(info).every((field) => field === undefined || typeof field === 'string'))
  );
}

function preflightAdapter(entry: string): Promise<AdapterPreflight> {
  return new Promise((resolvePreflight) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', adapterScript, pathToFileURL(entry).href],
      { timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const noise = stderr
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('at '))
          .join('; ');
        try {
          const report: unknown = JSON.parse(stdout);
          if (!isPreflightReport(report)) throw new Error('the adapter probe printed no report');
          resolvePreflight({ ...report, stderr: noise });
        } catch {
          resolvePreflight({ found: false, stderr: noise || (error ? error.message.split('\n')[0] : 'no output') });
        }
      },
    );
  });
}

async function probeWebgpu(): Promise<BackendProbe> {
  const name = 'webgpu';
  // Loaded in a child process first: Dawn is loaded here only once an adapter is known to exist.
  const search = await checkOptionalModule(optionalBackendPackages.webgpu);
  moduleSearches.set(name, search);
  if (!search.found) return { name, available: false, detail: describeSearch(search) };
  const entry = search.found.entry;
  const preflight = await preflightAdapter(entry);
  const dawnSaid = preflight.stderr ? ` (Dawn: ${preflight.stderr})` : '';
  if (!preflight.found)
    return { name, available: false, detail: `Dawn found no GPU adapter (no Vulkan/Metal/D3D12 driver)${dawnSaid}` };
  if (isSoftwareAdapter(preflight.info ?? {}, preflight.fallback === true)) {
    const label =
      Object.values(preflight.info ?? {})
        .filter((v) => v)
        .join(' ') || 'unknown adapter';
    return { name, available: false, detail: `only a software adapter (${label}), which counts as no GPU` };
  }
  let module: WebgpuModule;
  try {
    const loaded: unknown = await import(pathToFileURL(entry).href);
    if (!isWebgpuModule(loaded)) throw new Error('the package exports no create() and globals');
    module = loaded;
  } catch (error) {
    return { name, available: false, detail: describeImportFailure('webgpu', error) };
  }
  try {
    Object.assign(globalThis, module.globals);
    const gpu = module.create([]);
    // The adapter request can hang on broken drivers; give it a bounded time.
    const adapter = await Promise.race([
      gpu.requestAdapter({ powerPreference: 'high-performance' }),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000).unref()),
    ]);
    if (!adapter) return { name, available: false, detail: 'Dawn found no GPU adapter (no Vulkan/Metal/D3D12 driver)' };
    const info = adapter.info ?? {};
    const label =
      [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter';
    if (isSoftwareAdapter(info, adapter.isFallbackAdapter === true)) {
      return { name, available: false, detail: `only a software adapter (${label}), which counts as no GPU` };
    }
    // tfjs-backend-webgpu registers itself at import time only when navigator.gpu exists, and Node 20
    // has no navigator, so it is provided here before the import.
    const nav: unknown = Reflect.get(globalThis, 'navigator');
    if (typeof nav === 'object' && nav !== null) {
      if (!Reflect.get(nav, 'gpu')) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    } else {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    await import('@tensorflow/tfjs-backend-webgpu');
    return {
      name,
      available: true,
      detail:
        `webgpu (Dawn) ${packageVersion('webgpu') ?? ''}, tfjs-backend-webgpu ${packageVersion('@tensorflow/tfjs-backend-webgpu') ?? ''}`.replace(
          /\s+,/g,
          ',',
        ),
      device: label,
    };
  } catch (error) {
    return { name, available: false, detail: `webgpu failed: ${errorMessage(error).split('\n')[0]}` };
  }
}

// The webgpu package types create() with the DOM's GPU types, which this Node build does not include.
interface WebgpuModule {
  create(options: string[]): GPUish;
  globals: Record<string, unknown>;
}

function isWebgpuModule(value: unknown): value is WebgpuModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    'create' in value &&
    typeof value.create === 'function' &&
    'globals' in value &&
    typeof value.globals === 'object' &&
    value.globals !== null
  );
}

interface GPUish {
  requestAdapter(options?: { powerPreference?: string }): Promise<{
    info?: { vendor?: string; architecture?: string; device?: string; description?: string };
    isFallbackAdapter?: boolean;
  } | null>;
}

/**
 * Where the wasm backend's .wasm files are: `wasm/` beside the bundle (esbuild.mjs copies them to
 * dist/wasm/), or the package's own dist/ folder when running from source.
 */
export function wasmDirectory(): string | null {
  const candidates: string[] = [];
  if (typeof __dirname !== 'undefined') candidates.push(join(__dirname, 'wasm'));
  try {
    candidates.push(dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')));
  } catch {
    // Not resolvable through exports; try the package entry's folder below.
  }
  try {
    const entry = requireHere.resolve('@tensorflow/tfjs-backend-wasm');
    candidates.push(join(entry.slice(0, entry.lastIndexOf('tfjs-backend-wasm') + 'tfjs-backend-wasm'.length), 'dist'));
  } catch {
    // Package missing; reported by the probe.
  }
  return candidates.find((dir) => existsSync(join(dir, 'tfjs-backend-wasm.wasm'))) ?? null;
}

function probeWasm(): BackendProbe {
  const dir = wasmDirectory();
  if (!dir)
    return {
      name: 'wasm',
      available: false,
      detail: 'tfjs-backend-wasm.wasm not found in dist/wasm/ or node_modules; run "npm run build"',
    };
  setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
  const simd = existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'));
  return {
    name: 'wasm',
    available: true,
    detail: `@tensorflow/tfjs-backend-wasm ${version_wasm}${simd ? ' (SIMD build present)' : ''}`,
    device: `CPU via WebAssembly (${cpuDescription()})`,
  };
}

function probeCpu(): BackendProbe {
  return {
    name: 'cpu',
    available: true,
    detail: `@tensorflow/tfjs-backend-cpu ${tf.version['tfjs-backend-cpu'] ?? tf.version_core}`,
    device: `CPU, pure JavaScript (${cpuDescription()})`,
  };
}

const probeCache = new Map<BackendName, Promise<BackendProbe>>();

/** Probes one backend, once per process. Never throws. */
export function probeBackend(name: BackendName): Promise<BackendProbe> {
  let probe = probeCache.get(name);
  if (!probe) {
    probe = (async (): Promise<BackendProbe> => {
      try {
        if (name === 'cuda' || name === 'cpu-native') return withModuleSearch(await probeNative(name));
        if (name === 'webgpu') return withModuleSearch(await probeWebgpu());
        if (name === 'wasm') return probeWasm();
        return probeCpu();
      } catch (error) {
        return { name, available: false, detail: `probe failed: ${errorMessage(error)}` };
      }
    })();
    probeCache.set(name, probe);
  }
  return probe;
}

/**
 * Adds where the backend's optional package was looked for; a probe that stopped before searching
 * (no NVIDIA GPU visible) gets the places without loading anything, so the report still says what is there.
 */
function withModuleSearch(probe: BackendProbe): BackendProbe {
  if (probe.name !== 'cuda' && probe.name !== 'cpu-native' && probe.name !== 'webgpu') return probe;
  const search = moduleSearches.get(probe.name) ?? locateOptionalModule(optionalBackendPackages[probe.name]);
  return { ...probe, module: { package: search.package, searched: search.searched } };
}

/** Probes every backend once per process, in preference order. Never throws. */
export async function probeBackends(): Promise<BackendProbe[]> {
  const results: BackendProbe[] = [];
  for (const name of backendOrder) results.push(await probeBackend(name));
  return results;
}

/**
 * Chooses a backend (the first available one for `auto`), makes it TF.js's active backend, and
 * returns what was chosen with the versions to record in the run. When initialising a backend
 * fails although its probe succeeded (a driver error, say), `auto` falls through to the next one.
 */
export async function selectBackend(requested: BackendRequest): Promise<SelectedBackend> {
  if (requested !== 'auto' && !backendOrder.includes(requested)) {
    throw new BackendUnavailableError(
      String(requested),
      `unknown backend; choose one of auto, ${backendOrder.join(', ')}`,
    );
  }
  // Only the requested backend is probed (auto: in preference order, until one initialises), so that
  // asking for cpu or wasm never loads a GPU stack.
  const names = requested === 'auto' ? backendOrder : [requested];
  const failures: string[] = [];
  for (const name of names) {
    const probe = await probeBackend(name);
    if (!probe.available) {
      if (requested !== 'auto') throw new BackendUnavailableError(probe.name, probe.detail);
      continue;
    }
    let ok: boolean;
    try {
      ok = await tf.setBackend(tfBackendName[probe.name]);
      if (ok) await tf.ready();
    } catch (error) {
      failures.push(`${probe.name}: ${errorMessage(error)}`);
      ok = false;
    }
    if (ok)
      return {
        name: probe.name,
        device: probe.device ?? 'unknown',
        detail: probe.detail,
        versions: backendVersions(probe.name),
      };
    if (requested !== 'auto')
      throw new BackendUnavailableError(
        probe.name,
        `TF.js could not initialise it${failures.length ? ` (${failures.join('; ')})` : ''}`,
      );
  }
  throw new BackendUnavailableError(
    'auto',
    `no backend could be initialised (${failures.join('; ') || 'none available'})`,
  );
}

function backendVersions(name: BackendName): Record<string, string> {
  const versions: Record<string, string> = { tfjs: tf.version.tfjs ?? tf.version_core, 'tfjs-core': tf.version_core };
  if (name === 'wasm') versions['tfjs-backend-wasm'] = version_wasm;
  if (name === 'cpu') versions['tfjs-backend-cpu'] = tf.version['tfjs-backend-cpu'] ?? tf.version_core;
  const pkg =
    name === 'cuda'
      ? '@tensorflow/tfjs-node-gpu'
      : name === 'cpu-native'
        ? '@tensorflow/tfjs-node'
        : name === 'webgpu'
          ? '@tensorflow/tfjs-backend-webgpu'
          : null;
  if (pkg) versions[pkg] = packageVersion(pkg) ?? 'unknown';
  if (name === 'webgpu') versions.webgpu = packageVersion('webgpu') ?? 'unknown';
  return versions;
}
