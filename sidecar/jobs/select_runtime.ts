// The one runtime selection of every job (train, resume, evaluate, sample): which backend to ask for
// (the editor's l3m.backend setting as L3M_BACKEND, else the config's runtime.backend), selecting it,
// and on wasm the fast kernels. A job that skipped any of these would compute with other kernels than
// training did. It lives with the jobs, not in runtime/, because the fast kernels are model code.
import { selectBackend, type BackendRequest, type SelectedBackend } from '../runtime/backends';
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

/** Selects the backend for a run's config and, on wasm, installs the fast kernels. */
export async function selectRuntime(
  configBackend: string,
  environment: string | undefined = process.env.L3M_BACKEND,
): Promise<SelectedRuntime> {
  const request = backendRequestOf(configBackend, environment);
  const backend = await selectBackend(request.backend);
  // On wasm, route every matmul through XNNPACK and skip the copies of saved tensors (the perf
  // helper's kernels, numerically equal to the stock ones); process-wide, so installed here.
  const fastKernels = backend.name === 'wasm' && installFastWasmKernels();
  const description = `Backend ${backend.name} (${backend.device})${fastKernels ? ', fast wasm kernels' : ''}; requested "${request.backend}" by ${request.source}.`;
  return { backend, request, fastKernels, description };
}
