// Finding and starting a WebGPU adapter through Dawn (the `webgpu` npm package) for the webgpu backend.
//
// Two kinds of adapter matter:
//   - a hardware adapter, which Dawn finds through the GPU's Vulkan driver (Metal, D3D12 elsewhere);
//   - a software adapter: Mesa's llvmpipe rasteriser behind Dawn's OpenGL ES backend. It runs every
//     WebGPU compute shader on the CPU, several times slower than the wasm backend, so `auto` never
//     uses it; tests and a run that asks for it (runtime.allow_software_gpu) may, because it executes
//     the same WGSL kernels a GPU would, which is how the webgpu path is checked on machines without one.
// Dawn's Vulkan backend on Mesa's lavapipe refuses the device (it lacks the dynamic indexing features
// Dawn requires), while its OpenGL ES backend on llvmpipe works in "compatibility" feature level, with
// EGL on Mesa's surfaceless platform (no display server). Those are the options used for software.
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../protocol/error_message';

export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

/** How Dawn is asked for an adapter: its create() flags and the adapter request's feature level. */
export interface AdapterRoute {
  kind: 'hardware' | 'software';
  flags: string[];
  featureLevel: 'core' | 'compatibility';
}

export const hardwareRoute: AdapterRoute = { kind: 'hardware', flags: [], featureLevel: 'core' };
export const softwareRoute: AdapterRoute = {
  kind: 'software',
  flags: ['backend=opengles'],
  featureLevel: 'compatibility',
};

const softwareAdapterNames = /llvmpipe|swiftshader|softpipe|lavapipe|software|microsoft basic render/i;

