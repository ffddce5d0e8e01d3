// The Experiments view: the workspace's `*.l3m.json` files, grouped by task, each labelled with
// its file name without `.l3m.json` and described by its task and backbone; then its sweep files
// (`*.l3m-sweep.json`), described by their run count and executor, with Run Sweep on each. Clicking
// one opens it.
import * as vscode from 'vscode';
// The ES module build: esbuild cannot follow the UMD build's factory-style requires (./impl/format).
import { parse as parseJsonc } from 'jsonc-parser/lib/esm/main.js';
import { basename } from 'node:path';
import { isRecord } from '../schemas/json_value';
import { errorMessage } from '../sidecar/protocol/error_message';
import { describeSweepFile } from './sweep_file_description';
import { SnapshotLoader, changedNodes, treeChanges, type Snapshot, type TreeChange } from './tree_changes';

export const experimentGlob = '**/*.l3m.json';
export const sweepGlob = '**/*.l3m-sweep.json';
const watchedGlob = '**/*.{l3m.json,l3m-sweep.json}';
/** The group of the sweep files; no task has this name. */
const sweepsGroup = 'sweeps';
const excludeGlob = '{**/node_modules/**,**/.git/**,**/dist/**,**/.workbench/**}';

/** The experiment name shown for a config: the file name without `.l3m.json`. */
export function experimentLabel(uri: vscode.Uri): string {
  return basename(uri.fsPath).replace(/\.l3m\.json$/, '');
}

export function isSweepFile(uri: vscode.Uri): boolean {
  return uri.fsPath.endsWith('.l3m-sweep.json');
}

/** The task (the group) and "regression · pretrained, lora" (the description) of a config's text; tolerant of half-typed JSON. */
export function describeConfig(text: string): { task: string; description: string } {
  const config: unknown = parseJsonc(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!isRecord(config)) return { task: 'not valid', description: 'not a JSON object' };
  const task = typeof config.task === 'string' ? config.task : 'no task';
  const backbone = isRecord(config.backbone) ? config.backbone : {};
  const parts = [backbone.source, backbone.finetune].filter((p): p is string => typeof p === 'string');
  return { task, description: parts.length > 0 ? `${task} · ${parts.join(', ')}` : task };
}

/** A group of experiments of one task (regression, generation), as in the paper's Sections 4 and 5. */
export class ExperimentGroupItem extends vscode.TreeItem {
  constructor(
    readonly task: string,
    public experiments: FileItem[],
  ) {
    super(task, vscode.TreeItemCollapsibleState.Expanded);
    this.contextValue = 'experimentGroup';
    const icons: Record<string, string> = {
      regression: 'graph-scatter',
      generation: 'sparkle',
      [sweepsGroup]: 'layers',
    };
    this.iconPath = new vscode.ThemeIcon(icons[task] ?? 'warning');
    this.id = `group:${task}`;
    this.setExperiments(experiments);
  }

  setExperiments(experiments: FileItem[]): void {
    this.experiments = experiments;
    this.description = `${experiments.length}`;
  }
}

/**
 * A config's row. The same object stays in the tree while its file exists and is updated in place, so
 * that Train on a row never loses its config to a refresh (tree_changes.ts says why).
 */
export class ExperimentItem extends vscode.TreeItem {
  constructor(
    readonly uri: vscode.Uri,
    description: string,
  ) {
    super(experimentLabel(uri), vscode.TreeItemCollapsibleState.None);
    this.id = `experiment:${uri.toString()}`;
    this.resourceUri = uri;
    this.contextValue = 'experiment';
    this.iconPath = new vscode.ThemeIcon('beaker');
    this.command = { command: 'l3m.openConfig', title: 'Open Config', arguments: [this] };
    this.describe(description);
  }

  describe(description: string): void {
    this.description = description;
    this.tooltip = `${vscode.workspace.asRelativePath(this.uri)}\n${description}`;
  }
}

