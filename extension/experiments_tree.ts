// The Experiments view: the workspace's `*.l3m.json` files, grouped by task, each labelled with
// its file name without `.l3m.json` and described by its task and backbone. Clicking one opens it.
import * as vscode from 'vscode';
// The ES module build: esbuild cannot follow the UMD build's factory-style requires (./impl/format).
import { parse as parseJsonc } from 'jsonc-parser/lib/esm/main.js';
import { basename } from 'node:path';

export const experimentGlob = '**/*.l3m.json';
const excludeGlob = '{**/node_modules/**,**/.git/**,**/dist/**,**/.workbench/**}';

/** The experiment name shown for a config: the file name without `.l3m.json`. */
export function experimentLabel(uri: vscode.Uri): string {
  return basename(uri.fsPath).replace(/\.l3m\.json$/, '');
}

/** The task (the group) and "regression · pretrained, lora" (the description) of a config's text; tolerant of half-typed JSON. */
export function describeConfig(text: string): { task: string; description: string } {
  const config = parseJsonc(text, [], { allowTrailingComma: true, disallowComments: false }) as Record<string, unknown> | undefined;
  if (!config || typeof config !== 'object' || Array.isArray(config)) return { task: 'not valid', description: 'not a JSON object' };
  const task = typeof config.task === 'string' ? config.task : 'no task';
  const backbone = (config.backbone && typeof config.backbone === 'object' ? config.backbone : {}) as Record<string, unknown>;
  const parts = [backbone.source, backbone.finetune].filter((p): p is string => typeof p === 'string');
  return { task, description: parts.length > 0 ? `${task} · ${parts.join(', ')}` : task };
}

/** A group of experiments of one task (regression, generation), as in the paper's Sections 4 and 5. */
export class ExperimentGroupItem extends vscode.TreeItem {
  constructor(readonly task: string, readonly experiments: ExperimentItem[]) {
    super(task, vscode.TreeItemCollapsibleState.Expanded);
    this.contextValue = 'experimentGroup';
    this.iconPath = new vscode.ThemeIcon(task === 'regression' ? 'graph-scatter' : task === 'generation' ? 'sparkle' : 'warning');
    this.description = `${experiments.length}`;
    this.id = `group:${task}`;
  }
}

export class ExperimentItem extends vscode.TreeItem {
  constructor(readonly uri: vscode.Uri, description: string) {
    super(experimentLabel(uri), vscode.TreeItemCollapsibleState.None);
    this.id = `experiment:${uri.toString()}`;
    this.description = description;
    this.tooltip = `${vscode.workspace.asRelativePath(uri)}\n${description}`;
    this.resourceUri = uri;
    this.contextValue = 'experiment';
    this.iconPath = new vscode.ThemeIcon('beaker');
    this.command = { command: 'l3m.openConfig', title: 'Open Config', arguments: [this] };
  }
}

type Node = ExperimentGroupItem | ExperimentItem;

export class ExperimentsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher: vscode.FileSystemWatcher;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.watcher = vscode.workspace.createFileSystemWatcher(experimentGlob);
    const refresh = () => this.refresh();
    this.subscriptions.push(
      this.watcher, this.changed,
      this.watcher.onDidCreate(refresh), this.watcher.onDidDelete(refresh), this.watcher.onDidChange(refresh),
      vscode.workspace.onDidChangeWorkspaceFolders(refresh),
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node instanceof ExperimentGroupItem) return node.experiments;
    if (node) return [];
    const uris = (await vscode.workspace.findFiles(experimentGlob, excludeGlob)).sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    const groups = new Map<string, ExperimentItem[]>();
    for (const uri of uris) {
      let described: { task: string; description: string };
      try {
        described = describeConfig(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
      } catch (error) {
        described = { task: 'not valid', description: `unreadable: ${(error as Error).message}` };
      }
      const list = groups.get(described.task) ?? [];
      list.push(new ExperimentItem(uri, described.description));
      groups.set(described.task, list);
    }
    // Regression first, then generation (the paper's order), then anything else.
    const rank = (task: string) => (task === 'regression' ? 0 : task === 'generation' ? 1 : 2);
    const ordered = [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
    return ordered.map(([task, items]) => new ExperimentGroupItem(task, items));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
