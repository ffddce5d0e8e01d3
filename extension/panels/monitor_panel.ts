// The training monitor's host: one panel per run. It posts the whole metrics.jsonl when the page
// is ready, then what is appended. The file is the single source of truth (docs/design.md#run-folder), so
// records are read from it by a chokidar follower for every run; for runs this extension launched,
// the sidecar's run/metrics notification only makes the follower read at once, which gives the
// stream's latency without the duplicates that mixing two sources would create.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { MetricsFollower } from './metrics_follower';
import { RunRecordFollower } from './run_record_follower';
import { PanelChannel, viewTypes, webviewOptions } from './panel_channel';
import { monitorAppend, monitorInit } from './run_data';
import type { RunRecord } from '../../sidecar/protocol/run_folder';
import type { ProgressLike } from '../../sidecar/protocol/run_stage';

export class MonitorPanel implements vscode.Disposable {
  private follower: MetricsFollower | null = null;
  private record: RunRecordFollower | null = null;
  private appending: Promise<void> = Promise.resolve();
  private readonly channel: PanelChannel;

  /** `column`: the editor group to open in (monitor_column.ts), or 'beside' the active editor. */
  static create(
    extensionUri: vscode.Uri,
    runDir: string,
    onDispose: () => void,
    column: number | 'beside' = 'beside',
  ): MonitorPanel {
    const panel = vscode.window.createWebviewPanel(
      viewTypes.monitor,
      `Monitor: ${basename(runDir)}`,
      { viewColumn: column === 'beside' ? vscode.ViewColumn.Beside : column, preserveFocus: true },
      webviewOptions(extensionUri, [runDir]),
    );
    return new MonitorPanel(panel, extensionUri, runDir, onDispose);
  }

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    readonly runDir: string,
    onDispose: () => void,
  ) {
    panel.title = `Monitor: ${basename(runDir)}`;
    this.channel = new PanelChannel(panel, 'monitor', extensionUri, {
      onReady: () => this.sendAll(),
      exportDir: () => runDir,
    });
    this.channel.setRunDirs([runDir]);
    panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    });
  }

  /** The sidecar wrote metrics for this run: read them now rather than at the next file event. */
  metricsArrived(): void {
    void this.follower?.readAppended();
  }

  runState(record: RunRecord): void {
    this.channel.post({ type: 'run/state', record });
  }

  /** The sidecar's progress of this run (stage, step, throughput, ETA), fresher than run.json's copy. */
  progress(progress: ProgressLike): void {
    this.channel.post({ type: 'run/progress', progress });
  }

  dispose(): void {
    void this.follower?.close();
    this.follower = null;
    this.record?.close();
    this.record = null;
    this.channel.dispose();
  }

  private async sendAll(): Promise<void> {
    await this.follower?.close();
    const { message, bytes } = await monitorInit(this.runDir);
    this.channel.post(message);
    this.follower = new MetricsFollower(this.runDir, bytes, {
      // Chained, so that a batch whose message waits for eval/regression.json is not overtaken.
      onRecords: (records, problems, system) => {
        this.appending = this.appending.then(async () =>
          this.channel.post(await monitorAppend(this.runDir, records, problems, system)),
        );
      },
      onReset: () => void this.sendAll(),
    });
    this.follower.start();
    // A run started elsewhere (a terminal, a cluster) tells its state and stage only through run.json.
    if (!this.record) {
      this.record = new RunRecordFollower(
        this.runDir,
        (record) => this.runState(record),
        (problem) => this.channel.post({ type: 'monitor/append', records: [], problems: [problem] }),
      );
      this.record.start();
    }
  }
}
