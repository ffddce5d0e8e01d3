// Where the sidecar finds its optional backend packages (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node,
// webgpu). They carry native binaries for one platform, so no bundle holds them, and the packaged
// extension ships dist/sidecar.js without any node_modules: an installed extension finds them only in a
// folder that the editor names. The places, in order:
//   1. the folders in L3M_BACKENDS_DIR (separated like PATH): the extension sets it to the
//      `l3m.backendsPath` setting, then the folder that "L3M: Install GPU Backend" installs into; a person
//      running `l3m` may set it too. Each is an npm prefix (holding node_modules/<package>) or a
//      node_modules folder itself;
//   2. beside the sidecar: the node_modules folders from the sidecar's own folder upwards, as Node
//      resolves them (a source checkout's node_modules, where `npm install` put the optional packages).
// For each place the search records what it found there, so that `l3m probe` can say where it looked and
// why a package was not used: absent, or present but failing to load (with the loader's error).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { ModuleSearchEntry, OptionalModuleSearch } from '../protocol/messages';
import { errorMessage } from '../protocol/error_message';

/** The environment variable naming the editor's backends folders. */
export const backendsDirVariable = 'L3M_BACKENDS_DIR';

/** The optional backend packages, each with the backend it provides. */
export const optionalBackendPackages = {
  cuda: '@tensorflow/tfjs-node-gpu',
  'cpu-native': '@tensorflow/tfjs-node',
  webgpu: 'webgpu',
} as const;

export type OptionalPackage = (typeof optionalBackendPackages)[keyof typeof optionalBackendPackages];

/** One place to look: the backends folder, or the sidecar's own folder (Node's resolution from there). */
export interface ModulePlace {
  place: ModuleSearchEntry['place'];
  /** The backends folder as given, or the folder the sidecar's own resolution starts from. */
  dir: string;
}

/** A package found in one place, ready to load. */
export interface LocatedModule {
  place: ModuleSearchEntry['place'];
  /** The package's folder (…/node_modules/<package>). */
  packageDir: string;
  /** The file that `import` loads (the package's main entry). */
  entry: string;
  version: string;
}

/** What a search gave: the package where it was used (and its module when loaded), and every place's outcome. */
export interface OptionalModuleResult extends OptionalModuleSearch {
  found?: LocatedModule;
  /** The loaded module's namespace, when the search loaded it in this process. */
  module?: unknown;
}

// The sidecar's own folder: dist/ in the bundle, sidecar/runtime/ under tsx.
const ownFile = typeof __filename !== 'undefined' ? __filename : join(process.cwd(), 'index.js');

/** The places to look, in order, for the environment `env`. */
export function modulePlaces(env: NodeJS.ProcessEnv = process.env): ModulePlace[] {
  const places: ModulePlace[] = [];
  for (const given of (env[backendsDirVariable] ?? '').split(delimiter)) {
    if (given.trim() !== '') places.push({ place: 'backends-dir', dir: resolve(given.trim()) });
  }
  places.push({ place: 'sidecar', dir: dirname(ownFile) });
  return places;
}

function readVersion(packageDir: string): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string')
      return pkg.version;
  } catch {
    // An unreadable package.json leaves the version unknown; loading says what is wrong.
  }
  return 'unknown version';
}

/** The package folder that contains `entry`: the path up to and including node_modules/<package>. */
function packageDirOf(entry: string, pkg: string): string {
  const marker = join('node_modules', pkg);
  const at = entry.lastIndexOf(marker);
  return at >= 0 ? entry.slice(0, at + marker.length) : dirname(entry);
}

type Located = { located: LocatedModule } | { absent: ModuleSearchEntry };

