// The Queue section's commands: Move Up and Move Down reorder a waiting run in the sidecar's queue
// (queue/move), Cancel takes a waiting run out of it or stops the running one (run/cancel). A resumed
// run cancelled while it waits keeps its cancelled or failed run.json.
import * as vscode from 'vscode';
import type { SidecarClient } from './sidecar_client';
import { QueueItem } from './queue_items';
import { describeSidecarError, requireTrust } from './run_commands';

async function move(client: SidecarClient, clicked: unknown, offset: number): Promise<void> {
  if (!(clicked instanceof QueueItem)) {
    void vscode.window.showInformationMessage(
      'L3M: choose a waiting run in the Queue section of the Runs view to move.',
    );
    return;
  }
  try {
    await client.moveInQueue(clicked.row.runDir, offset);
  } catch (error) {
    void vscode.window.showErrorMessage(`L3M: could not move ${clicked.row.runId}: ${describeSidecarError(error)}`);
  }
}

export function registerQueueCommands(context: vscode.ExtensionContext, client: SidecarClient): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('l3m.queue.moveUp', (clicked: unknown) => move(client, clicked, -1)),
    vscode.commands.registerCommand('l3m.queue.moveDown', (clicked: unknown) => move(client, clicked, 1)),
    vscode.commands.registerCommand('l3m.queue.cancel', async (clicked: unknown) => {
      if (!(clicked instanceof QueueItem)) {
        void vscode.window.showInformationMessage('L3M: choose a run in the Queue section of the Runs view to cancel.');
        return;
      }
      if (!(await requireTrust('cancel a run', "cancelling signals the process that the run's run.json names"))) return;
      try {
        await client.cancelRun(clicked.row.runDir);
      } catch (error) {
        void vscode.window.showErrorMessage(
          `L3M: could not cancel ${clicked.row.runId}: ${describeSidecarError(error)}`,
        );
      }
    }),
  );
}
