// The Experiments view: the workspace's `*.l3m.json` files, grouped by folder, each labelled with
// its file name without `.l3m.json` and described by its task and backbone. Clicking one opens it.
import * as vscode from 'vscode';
// The ES module build: esbuild cannot follow the UMD build's factory-style requires (./impl/format).
import { parse as parseJsonc } from 'jsonc-parser/lib/esm/main.js';
import { basename, dirname } from 'node:path';

export const experimentGlob = '**/*.l3m.json';
const excludeGlob = '{**/node_modules/**,**/.git/**,**/dist/**,**/.workbench/**}';

/** The experiment name shown for a config: the file name without `.l3m.json`. */
export function experimentLabel(uri: vscode.Uri): string {
  return basename(uri.fsPath).replace(/\.l3m\.json$/, '');
}

/** "regression · pretrained, lora" from a config's text; tolerant of half-typed JSON. */
export function describeConfig(text: string): string {
  const config = parseJsonc(text, [], { allowTrailingComma: true, disallowComments: false }) as Record<string, unknown> | undefined;
  if (!config || typeof config !== 'object') return 'not valid JSON';
  const task = typeof config.task === 'string' ? config.task : 'task?';
  const backbone = (config.backbone && typeof config.backbone === 'object' ? config.backbone : {}) as Record<string, unknown>;
  const parts = [backbone.source, backbone.finetune].filter((p): p is string => typeof p === 'string');
  return parts.length > 0 ? `${task} · ${parts.join(', ')}` : task;
}

export class ExperimentGroupItem extends vscode.TreeItem {
  constructor(readonly folder: string, readonly experiments: ExperimentItem[]) {
    super(folder === '' ? '(workspace root)' : folder, vscode.TreeItemCollapsibleState.Expanded);
    this.contextValue = 'experimentGroup';
    this.iconPath = vscode.ThemeIcon.Folder;
    this.id = `group:${folder}`;
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
      let description: string;
      try {
        description = describeConfig(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
      } catch (error) {
        description = `unreadable: ${(error as Error).message}`;
      }
      const relative = vscode.workspace.asRelativePath(uri, vscode.workspace.workspaceFolders !== undefined && vscode.workspace.workspaceFolders.length > 1);
      const folder = dirname(relative) === '.' ? '' : dirname(relative);
      const list = groups.get(folder) ?? [];
      list.push(new ExperimentItem(uri, description));
      groups.set(folder, list);
    }
    return [...groups.entries()].map(([folder, items]) => new ExperimentGroupItem(folder, items));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
