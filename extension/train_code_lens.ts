// "▶ Train" at the top of every *.l3m.json, the editor's twin of the Train action in the sidebar.
import * as vscode from 'vscode';

export class TrainCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!document.uri.fsPath.endsWith('.l3m.json')) return [];
    const top = new vscode.Range(0, 0, 0, 0);
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