function locateInBackendsDir(pkg: string, dir: string): Located {
  const nodeModules = basename(dir) === 'node_modules' ? dir : join(dir, 'node_modules');
  const packageDir = join(nodeModules, pkg);
  const absent = (detail: string): Located => ({
    absent: { place: 'backends-dir', path: packageDir, outcome: 'absent', detail },
  });
  if (!existsSync(dir)) return absent(`the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) return absent(`${dir} is not a folder`);
  if (!existsSync(join(packageDir, 'package.json'))) return absent(`${packageDir} does not exist`);
  try {
    // Resolution from a file in the folder above node_modules finds this node_modules first.
    const entry = createRequire(join(dirname(nodeModules), 'l3m-backends.js')).resolve(pkg);
    return { located: { place: 'backends-dir', packageDir, entry, version: readVersion(packageDir) } };
  } catch (error) {
    return absent(`${packageDir} has no loadable entry point (${errorMessage(error).split('\n')[0]})`);
  }
}

function locateBesideSidecar(pkg: string, dir: string): Located {
  const requireThere = createRequire(join(dir, 'l3m-sidecar.js'));
  try {
    const entry = requireThere.resolve(pkg);
    const packageDir = packageDirOf(entry, pkg);
    return { located: { place: 'sidecar', packageDir, entry, version: readVersion(packageDir) } };
  } catch {
    const first = requireThere.resolve.paths(pkg)?.[0] ?? join(dir, 'node_modules');
    return {
      absent: {
        place: 'sidecar',
        path: join(first, pkg),
        outcome: 'absent',
        detail: `not in ${first} nor in the node_modules folders above it`,
      },
    };
  }
}

function locateIn(pkg: string, place: ModulePlace): Located {
  return place.place === 'backends-dir' ? locateInBackendsDir(pkg, place.dir) : locateBesideSidecar(pkg, place.dir);
}

const firstLine = (text: string): string => text.split('\n')[0].trim();

/** Where `pkg` is in each place, without loading it. */
export function locateOptionalModule(pkg: string, places: ModulePlace[] = modulePlaces()): OptionalModuleResult {
  const searched: ModuleSearchEntry[] = [];
  let found: LocatedModule | undefined;
  for (const place of places) {
    const result = locateIn(pkg, place);
    if ('absent' in result) {
      searched.push(result.absent);
      continue;
    }
    const { located } = result;
    found ??= located;
    searched.push({ place: located.place, path: located.packageDir, outcome: 'found', detail: located.version });
  }
  return { package: pkg, searched, found };
}

/**
 * Loads `pkg` in this process from the first place where it loads, and records each place's outcome;
 * a place whose copy fails to load is reported with the error, and the next place is tried. Never throws.
 */
export async function loadOptionalModule(
  pkg: string,
  places: ModulePlace[] = modulePlaces(),
): Promise<OptionalModuleResult> {
  return searchLoading(pkg, places, async (located) => {
    const module: unknown = await import(pathToFileURL(located.entry).href);
    return module;
  });
}

/**
 * Like loadOptionalModule, but loads each copy in a short-lived child process instead of this one:
 * for a package whose loading has lasting effects on the process (Dawn writes to file descriptor 2
 * and keeps driver threads), which the caller loads itself only once it knows it wants it.
 */
export function checkOptionalModule(
  pkg: string,
  places: ModulePlace[] = modulePlaces(),
): Promise<OptionalModuleResult> {
  return searchLoading(pkg, places, (located) => loadsInChild(located.entry));
}

async function searchLoading(
  pkg: string,
  places: ModulePlace[],
  load: (located: LocatedModule) => Promise<unknown>,
): Promise<OptionalModuleResult> {
  const searched: ModuleSearchEntry[] = [];
  let found: LocatedModule | undefined;
  let module: unknown;
  for (const place of places) {
    const result = locateIn(pkg, place);
    if ('absent' in result) {
      searched.push(result.absent);
      continue;
    }
    const { located } = result;
    if (found) {
      // Found already: the later places are only described, never loaded.
      searched.push({ place: located.place, path: located.packageDir, outcome: 'found', detail: located.version });
      continue;
    }
    try {
      module = await load(located);
      found = located;
      searched.push({ place: located.place, path: located.packageDir, outcome: 'loaded', detail: located.version });
    } catch (error) {
      searched.push({
        place: located.place,
        path: located.packageDir,
        outcome: 'failed',
        detail: `${located.version} failed to load: ${firstLine(errorMessage(error))}`,
      });
    }
  }
  return { package: pkg, searched, found, module };
}

// Prints nothing on success; a failure to load exits non-zero with the loader's error on stderr.
const loadScript = 'await import(process.argv[1]);';

function loadsInChild(entry: string): Promise<void> {
  return new Promise((resolveLoad, rejectLoad) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', loadScript, pathToFileURL(entry).href],
      { timeout: 60_000, encoding: 'utf8' },
      (error, _stdout, stderr) => {
        if (!error) {
          resolveLoad();
          return;
        }
        // Node prints the source line and a caret before the error itself: keep the error's line.
        const lines = stderr
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== '');
        const said = lines.find((line) => /^\w*Error\b|^Error:/.test(line)) ?? lines.at(-1) ?? error.message;
        rejectLoad(new Error(said));
      },
    );
  });
}

/** One sentence on why `pkg` could not be used, naming every place and what was there. */
export function describeSearch(search: OptionalModuleSearch): string {
  const failed = search.searched.filter((entry) => entry.outcome === 'failed');
  const places = search.searched
    .map(
      (entry) =>
        `${placeLabel(entry.place)}: ${entry.outcome === 'absent' ? entry.detail : `${entry.path} ${entry.detail}`}`,
    )
    .join('; ');
  if (failed.length > 0) return `${search.package} failed to load (${places})`;
  return `${search.package} is not installed (${places}); install it with the editor's "L3M: Install GPU Backend" command, or with npm install --prefix <folder> ${search.package} and ${backendsDirVariable}=<folder>`;
}

/** How a place is named in messages and in `l3m probe`. */
export function placeLabel(place: ModuleSearchEntry['place']): string {
  return place === 'backends-dir' ? `the backends folder (${backendsDirVariable})` : 'beside the sidecar';
}
