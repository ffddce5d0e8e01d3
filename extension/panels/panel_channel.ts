// One webview panel and its typed channel: the page shell with a fresh nonce (panel_html.ts),
// localResourceRoots limited to the extension's webview bundles and the panel's run folders,
// posts held back until the page says `ready` (and again after a reload of the page, which posts
// `ready` anew), and the export messages turned into files through a save dialog. Every message goes
// out with its typed arrays in one buffer (typed_array_packing.ts says why).
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeNonce, panelHtml } from './panel_html';
import type { HostMessage, PageMessage } from '../../webview/shared/panel_protocol';
import { errorMessage } from '../../sidecar/protocol/error_message';
import { maxMessageBuffers, messageBufferCount, packTypedArrays } from './typed_array_packing';

export type PageName = 'monitor' | 'inspector' | 'compare';

export const viewTypes: Record<PageName, string> = {
  monitor: 'l3m.monitor',
  inspector: 'l3m.inspector',
  compare: 'l3m.compare',
};

export function webviewOptions(
  extensionUri: vscode.Uri,
  runDirs: string[],
): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    // The pages keep their state with setState and rebuild from the host's data, so they need
    // not stay alive while hidden.
    retainContextWhenHidden: false,
    enableFindWidget: false,
    localResourceRoots: [
      vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
      ...runDirs.map((d) => vscode.Uri.file(d)),
    ],
  };
}

export class PanelChannel implements vscode.Disposable {
  private ready = false;
  private readonly pending: HostMessage[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  /**
   * `onReady` runs at every `ready` (first load, and when VS Code reloads a hidden page); it
   * should post the panel's whole data.
   */
  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly page: PageName,
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: {
      onReady(): void | Promise<void>;
      onMessage?(message: PageMessage): void | Promise<void>;
      exportDir?(): string | undefined;
    },
  ) {
    const webview = panel.webview;
    const bundle = (file: string) =>
      webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
    webview.html = panelHtml({
      page,
      title: panel.title,
      scriptUri: bundle(`${page}.js`),
      styleUri: bundle(`${page}.css`),
      cspSource: webview.cspSource,
      nonce: makeNonce((n) => randomBytes(n)),
    });
    this.disposables.push(webview.onDidReceiveMessage((message: PageMessage) => void this.receive(message)));
  }

  setRunDirs(runDirs: string[]): void {
    this.panel.webview.options = webviewOptions(this.extensionUri, runDirs);
  }

  /** Posts now when the page is ready, or when it becomes ready. */
  post(message: HostMessage): void {
    if (!this.ready) {
      this.pending.push(message);
      return;
    }
    const packed = packTypedArrays(message);
    const buffers = messageBufferCount(packed);
    if (buffers > maxMessageBuffers) {
      // VS Code would drop the buffers past its limit without a word; say so rather than show partial data.
      void vscode.window.showErrorMessage(
        `L3M: the ${this.page} panel's ${message.type} message has ${buffers} binary parts, more than the ${maxMessageBuffers} a webview message carries; the page shows what arrives of it. This is a defect of L3M Studio: please report it.`,
      );
    }
    void this.panel.webview.postMessage(packed);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private async receive(message: PageMessage): Promise<void> {
    if (!message || typeof message.type !== 'string') return;
    if (message.type === 'ready') {
      this.ready = true;
      // What was queued before a reload is superseded by the fresh data onReady posts.
      this.pending.length = 0;
      await this.handlers.onReady();
      return;
    }
    if (message.type === 'export') {
      await this.saveExport(message);
      return;
    }
    await this.handlers.onMessage?.(message);
  }

  private async saveExport(message: Extract<PageMessage, { type: 'export' }>): Promise<void> {
    const dir = this.handlers.exportDir?.();
    const target = await vscode.window.showSaveDialog({
      defaultUri: dir ? vscode.Uri.file(join(dir, message.fileName)) : undefined,
      filters:
        message.mime === 'image/png'
          ? { 'PNG image': ['png'] }
          : message.mime === 'image/svg+xml'
            ? { 'SVG image': ['svg'] }
            : message.mime === 'text/markdown'
              ? { Markdown: ['md'] }
              : { CSV: ['csv'] },
      saveLabel: 'Export',
    });
    if (!target) return;
    try {
      await writeFile(target.fsPath, typeof message.data === 'string' ? message.data : Buffer.from(message.data));
    } catch (e) {
      void vscode.window.showErrorMessage(`L3M: could not write ${target.fsPath}: ${errorMessage(e)}`);
    }
  }
}
