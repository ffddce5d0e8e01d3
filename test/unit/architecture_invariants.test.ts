// ARCHITECTURE.md's process and layer boundaries, checked on the real import graph. Each rule is
// stated once below, as data with its reason; a failure names every offending import
// (file:line → target) and the rule it breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { importCycles, importGraph, sourceFiles, type ImportEdge } from './import_graph';

const root = join(import.meta.dirname, '..', '..');
const files = sourceFiles(root, ['extension', 'sidecar', 'schemas', 'webview']);
const edges = importGraph(root, files);

interface BoundaryRule {
  name: string;
  reason: string;
  /** The importing files: path prefixes, less those in `except`. */
  files: string[];
  except?: string[];
  /** Forbidden project paths (prefixes), less those in `allow`. */
  forbidPaths?: string[];
  allow?: string[];
  /** Forbidden packages, by package name (a subpath such as 'vscode-languageserver/node' counts). */
  forbidPackages?: string[];
  forbidBuiltins?: boolean;
}

const boundaryRules: BoundaryRule[] = [
  {
    name: 'the extension reaches the sidecar only through its protocol',
    reason:
      'The extension host and the sidecar are separate processes; they share the messages and the run-folder format (sidecar/protocol/) and schemas/, never sidecar internals, which would pull TF.js and the training code into the editor.',
    files: ['extension/'],
    forbidPaths: ['sidecar/'],
    allow: ['sidecar/protocol/'],
  },
  {
    name: 'model, data, checkpoint, training, task, job and sweep code is headless',
    reason:
      'This code runs the same under `l3m train`, `l3m serve` and a batch job: the shells (sidecar/cli, sidecar/rpc, JSON-RPC) call it, never the other way round.',
    files: [
      'sidecar/model/',
      'sidecar/data/',
      'sidecar/checkpoint/',
      'sidecar/train/',
      'sidecar/tasks/',
      'sidecar/jobs/',
      'sidecar/sweeps/',
    ],
    forbidPaths: ['sidecar/rpc/', 'sidecar/cli/'],
    forbidPackages: ['vscode-jsonrpc'],
  },
  {
    name: 'schemas/ stands alone',
    reason:
      'The language server, the CLI and the training code all import schemas/, so it imports none of them: anything it needs from elsewhere moves into schemas/.',
    files: ['schemas/'],
    forbidPaths: ['sidecar/', 'extension/', 'webview/'],
  },
  {
    name: 'the sidecar imports no editor code',
    reason: 'The sidecar is a plain Node program that runs without an editor (a terminal, a cluster job).',
    files: ['sidecar/'],
    forbidPaths: ['extension/', 'webview/'],
    forbidPackages: ['vscode', 'vscode-languageclient', 'vscode-languageserver'],
  },
  {
    name: 'only the extension host imports vscode',
    reason:
      'The vscode module exists only inside the extension host; the sidecar, the language server (its own process) and the panels (browser pages) cannot load it.',
    files: ['sidecar/', 'schemas/', 'webview/', 'extension/server/'],
    forbidPackages: ['vscode'],
  },
  {
    name: 'only the language server imports vscode-languageserver',
    reason:
      'Validation is pure (schemas/validate_config.ts); only the LSP shell in extension/server/ speaks LSP, so the CLI and the tests run the same checks without a server.',
    files: ['extension/', 'sidecar/', 'schemas/', 'webview/'],
    except: ['extension/server/'],
    forbidPackages: ['vscode-languageserver'],
  },
  {
    name: 'panels are browser code',
    reason:
      'The panels are browser bundles that talk to the extension by postMessage: they share only the run-folder records, the run stages, the .npy decoder and the group statistics (sidecar/protocol/run_folder.ts, run_stage.ts, npy_format.ts and group_stats.ts, which load no Node module) and cannot load Node modules.',
    files: ['webview/'],
    forbidPaths: ['extension/', 'sidecar/', 'schemas/'],
    allow: [
      'sidecar/protocol/run_folder.ts',
      'sidecar/protocol/run_stage.ts',
      'sidecar/protocol/npy_format.ts',
      'sidecar/protocol/group_stats.ts',
    ],
    forbidBuiltins: true,
  },
];

