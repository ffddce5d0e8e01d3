// The compare panel's host: one panel for a set of runs, which the page can grow (a quick pick of
// the runs folder) or shrink. Each change posts the whole set again; a few runs' metrics are small
// next to what the page draws. A sweep's runs come with the request to group them by their sweep
// group; the page's group table is copied to the clipboard here, since a webview may not write it.
import * as vscode from 'vscode';
import { listRuns } from '../../sidecar/protocol/run_listing';
import { PanelChannel, viewTypes, webviewOptions } from './panel_channel';
import { compareRun } from './run_data';

export class ComparePanel implements vscode.Disposable {
  private readonly channel: PanelChannel;
  private runDirs: string[];
  /** Sent with the next post only: the page keeps the grouping once chosen, and the user may change it. */
  private groupBy: 'sweep' | undefined;

  static create(
    extensionUri: vscode.Uri,
    runDirs: string[],
    runsDir: () => string | undefined,
    onDispose: () => void,
    groupBy?: 'sweep',
  ): ComparePanel {
    const panel = vscode.window.createWebviewPanel(
      viewTypes.compare,
      'Compare Runs',
      vscode.ViewColumn.Active,
      webviewOptions(extensionUri, runDirs),
    );
    return new ComparePanel(panel, extensionUri, runDirs, runsDir, onDispose, groupBy);
  }

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    runDirs: string[],
    private readonly runsDir: () => string | undefined,
    onDispose: () => void,
    groupBy?: 'sweep',
  ) {
    this.runDirs = [...new Set(runDirs)];
    this.groupBy = groupBy;
    panel.title = 'Compare Runs';
    this.channel = new PanelChannel(panel, 'compare', extensionUri, {
      onReady: () => this.send(),
      onMessage: async (message) => {
        if (message.type === 'compare/removeRun') await this.setRuns(this.runDirs.filter((d) => d !== message.runDir));
        else if (message.type === 'compare/addRuns') await this.pickMore();
        else if (message.type === 'compare/copy') {
          await vscode.env.clipboard.writeText(message.text);
          void vscode.window.showInformationMessage(`L3M: copied ${message.what} to the clipboard.`);
        }
      },
      exportDir: () => this.runsDir(),
    });
    this.channel.setRunDirs(this.runDirs);
    panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    });
  }

  /** Replaces the compared runs; `groupBy: 'sweep'` asks the page to group them by their sweep group. */
  async setRuns(runDirs: string[], groupBy?: 'sweep'): Promise<void> {
    this.runDirs = [...new Set(runDirs)];
    this.groupBy = groupBy;
    this.channel.setRunDirs(this.runDirs);
    await this.send();
  }

  async addRuns(runDirs: string[]): Promise<void> {
    await this.setRuns([...this.runDirs, ...runDirs]);
  }

  dispose(): void {
    this.channel.dispose();
  }

  private async send(): Promise<void> {
    const runs = await Promise.all(this.runDirs.map(compareRun));
    const groupBy = this.groupBy;
    this.groupBy = undefined;
    this.channel.post({ type: 'compare/runs', runs, ...(groupBy ? { groupBy } : {}) });
  }

  private async pickMore(): Promise<void> {
    const runsDir = this.runsDir();
    if (!runsDir) {
      void vscode.window.showErrorMessage(
        'L3M: the runs folder is unknown: open a workspace folder, or set l3m.runsDir.',
      );
      return;
    }
    const listings = (await listRuns(runsDir)).filter((l) => !this.runDirs.includes(l.runDir));
    if (listings.length === 0) {
      void vscode.window.showInformationMessage(`L3M: no other runs in ${runsDir}.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(
      listings.map((l) => ({
        label: `${l.experiment}/${l.runId}`,
        description: l.kind === 'run' ? l.displayStatus : 'unreadable',
        runDir: l.runDir,
      })),
      { canPickMany: true, title: 'Add runs to the comparison' },
    );
    if (picked && picked.length > 0) await this.addRuns(picked.map((p) => p.runDir));
  }
}
