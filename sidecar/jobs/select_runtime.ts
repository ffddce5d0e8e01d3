// The one runtime selection of every job (train, resume, evaluate, sample): which backend to ask for
// (the editor's l3m.backend setting as L3M_BACKEND, else the config's runtime.backend), selecting it,
// and on wasm the fast kernels. A job that skipped any of these would compute with other kernels than
// training did. It lives with the jobs, not in runtime/, because the fast kernels are model code.
import {
  BackendUnavailableError,
  probeBackend,
  selectBackend,
  type BackendRequest,
  type SelectedBackend,
} from '../runtime/backends';
import { watchGpuDevice } from '../runtime/gpu_memory_errors';
import { installFastWasmKernels } from '../model/ops/install_wasm_kernels';

const backendRequests: readonly BackendRequest[] = ['auto', 'cuda', 'cpu-native', 'webgpu', 'wasm', 'cpu'];

export interface BackendRequestSource {
  backend: BackendRequest;
  source: 'L3M_BACKEND' | 'runtime.backend';
}

/**
 * The backend to ask for: the editor's `l3m.backend` setting reaches the sidecar as L3M_BACKEND (unset
 * when the setting is "config") and wins over the config's runtime.backend.
 */
export function backendRequestOf(configBackend: string, environment: string | undefined): BackendRequestSource {
  if (environment !== undefined && environment !== '') {
    if (!isBackendRequest(environment)) {
      throw new Error(
        `L3M_BACKEND is "${environment}", which is not a backend; use one of ${backendRequests.join(', ')} (or unset it, or set l3m.backend to "config", to use runtime.backend).`,
      );
    }
    return { backend: environment, source: 'L3M_BACKEND' };
  }
  if (!isBackendRequest(configBackend)) {
    throw new Error(
      `runtime.backend is "${configBackend}", which is not a backend; use one of ${backendRequests.join(', ')}.`,
    );
  }
  return { backend: configBackend, source: 'runtime.backend' };
}

function isBackendRequest(value: string): value is BackendRequest {
  return (backendRequests as readonly string[]).includes(value);
}

export interface SelectedRuntime {
  backend: SelectedBackend;
  request: BackendRequestSource;
  fastKernels: boolean;
  /** The log line that says what was chosen and why. */
  description: string;
}

/** The config's runtime section as far as the backend choice goes; a bare string is runtime.backend alone. */
export type RuntimeSection = string | { backend: string; allow_software_gpu?: boolean };

function sectionOf(runtime: RuntimeSection): { backend: string; allowSoftwareGpu: boolean } {
  return typeof runtime === 'string'
    ? { backend: runtime, allowSoftwareGpu: false }
    : { backend: runtime.backend, allowSoftwareGpu: runtime.allow_software_gpu === true };
}

/**
 * Refuses, before a run folder is created, a backend that is named explicitly and unavailable here: the
 * run would fail at its first line. Throws BackendUnavailableError with the probe's reason and the fix;
 * `auto` always finds one. Probes only the named backend (cached for the run that follows).
 */
export async function checkRuntimeAvailable(
  runtime: RuntimeSection,
  environment: string | undefined = process.env.L3M_BACKEND,
): Promise<void> {
  const { backend, allowSoftwareGpu } = sectionOf(runtime);
  const request = backendRequestOf(backend, environment);
  if (request.backend === 'auto') return;
  const probe = await probeBackend(request.backend, { allowSoftwareGpu });
  if (!probe.available)
    throw new BackendUnavailableError(request.backend, `${probe.detail} (requested by ${request.source})`);
}

/** Selects the backend for a run's config and, on wasm, installs the fast kernels. */
export async function selectRuntime(
  runtime: RuntimeSection,
  environment: string | undefined = process.env.L3M_BACKEND,
): Promise<SelectedRuntime> {
  const { backend: configBackend, allowSoftwareGpu } = sectionOf(runtime);
  const request = backendRequestOf(configBackend, environment);
  const backend = await selectBackend(request.backend, { allowSoftwareGpu });
  // Dawn reports a failed allocation as a device event, not an exception: collect them from the start
  // (runtime/gpu_memory_errors.ts), so that the training step can be checked.
  if (backend.name === 'webgpu') watchGpuDevice();
  // On wasm, route every matmul through XNNPACK and skip the copies of saved tensors (the perf
  // helper's kernels, numerically equal to the stock ones); process-wide, so installed here.
  const fastKernels = backend.name === 'wasm' && installFastWasmKernels();
  const description = `Backend ${backend.name} (${backend.device})${fastKernels ? ', fast wasm kernels' : ''}; requested "${request.backend}" by ${request.source}.`;
  return { backend, request, fastKernels, description };
}