/**
 * Layers from the bottom up: a file may import its own layer or a lower one. Within a layer,
 * folders may import each other; the cycle check keeps that from knotting.
 */
const layers: Array<{ folders: string[]; reason: string }> = [
  { folders: ['schemas/', 'sidecar/protocol/'], reason: 'the config and the run format, shared by every process' },
  {
    folders: ['sidecar/runtime/', 'sidecar/runs/', 'webview/shared/'],
    reason: "services on those formats: backends and input files, the run store, the panels' shared code",
  },
  { folders: ['sidecar/model/', 'sidecar/data/'], reason: 'the model and the data pipeline, each usable alone' },
  { folders: ['sidecar/checkpoint/'], reason: 'saving and loading models' },
  { folders: ['sidecar/train/'], reason: 'the task-independent engine: loop, optimizer, schedule' },
  { folders: ['sidecar/tasks/'], reason: 'the tasks, built on the engine' },
  { folders: ['sidecar/jobs/'], reason: 'train, resume, evaluate, sample: one skeleton driving a task' },
  {
    folders: ['sidecar/sweeps/'],
    reason: 'sweeps: their folders and the executors that run their runs as processes of their own',
  },
  { folders: ['sidecar/rpc/'], reason: 'the JSON-RPC server' },
  { folders: ['sidecar/cli/'], reason: "the sidecar's entry: one module per command, `serve` starting the RPC server" },
  {
    folders: ['extension/', 'webview/'],
    reason: 'the editor side: extension host, language server and panel entries, which nothing imports',
  },
];

/**
 * Known breaks that a planned change removes, each named with that change. The test fails when one
 * no longer occurs, so that its entry is deleted with the code it excused.
 */
const pending: Array<{ from: string; to: string; reason: string }> = [];

const startsWithAny = (path: string, prefixes: readonly string[] = []): boolean =>
  prefixes.some((prefix) => path.startsWith(prefix));

function describe(edge: ImportEdge): string {
  const target = edge.target;
  const name =
    target.kind === 'file' ? target.path : target.kind === 'unresolved' ? 'nothing (unresolved)' : target.name;
  return `${edge.from}:${edge.line} → ${name} ('${edge.specifier}')`;
}

function breaks(rule: BoundaryRule, edge: ImportEdge): boolean {
  if (!startsWithAny(edge.from, rule.files) || startsWithAny(edge.from, rule.except)) return false;
  const target = edge.target;
  if (target.kind === 'file')
    return startsWithAny(target.path, rule.forbidPaths) && !startsWithAny(target.path, rule.allow);
  if (target.kind === 'package') return (rule.forbidPackages ?? []).includes(target.name);
  if (target.kind === 'builtin') return rule.forbidBuiltins === true;
  return false;
}

/** The index of the layer a file lies in (-1: none) and the folder that put it there. */
function layerMatch(path: string): { index: number; folder: string } {
  let best = { index: -1, folder: '' };
  layers.forEach((layer, index) => {
    for (const folder of layer.folders) {
      if (path.startsWith(folder) && folder.length > best.folder.length) best = { index, folder };
    }
  });
  return best;
}

const layerOf = (path: string): number => layerMatch(path).index;
const layerName = (path: string): string => `layer ${layerMatch(path).index} (${layerMatch(path).folder})`;

const isPending = (from: string, to: string): boolean =>
  pending.some((entry) => from.startsWith(entry.from) && to.startsWith(entry.to));

/** Imports that go to a higher layer than their file's, pending ones included. */
function upwardEdges(): ImportEdge[] {
  return edges.filter((edge) => edge.target.kind === 'file' && layerOf(edge.target.path) > layerOf(edge.from));
}

function report(title: string, lines: string[], reason: string, fix: string): string {
  return `${title}\n${lines.map((line) => `  ${line}`).join('\n')}\nWhy: ${reason}\nFix: ${fix}`;
}

