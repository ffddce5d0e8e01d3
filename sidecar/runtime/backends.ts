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
import { execFileSync } from 'node:child_process';
import type { BackendProbe } from '../protocol/messages';
import { errorMessage } from '../protocol/error_message';
import {
  adapterLabel,
  isSoftwareAdapter,
  preflightAdapters,
  startAdapter,
  type AdapterPreflight,
  type StartedAdapter,
} from './webgpu_adapter';
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
    super(`Compute backend "${backend}" is unavailable: ${reason}. ${backendFix(backend)}`);
    this.name = 'BackendUnavailableError';
  }
}

/** What would make a backend available, or what to ask for instead. */
export function backendFix(backend: string): string {
  const instead = 'or set runtime.backend to "auto" (run "l3m probe" to see what is available)';
  if (backend === 'cuda')
    return `To use it, run on a machine with an NVIDIA GPU and its driver, with @tensorflow/tfjs-node-gpu and the CUDA and cuDNN libraries its libtensorflow was built for (CUDA 11.2, cuDNN 8.1 for tfjs-node-gpu 4.x), ${instead}.`;
  if (backend === 'cpu-native') return `To use it, install @tensorflow/tfjs-node for this platform, ${instead}.`;
  if (backend === 'webgpu')
    return `To use it, run on a machine whose GPU has a Vulkan driver (for NVIDIA: the driver's Vulkan ICD and libvulkan1), or set runtime.allow_software_gpu to true to run on Mesa's software adapter (slower than wasm; for tests), ${instead}.`;
  return `Set runtime.backend to "auto" (or run "l3m probe" to see what is available).`;
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

export { isSoftwareAdapter } from './webgpu_adapter';

/** Options of a backend request beyond its name. */
export interface BackendOptions {
  /**
   * Let an explicit "webgpu" request use a software adapter (Mesa's llvmpipe), which is slower than wasm:
   * for tests of the WebGPU kernels on machines without a GPU. `auto` never uses one.
   */
  allowSoftwareGpu?: boolean;
}

/** One adapter preflight per process: it starts a child process and loads Dawn there. */
let adapterPreflight: Promise<AdapterPreflight> | null = null;
/** Dawn in this process, at most once per kind of adapter (a hardware probe and a software-allowed one may both find the GPU). */
const startedAdapters = new Map<'hardware' | 'software', Promise<StartedAdapter>>();

async function probeWebgpu(allowSoftware: boolean): Promise<BackendProbe> {
  const name = 'webgpu';
  // Loaded in a child process first: Dawn is loaded here only once an adapter is known to exist.
  const search = await checkOptionalModule(optionalBackendPackages.webgpu);
  moduleSearches.set(name, search);
  if (!search.found) return { name, available: false, detail: describeSearch(search) };
  const entry = search.found.entry;
  adapterPreflight ??= preflightAdapters(entry);
  const preflight = await adapterPreflight;
  const hardware =
    preflight.hardware && !isSoftwareAdapter(preflight.hardware.info, preflight.hardware.fallback)
      ? preflight.hardware
      : null;
  const software = hardware ? null : (preflight.software ?? preflight.hardware);
  const chosen = hardware ?? (allowSoftware ? software : null);
  if (!chosen) {
    const dawnSaid = preflight.hardwareMessages ? ` (Dawn: ${preflight.hardwareMessages})` : '';
    const noHardware = `Dawn found no hardware GPU adapter (no Vulkan/Metal/D3D12 driver for a GPU)${dawnSaid}`;
    if (software)
      return {
        name,
        available: false,
        detail: `${noHardware}; only a software adapter (${adapterLabel(software.info)}), which is slower than wasm and used only when runtime.allow_software_gpu is true`,
      };
    const softwareSaid = preflight.softwareMessages ? ` (Dawn: ${preflight.softwareMessages})` : '';
    return {
      name,
      available: false,
      detail: `${noHardware}; no software adapter either (Mesa's EGL and llvmpipe, packages libegl1 libegl-mesa0 libgl1-mesa-dri)${softwareSaid}`,
    };
  }
  try {
    let starting = startedAdapters.get(chosen.route.kind);
    if (!starting) {
      starting = startAdapter(entry, chosen.route);
      startedAdapters.set(chosen.route.kind, starting);
    }
    const started = await starting;
    const versions = `webgpu (Dawn) ${packageVersion('webgpu') ?? ''}, tfjs-backend-webgpu ${packageVersion('@tensorflow/tfjs-backend-webgpu') ?? ''}`;
    return {
      name,
      available: true,
      detail: `${versions.replace(/\s+,/g, ',')}${started.software ? ', software adapter (allowed by runtime.allow_software_gpu)' : ''}`,
      device: `${adapterLabel(started.info)}${started.software ? ' (software, on the CPU)' : ''}`,
    };
  } catch (error) {
    return { name, available: false, detail: `webgpu failed: ${errorMessage(error).split('\n')[0]}` };
  }
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

const probeCache = new Map<string, Promise<BackendProbe>>();

/** Probes one backend, once per process (webgpu: once with and once without software adapters). Never throws. */
export function probeBackend(name: BackendName, options: BackendOptions = {}): Promise<BackendProbe> {
  const allowSoftware = name === 'webgpu' && options.allowSoftwareGpu === true;
  const key = allowSoftware ? 'webgpu+software' : name;
  let probe = probeCache.get(key);
  if (!probe) {
    probe = (async (): Promise<BackendProbe> => {
      try {
        if (name === 'cuda' || name === 'cpu-native') return withModuleSearch(await probeNative(name));
        if (name === 'webgpu') return withModuleSearch(await probeWebgpu(allowSoftware));
        if (name === 'wasm') return probeWasm();
        return probeCpu();
      } catch (error) {
        return { name, available: false, detail: `probe failed: ${errorMessage(error)}` };
      }
    })();
    probeCache.set(key, probe);
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
 * A software WebGPU adapter is used only for an explicit "webgpu" with `allowSoftwareGpu`.
 */
export async function selectBackend(requested: BackendRequest, options: BackendOptions = {}): Promise<SelectedBackend> {
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
    const probe = await probeBackend(name, requested === 'auto' ? {} : options);
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
