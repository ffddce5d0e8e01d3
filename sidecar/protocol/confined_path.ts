// Reading files of a run folder without leaving it. A run folder can come from anyone (a colleague's
// copy, a downloaded archive, a cluster job), and a symbolic link inside it (`samples/`, a sample
// .npy, config.json, metrics.jsonl, run.json) would otherwise make the panels read and show any file
// the user can read. Every reader resolves the real path first, following all links, and refuses a
// file whose real path is not inside the real path of its root. The root itself may be a link (a
// runs folder moved to a larger disk and linked back is common); only what lies inside it is checked.
//
// Part of the protocol (the extension's panels, the Runs view and the sidecar all read run folders),
// but it touches the file system, so webviews must not import it.
import { realpathSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { errorCode, errorMessage } from './error_message';

/** Where a name inside a root leads once every link is followed. */
export type Confined =
  | { kind: 'inside'; path: string }
  | { kind: 'missing' }
  | { kind: 'outside'; target: string; problem: string }
  | { kind: 'error'; problem: string };

/** Whether `path` is `folder` or lies below it; both must be real (resolved) paths. */
export function isWithin(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (rel.split(sep)[0] !== '..' && !isAbsolute(rel));
}

/** The sentence a reader shows for a file that leads out of its root. */
export function outsideProblem(name: string, target: string, rootLabel: string, root: string): string {
  return (
    `${name} leads to ${target}, outside the ${rootLabel} ${root}; it was not read. L3M Studio reads only files ` +
    `inside the ${rootLabel}: replace the link with a copy of the file.`
  );
}

function classify(name: string, rootReal: string, target: string, rootLabel: string, root: string): Confined {
  return isWithin(rootReal, target)
    ? { kind: 'inside', path: target }
    : { kind: 'outside', target, problem: outsideProblem(name, target, rootLabel, root) };
}

function failure(name: string, error: unknown): Confined {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
  return { kind: 'error', problem: `${name}: ${errorMessage(error)}` };
}

/**
 * Resolves `name` (relative to `root`, '/'-separated) to its real path, or says why it is not read:
 * missing (also a dangling link), leading outside the root, or unreadable. `rootLabel` names the
 * root in the message ("run folder").
 */
export async function confinedPath(root: string, name: string, rootLabel = 'run folder'): Promise<Confined> {
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch (error) {
    return failure(root, error);
  }
  try {
    return classify(name, rootReal, await realpath(join(root, name)), rootLabel, root);
  } catch (error) {
    return failure(name, error);
  }
}

/** confinedPath for synchronous readers (checkpoint loading). */
export function confinedPathSync(root: string, name: string, rootLabel = 'run folder'): Confined {
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch (error) {
    return failure(root, error);
  }
  try {
    return classify(name, rootReal, realpathSync(join(root, name)), rootLabel, root);
  } catch (error) {
    return failure(name, error);
  }
}

/** The bytes of `name` inside `root`, or why they were not read (`missing` tells an absent file apart). */
export async function readConfined(
  root: string,
  name: string,
  rootLabel = 'run folder',
): Promise<{ bytes: Buffer } | { problem: string; missing: boolean }> {
  const found = await confinedPath(root, name, rootLabel);
  if (found.kind === 'missing') return { problem: `${name}: missing`, missing: true };
  if (found.kind !== 'inside') return { problem: found.problem, missing: false };
  try {
    return { bytes: await readFile(found.path) };
  } catch (error) {
    const code = errorCode(error);
    return code === 'ENOENT'
      ? { problem: `${name}: missing`, missing: true }
      : { problem: `${name}: ${errorMessage(error)}`, missing: false };
  }
}

/**
 * The real path of `path` when it lies inside one of `roots` (real paths compared), else undefined.
 * For files named by a run record rather than found in the run folder: the config the run was
 * started from must lie in the run folder or in a workspace folder.
 */
export async function realPathWithin(path: string, roots: readonly string[]): Promise<string | undefined> {
  let target: string;
  try {
    target = await realpath(path);
  } catch {
    return undefined;
  }
  for (const root of roots) {
    try {
      if (isWithin(await realpath(root), target)) return target;
    } catch {
      /* a root that does not exist holds nothing */
    }
  }
  return undefined;
}