test('the import graph covers the source tree', () => {
  assert.ok(
    files.length > 150,
    `expected the source tree under extension/, sidecar/, schemas/ and webview/, found ${files.length} .ts files`,
  );
  assert.ok(
    edges.some((edge) => edge.target.kind === 'file'),
    'no import between project files was found',
  );
});

test('the cycle finder reports each knot once, as a path back to its first file', () => {
  const edge = (from: string, to: string): ImportEdge => ({
    from,
    line: 1,
    specifier: to,
    target: { kind: 'file', path: to },
  });
  const knot = [
    edge('a.ts', 'b.ts'),
    edge('b.ts', 'c.ts'),
    edge('c.ts', 'a.ts'),
    edge('c.ts', 'b.ts'),
    edge('c.ts', 'd.ts'),
    edge('e.ts', 'e.ts'),
  ];
  assert.deepEqual(importCycles(knot), [
    ['a.ts', 'b.ts', 'c.ts', 'a.ts'],
    ['e.ts', 'e.ts'],
  ]);
  assert.deepEqual(importCycles([edge('a.ts', 'b.ts'), edge('b.ts', 'c.ts')]), []);
});

test('every relative import resolves to a file', () => {
  const unresolved = edges.filter((edge) => edge.target.kind === 'unresolved').map(describe);
  assert.deepEqual(
    unresolved,
    [],
    report(
      'Imports that resolve to no file:',
      unresolved,
      'a missing file leaves the import graph, and so these checks, incomplete',
      'correct the path or add the file',
    ),
  );
});

for (const rule of boundaryRules) {
  test(`boundary: ${rule.name}`, () => {
    const offending = edges.filter((edge) => breaks(rule, edge)).map(describe);
    assert.deepEqual(
      offending,
      [],
      report(
        `Imports that break "${rule.name}":`,
        offending,
        rule.reason,
        'move what the file needs to a module both sides may import, or move the code to the side that owns it',
      ),
    );
  });
}

test('every file lies in a layer', () => {
  const outside = files.filter((file) => layerOf(file) < 0);
  assert.deepEqual(
    outside,
    [],
    report(
      'Files in no layer:',
      outside,
      'the layer check cannot judge their imports',
      'add their folder to `layers` in this test and to ARCHITECTURE.md',
    ),
  );
});

test('no import goes up a layer', () => {
  const upward = upwardEdges()
    .filter((edge) => edge.target.kind === 'file' && !isPending(edge.from, edge.target.path))
    .map(
      (edge) =>
        `${describe(edge)}: ${layerName(edge.from)} imports ${layerName(edge.target.kind === 'file' ? edge.target.path : '')}`,
    );
  assert.deepEqual(
    upward,
    [],
    report(
      'Imports from a lower layer to a higher one:',
      upward,
      `the layers, bottom up: ${layers.map((layer, index) => `${index} ${layer.folders.join(' ')} (${layer.reason})`).join('; ')}`,
      'move the shared code down to a layer both may import, or pass it in from above',
    ),
  );
});

test('no import cycles', () => {
  const notPending = edges.filter((edge) => edge.target.kind !== 'file' || !isPending(edge.from, edge.target.path));
  const cycles = importCycles(notPending).map((cycle) => cycle.join(' → '));
  assert.deepEqual(
    cycles,
    [],
    report(
      'Import cycles:',
      cycles,
      'a cycle makes its files one unit: none can be loaded, tested or understood alone, and load order decides what is undefined',
      'move what both sides need into a third module that both import',
    ),
  );
});

test('each pending exception still occurs (delete it with the code it excuses)', () => {
  const stale = pending.filter(
    (entry) =>
      !edges.some(
        (edge) =>
          edge.target.kind === 'file' && edge.from.startsWith(entry.from) && edge.target.path.startsWith(entry.to),
      ),
  );
  assert.deepEqual(
    stale.map((entry) => `${entry.from} → ${entry.to}`),
    [],
    report(
      'Pending exceptions with no import left to excuse:',
      stale.map((entry) => `${entry.from} → ${entry.to}`),
      'an unused exception would hide the next such import',
      'delete the entry from `pending` in this test',
    ),
  );
});
