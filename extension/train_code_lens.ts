// "▶ Train" at the top of every *.l3m.json, and "▶ Run Sweep" at the top of every *.l3m-sweep.json:
// the editor's twins of the Train and Run Sweep actions in the sidebar.
import * as vscode from 'vscode';

export class TrainCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    if (document.uri.fsPath.endsWith('.l3m-sweep.json'))
      return [
        new vscode.CodeLens(top, {
          title: '▶ Run Sweep',
          tooltip: 'Run every run of this sweep (the executor is the file’s, or the l3m.executor setting)',
          command: 'l3m.runSweep',
          arguments: [document.uri],
        }),
      ];
    if (!document.uri.fsPath.endsWith('.l3m.json')) return [];
    return [
      new vscode.CodeLens(top, {
        title: '▶ Train',
        tooltip: 'Train this experiment in the L3M sidecar',
        command: 'l3m.train',
        arguments: [document.uri],
      }),
    ];
  }
}
