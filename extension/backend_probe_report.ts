// What `l3m probe --json` says about the GPU backend packages in one backends folder, as the sentence
// "L3M: Install GPU Backend" shows once an install has finished. No `vscode` import, so tests run it in
// plain Node.
import { isAbsolute, relative } from 'node:path';
import type { BackendProbe } from '../sidecar/protocol/messages';

/** The probe's JSON (`l3m probe --json`): the backends, or an Error naming what was wrong with it. */
export function parseProbeOutput(stdout: string): BackendProbe[] | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return new Error(`l3m probe --json printed no JSON: ${stdout.trim().slice(0, 200) || '(nothing)'}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !('backends' in parsed) || !Array.isArray(parsed.backends))
    return new Error('l3m probe --json printed JSON without a "backends" list');
  return parsed.backends.filter(
    (b: unknown): b is BackendProbe =>
      typeof b === 'object' &&
      b !== null &&
      'name' in b &&
      typeof b.name === 'string' &&
      'available' in b &&
      typeof b.available === 'boolean' &&
      'detail' in b &&
      typeof b.detail === 'string',
  );
}

function isInside(path: string, folder: string): boolean {
  const rest = relative(folder, path);
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest));
}

/** One backend whose package the probe found in `folder`, and what the probe made of it. */
export interface InstalledBackend {
  backend: BackendProbe['name'];
  package: string;
  /** The version in the folder, or the version and its load error. */
  version: string;
  outcome: 'loaded' | 'found' | 'failed';
  available: boolean;
  /** The probe's detail: the device it found, or why the backend is unavailable. */
  detail: string;
}

/** The backends whose package the probe found in `folder` (loaded, found, or failing to load there). */
export function backendsIn(backends: BackendProbe[], folder: string): InstalledBackend[] {
  const found: InstalledBackend[] = [];
  for (const backend of backends) {
    const entry = backend.module?.searched.find((e) => e.outcome !== 'absent' && isInside(e.path, folder));
    if (!backend.module || !entry || entry.outcome === 'absent') continue;
    found.push({
      backend: backend.name,
      package: backend.module.package,
      version: entry.detail,
      outcome: entry.outcome,
      available: backend.available,
      detail: backend.available ? (backend.device ?? backend.detail) : backend.detail,
    });
  }
  return found;
}

/** The sentence for each backend found in the folder, e.g. "webgpu 0.6.2: found in …; unavailable: Dawn found no …". */
export function describeInstalled(installed: InstalledBackend[], folder: string): string {
  if (installed.length === 0)
    return `the probe found no GPU backend package (webgpu, @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) in ${folder}`;
  return installed
    .map((b) => {
      const where =
        b.outcome === 'failed'
          ? `${b.package} in ${folder} does not load (${b.version})`
          : `${b.package} ${b.version} found in ${folder}`;
      const state = b.available
        ? `backend ${b.backend} is available on ${b.detail}`
        : `backend ${b.backend} is unavailable: ${b.detail}`;
      return `${where}; ${state}`;
    })
    .join('. ');
}
