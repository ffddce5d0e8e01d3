// The project's import graph, read with the TypeScript compiler's own import scanner so that
// comments, strings and every import form (static, type-only, re-export, dynamic import(), require,
// import types) are handled as the compiler sees them. Used by architecture_invariants.test.ts.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

/** One import as written: the importing file (relative to the root, with '/'), its line and what it names. */
export interface ImportEdge {
  from: string;
  line: number;
  specifier: string;
  /** A project file (relative path), a package name ('vscode', '@tensorflow/tfjs'), or a Node built-in. */
  target:
    | { kind: 'file'; path: string }
    | { kind: 'package'; name: string }
    | { kind: 'builtin'; name: string }
    | { kind: 'unresolved' };
}

const resolveOptions: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  resolveJsonModule: true,
  allowJs: true,
};

/** Every .ts file under the given folders of root, as root-relative paths with '/', sorted. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts')) found.push(toPosix(relative(root, path)));
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return found.sort();
}

/** The imports of one file, each resolved to a project file, a package or a built-in. */
export function importsOf(root: string, file: string): ImportEdge[] {
  const text = readFileSync(join(root, file), 'utf8');
  const scanned = ts.preProcessFile(text, true, true).importedFiles;
  return scanned.map(({ fileName: specifier, pos }) => ({
    from: file,
    line: lineAt(text, pos),
    specifier,
    target: resolveTarget(root, file, specifier),
  }));
}

/** The imports of all the files, in file order. */
export function importGraph(root: string, files: readonly string[]): ImportEdge[] {
  return files.flatMap((file) => importsOf(root, file));
}

/**
 * Every import cycle among project files, each as a path that starts and ends at the same file
 * (one cycle per strongly connected component, so a knot of many files is reported once).
 */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    if (edge.target.kind !== 'file') continue;
    const list = next.get(edge.from) ?? [];
    if (!list.includes(edge.target.path)) list.push(edge.target.path);
    next.set(edge.from, list);
  }
  return stronglyConnected(next)
    .filter((component) => component.length > 1 || (next.get(component[0]) ?? []).includes(component[0]))
    .map((component) => cycleThrough(component, next));
}

/** Tarjan's algorithm, iterative so that a deep chain of imports cannot overflow the stack. */
function stronglyConnected(next: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of [...next.keys()].sort()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; child: number }> = [{ node: start, child: 0 }];
    index.set(start, counter);
    low.set(start, counter);
    counter++;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const children = next.get(frame.node) ?? [];
      if (frame.child < children.length) {
        const child = children[frame.child++];
        if (!index.has(child)) {
          index.set(child, counter);
          low.set(child, counter);
          counter++;
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** A shortest cycle through the first file of a strongly connected component (breadth-first). */
function cycleThrough(component: string[], next: Map<string, string[]>): string[] {
  const inside = new Set(component);
  const start = component[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const child of next.get(node) ?? []) {
      if (!inside.has(child)) continue;
      if (child === start) {
        const path = [start];
        for (let at = node; at !== start; at = cameFrom.get(at)!) path.unshift(at);
        path.unshift(start);
        return path;
      }
      if (!cameFrom.has(child)) {
        cameFrom.set(child, node);
        queue.push(child);
      }
    }
  }
  return [start, start];
}

function resolveTarget(root: string, file: string, specifier: string): ImportEdge['target'] {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) {
    return { kind: 'builtin', name: specifier.replace(/^node:/, '') };
  }
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
    const parts = specifier.split('/');
    return { kind: 'package', name: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
  }
  const resolved = ts.resolveModuleName(specifier, join(root, file), resolveOptions, ts.sys).resolvedModule;
  if (resolved) return { kind: 'file', path: toPosix(relative(root, resolved.resolvedFileName)) };
  // The bundler also takes assets that TypeScript does not resolve (a panel's stylesheet).
  const asset = join(root, dirname(file), specifier);
  return isFile(asset) ? { kind: 'file', path: toPosix(relative(root, asset)) } : { kind: 'unresolved' };
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
