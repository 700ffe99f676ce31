/**
 * Wires the engine into the extension: one EngineClient per activation (disposed with the extension), and the
 * commands "HRM: Restart Engine" (hrmLens.restartEngine) and "HRM: Show Log" (hrmLens.showLog).
 */
import * as vscode from 'vscode';
import { EngineClient } from './engine-client';

export function registerEngine(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): EngineClient {
  const client = new EngineClient({ extensionPath: context.extensionPath, log });
  context.subscriptions.push(
    client,
    vscode.commands.registerCommand('hrmLens.restartEngine', async () => {
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Restarting the HRM Lens engine…' },
          () => client.restart(),
        );
        vscode.window.setStatusBarMessage(`HRM Lens engine restarted (pid ${client.pid ?? '?'})`, 4_000);
      } catch (e) {
        const choice = await vscode.window.showErrorMessage(`HRM Lens engine: ${e instanceof Error ? e.message : String(e)}`, 'Show Log');
        if (choice) log.show(true);
      }
    }),
    vscode.commands.registerCommand('hrmLens.showLog', () => log.show()),
  );
  return client;
}