/** A software rasteriser posing as a GPU: slower than the wasm backend, so `auto` counts it as no GPU. */
export function isSoftwareAdapter(info: AdapterInfo, isFallback: boolean): boolean {
  if (isFallback) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`;
  return softwareAdapterNames.test(text);
}

/** The adapter's name for logs and run.json: its non-empty info fields. */
export function adapterLabel(info: AdapterInfo): string {
  return (
    [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter'
  );
}

/** Mesa's EGL needs a platform without a display server; an explicit choice by the user is kept. */
export function useSurfacelessEgl(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.EGL_PLATFORM) env.EGL_PLATFORM = 'surfaceless';
}

export interface FoundAdapter {
  route: AdapterRoute;
  info: AdapterInfo;
  fallback: boolean;
}

/** What the preflight found: the hardware attempt, the software attempt, and what Dawn said for each. */
export interface AdapterPreflight {
  hardware: FoundAdapter | null;
  software: FoundAdapter | null;
  /** Dawn's messages while looking for a hardware adapter (why there is none). */
  hardwareMessages: string;
  softwareMessages: string;
}

// Dawn writes its driver warnings ("Couldn't load Vulkan: libvulkan.so.1 …" with a C++ source line)
// straight to file descriptor 2, where no JavaScript hook can catch them. So adapters are first looked
// for in a short-lived child process whose stderr is captured: on a machine without a GPU the noise ends
// up in the probe's detail string instead of the sidecar's log, and Dawn is never loaded in-process.
// Adapter info fields are getters on the prototype, so they are read one by one (a spread copies none).
// The marker line on stderr separates Dawn's messages about each attempt.
const softwareMarker = '--- l3m: software adapter ---';
const adapterScript = `
const [entry, routes, softwareNames] = [process.argv[1], JSON.parse(process.argv[2]), new RegExp(process.argv[3], 'i')];
const m = await import(entry);
Object.assign(globalThis, m.globals);
const within = (p) => Promise.race([p.catch(() => null), new Promise((r) => setTimeout(() => r(null), 15000))]);
const report = {};
for (const route of routes) {
  if (route.kind === 'software') {
    const h = report.hardware;
    if (h && !h.fallback && !softwareNames.test(Object.values(h.info).join(' '))) break;
    process.stderr.write(${JSON.stringify(`\n${softwareMarker}\n`)});
    if (!process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  }
  const adapter = await within(m.create(route.flags).requestAdapter({ powerPreference: 'high-performance', featureLevel: route.featureLevel }));
  if (!adapter) continue;
  const i = adapter.info ?? {};
  const info = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description };
  report[route.kind] = { route, info, fallback: adapter.isFallbackAdapter === true || i.isFallbackAdapter === true };
}
process.stdout.write(JSON.stringify(report));
process.exit(0);`;

function isFoundAdapter(value: unknown): value is FoundAdapter {
  if (typeof value !== 'object' || value === null) return false;
  if (!('info' in value) || !('route' in value) || !('fallback' in value)) return false;
  const { info, route, fallback } = value;
  return (
    typeof fallback === 'boolean' &&
    typeof route === 'object' &&
    route !== null &&
    typeof info === 'object' &&
    info !== null &&
    Object.values(info).every((field) => field === undefined || typeof field === 'string')
  );
}

const messagesOf = (text: string): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at '))
    .join('; ');

/**
 * Looks for a hardware adapter and, when there is none (or it is a software one), for Mesa's software
 * adapter, in a child process. Never throws: a crash counts as no adapter, with its output as the reason.
 */
export function preflightAdapters(entry: string): Promise<AdapterPreflight> {
  return new Promise((resolvePreflight) => {
    execFile(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        adapterScript,
        pathToFileURL(entry).href,
        JSON.stringify([hardwareRoute, softwareRoute]),
        softwareAdapterNames.source,
      ],
      { timeout: 60_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const [beforeSoftware, afterSoftware = ''] = stderr.split(softwareMarker);
        const result: AdapterPreflight = {
          hardware: null,
          software: null,
          hardwareMessages: messagesOf(beforeSoftware),
          softwareMessages: messagesOf(afterSoftware),
        };
        try {
          const report: unknown = JSON.parse(stdout);
          if (typeof report !== 'object' || report === null) throw new Error('no report');
          const hardware: unknown = Reflect.get(report, 'hardware');
          const software: unknown = Reflect.get(report, 'software');
          if (isFoundAdapter(hardware)) result.hardware = { ...hardware, route: hardwareRoute };
          if (isFoundAdapter(software)) result.software = { ...software, route: softwareRoute };
        } catch {
          if (!result.hardwareMessages)
            result.hardwareMessages = error ? error.message.split('\n')[0] : 'the adapter probe printed nothing';
        }
        resolvePreflight(result);
      },
    );
  });
}

// The webgpu package types create() with the DOM's GPU types, which this Node build does not include.
interface WebgpuModule {
  create(options: string[]): GpuEntry;
  globals: Record<string, unknown>;
}

interface GpuAdapter {
  info?: AdapterInfo & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

interface GpuEntry {
  requestAdapter(options?: { powerPreference?: string; featureLevel?: string }): Promise<GpuAdapter | null>;
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

/** The adapter that the webgpu backend will run on, started in this process. */
export interface StartedAdapter {
  route: AdapterRoute;
  info: AdapterInfo;
  software: boolean;
}

/**
 * Loads Dawn in this process, requests the adapter by `route`, and provides `navigator.gpu` so that
 * tfjs-backend-webgpu registers itself and, when TF.js initialises it, gets this adapter: the backend asks
 * for an adapter with no feature level, so for the software route the request is amended to
 * "compatibility", the only level Dawn's OpenGL ES backend offers. Throws with the reason when Dawn cannot
 * be loaded or finds no adapter.
 */
export async function startAdapter(entry: string, route: AdapterRoute): Promise<StartedAdapter> {
  const loaded: unknown = await import(pathToFileURL(entry).href);
  if (!isWebgpuModule(loaded)) throw new Error(`${entry} exports no create() and globals`);
  Object.assign(globalThis, loaded.globals);
  if (route.kind === 'software') useSurfacelessEgl();
  const gpu = loaded.create(route.flags);
  const request = (options?: { powerPreference?: string }) =>
    gpu.requestAdapter({ ...options, featureLevel: route.featureLevel });
  // The adapter request can hang on broken drivers; give it a bounded time.
  const adapter = await Promise.race([
    request({ powerPreference: 'high-performance' }),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000).unref()),
  ]);
  if (!adapter) throw new Error(`Dawn found no ${route.kind} adapter in this process`);
  const raw = adapter.info ?? {};
  const info: AdapterInfo = {
    vendor: raw.vendor,
    architecture: raw.architecture,
    device: raw.device,
    description: raw.description,
  };
  const software = isSoftwareAdapter(info, adapter.isFallbackAdapter === true || raw.isFallbackAdapter === true);
  // The navigator's gpu: Dawn's own object where it needs no amendment, else one that forwards to it.
  const navigatorGpu: unknown = route.featureLevel === 'core' ? gpu : { requestAdapter: request };
  // tfjs-backend-webgpu registers itself at import time only when navigator.gpu exists, and Node 20
  // has no navigator, so it is provided here before the import.
  const nav: unknown = Reflect.get(globalThis, 'navigator');
  if (typeof nav === 'object' && nav !== null) {
    Object.defineProperty(nav, 'gpu', { value: navigatorGpu, configurable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu: navigatorGpu },
      configurable: true,
      writable: true,
    });
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    throw new Error(`@tensorflow/tfjs-backend-webgpu failed to load: ${errorMessage(error).split('\n')[0]}`, {
      cause: error,
    });
  }
  return { route, info, software };
}
