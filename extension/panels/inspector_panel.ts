// The lightcone inspector's host: one panel per run. It posts samples/index.json and
// eval/regression.json when the page is ready, answers the page's sample requests with the bytes of
// the .npy files (binary, never JSON numbers), and posts again when the sampler adds an entry. A
// run without samples gets true slices of its dataset instead (data_preview.ts); making them runs
// `l3m data` on the run's config, which reads the files the config names, so in an untrusted
// workspace only a preview already in the run folder is shown.
// Opening says what it is doing: the page shows what it reads, a progress item in the status bar
// lasts until the page has slices (or a reason) to show, and a failure to read the run is said on the
// page and in a notification.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { basename, join } from 'node:path';
import { PanelChannel, viewTypes, webviewOptions } from './panel_channel';
import { inspectorInit, inspectorSample } from './run_data';
import { ensureDataPreview, hasDataPreview, readDataPreview } from './data_preview';
import type { SampleIndex } from '../../sidecar/protocol/run_folder';
import { sidecarCommand } from '../settings';
import { errorMessage } from '../../sidecar/protocol/error_message';
import type { InspectorDataPreview } from '../../webview/shared/panel_protocol';

/** Shown instead of true slices when making them would run `l3m data` in an untrusted workspace. */
export const untrustedPreviewProblem =
  "True slices of the dataset are not read in an untrusted workspace: reading them runs l3m data on the run's config, " +
  'which opens the files the config names and may simulate lightcones for minutes. Trust this workspace to see them.';

export class InspectorPanel implements vscode.Disposable {
  private readonly channel: PanelChannel;
  private samples: SampleIndex | null = null;
  private watcher: FSWatcher | null = null;
  private readonly sidecarScript: string;
  /** The data preview in progress or done (one `l3m data` per panel). */
  private preview: Promise<string | null> | null = null;
  private readonly trustGranted: vscode.Disposable;
  /** Aborted when the panel closes, stopping an `l3m data` that nobody would see. */
  private readonly closed = new AbortController();
  /** Settled once the page has slices, a preview or a reason to show, or the panel closed: ends the progress item. */
  private markShown: () => void = () => undefined;

  static create(extensionUri: vscode.Uri, runDir: string, onDispose: () => void): InspectorPanel {
    const panel = vscode.window.createWebviewPanel(
      viewTypes.inspector,
      `Inspector: ${basename(runDir)}`,
      vscode.ViewColumn.Active,
      webviewOptions(extensionUri, [runDir]),
    );
    return new InspectorPanel(panel, extensionUri, runDir, onDispose);
  }

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    readonly runDir: string,
    onDispose: () => void,
  ) {
    panel.title = `Inspector: ${basename(runDir)}`;
    const shown = new Promise<void>((resolve) => (this.markShown = resolve));
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `L3M: opening the inspector of ${basename(runDir)}…` },
      () => shown,
    );
    const page = join(extensionUri.fsPath, 'dist', 'webview', 'inspector.js');
    if (!existsSync(page))
      void vscode.window.showErrorMessage(
        `L3M: the inspector cannot open: its page ${page} is missing. Rebuild the extension (npm run build) or reinstall it.`,
      );
    this.sidecarScript = join(extensionUri.fsPath, 'dist', 'sidecar.js');
    this.channel = new PanelChannel(panel, 'inspector', extensionUri, {
      onReady: () => this.sendInit(),
      onMessage: async (message) => {
        if (message.type === 'inspector/loadSample') {
          this.channel.post(await inspectorSample(runDir, this.samples, message.index));
          this.markShown();
        }
      },
      exportDir: () => runDir,
    });
    this.channel.setRunDirs([runDir]);
    // New samples or a new evaluation: send the index again (the page keeps its slice and view).
    this.watcher = watch([join(runDir, 'samples', 'index.json'), join(runDir, 'eval', 'regression.json')], {
      ignoreInitial: true,
      atomic: true,
    });
    this.watcher.on('add', () => void this.sendInit()).on('change', () => void this.sendInit());
    // Trusted now: the true slices that were withheld can be read.
    this.trustGranted = vscode.workspace.onDidGrantWorkspaceTrust(() => void this.sendInit());
    panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    });
  }

  dispose(): void {
    this.markShown();
    this.closed.abort();
    void this.watcher?.close();
    this.watcher = null;
    this.trustGranted.dispose();
    this.channel.dispose();
  }

  private async sendInit(): Promise<void> {
    try {
      const init = await inspectorInit(this.runDir);
      this.samples = init.samples;
      this.channel.post(init);
      if (init.regression && !init.samples) this.markShown();
      if (!init.samples) await this.sendDataPreview();
    } catch (error) {
      // The page shows the reason where the slices would be; the notification says it once more.
      const reason = `The inspector could not read the run folder ${this.runDir}: ${errorMessage(error)}`;
      const nothing: InspectorDataPreview = {
        type: 'inspector/dataPreview',
        lightcone: '',
        slices: [],
        redshifts: null,
        shape: [0, 0, 0],
        data: null,
        problems: [reason],
      };
      this.channel.post(nothing);
      void vscode.window.showErrorMessage(`L3M: ${reason}`);
    } finally {
      if (this.samples === null) this.markShown();
    }
  }

  /** No samples yet: true slices of the run's dataset, through `l3m data` (data_preview.ts). */
  private async sendDataPreview(): Promise<void> {
    let problem: string | null = null;
    if (vscode.workspace.isTrusted) {
      const workspaceFolders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
      this.preview ??= ensureDataPreview(
        this.runDir,
        sidecarCommand(this.sidecarScript),
        workspaceFolders,
        undefined,
        this.closed.signal,
      );
      problem = await this.preview;
    } else if (!(await hasDataPreview(this.runDir))) {
      problem = untrustedPreviewProblem;
    }
    if (this.samples || this.closed.signal.aborted) return; // samples arrived meanwhile (the page shows those), or nobody is looking
    const message = await readDataPreview(this.runDir);
    // Without a preview the reader's "index.json: missing" says nothing the trust message does not.
    if (problem === untrustedPreviewProblem) message.problems = [problem];
    else if (problem) message.problems.unshift(problem);
    this.channel.post(message);
  }
}