/** A sweep file's row, kept in place like an experiment's; Run Sweep is its inline action. */
export class SweepFileItem extends vscode.TreeItem {
  constructor(
    readonly uri: vscode.Uri,
    description: string,
  ) {
    super(basename(uri.fsPath).replace(/\.l3m-sweep\.json$/, ''), vscode.TreeItemCollapsibleState.None);
    this.id = `sweep:${uri.toString()}`;
    this.resourceUri = uri;
    this.contextValue = 'sweep';
    this.iconPath = new vscode.ThemeIcon('layers');
    this.command = { command: 'l3m.openConfig', title: 'Open Sweep File', arguments: [uri] };
    this.describe(description);
  }

  describe(description: string): void {
    this.description = description;
    this.tooltip = `${vscode.workspace.asRelativePath(this.uri)}\n${description}`;
  }
}

type FileItem = ExperimentItem | SweepFileItem;
type Node = ExperimentGroupItem | FileItem;

export class ExperimentsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher: vscode.FileSystemWatcher;
  private readonly subscriptions: vscode.Disposable[] = [];
  private shown: Snapshot = new Map();
  private groups: ExperimentGroupItem[] = [];
  private readonly items = new Map<string, FileItem>();
  private readonly loader = new SnapshotLoader(
    () => this.load(),
    (change) => this.announce(change),
  );

  constructor() {
    this.watcher = vscode.workspace.createFileSystemWatcher(watchedGlob);
    const refresh = () => void this.refresh();
    this.subscriptions.push(
      this.watcher,
      this.changed,
      this.watcher.onDidCreate(refresh),
      this.watcher.onDidDelete(refresh),
      this.watcher.onDidChange(refresh),
      vscode.workspace.onDidChangeWorkspaceFolders(refresh),
    );
    void this.refresh();
  }

  refresh(): Promise<void> {
    return this.loader.refresh();
  }

  private async load(): Promise<TreeChange> {
    const uris = (await vscode.workspace.findFiles(watchedGlob, excludeGlob)).sort((a, b) =>
      a.fsPath.localeCompare(b.fsPath),
    );
    const grouped = new Map<string, { uri: vscode.Uri; description: string }[]>();
    for (const uri of uris) {
      let described: { task: string; description: string };
      const sweep = isSweepFile(uri);
      try {
        const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
        described = sweep ? { task: sweepsGroup, description: describeSweepFile(text) } : describeConfig(text);
      } catch (error) {
        described = { task: sweep ? sweepsGroup : 'not valid', description: `unreadable: ${errorMessage(error)}` };
      }
      // A config whose task is the sweeps group's name is not valid, and is shown as such.
      if (!sweep && described.task === sweepsGroup) described = { ...described, task: 'not valid' };
      grouped.set(described.task, [
        ...(grouped.get(described.task) ?? []),
        { uri, description: described.description },
      ]);
    }
    // Regression first, then generation (the paper's order), then anything else, then the sweeps.
    const rank = (task: string) =>
      task === 'regression' ? 0 : task === 'generation' ? 1 : task === sweepsGroup ? 3 : 2;
    const ordered = [...grouped.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
    const shown: Snapshot = new Map(
      ordered.map(([task, configs]) => [
        task,
        configs.map((c) => ({ key: c.uri.toString(), signature: c.description })),
      ]),
    );
    const change = treeChanges(this.shown, shown);
    this.shown = shown;
    const seen = new Set<string>();
    this.groups = ordered.map(([task, configs]) => {
      const items = configs.map(({ uri, description }) => {
        const key = uri.toString();
        seen.add(key);
        const item =
          this.items.get(key) ??
          (task === sweepsGroup ? new SweepFileItem(uri, description) : new ExperimentItem(uri, description));
        item.describe(description);
        this.items.set(key, item);
        return item;
      });
      const group = this.groups.find((g) => g.task === task);
      if (!group) return new ExperimentGroupItem(task, items);
      group.setExperiments(items);
      return group;
    });
    for (const key of [...this.items.keys()]) if (!seen.has(key)) this.items.delete(key);
    return change;
  }

  /** Tells VS Code which nodes changed, and nothing else. */
  private announce(change: TreeChange): void {
    const nodes = changedNodes<Node, Node>(change, new Map(this.groups.map((g) => [g.task, g])), this.items);
    if (nodes !== null) this.changed.fire(nodes);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node instanceof ExperimentGroupItem) return node.experiments;
    if (node) return [];
    await this.loader.inFlight;
    return this.groups;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
