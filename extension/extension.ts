/**
 * HRM Lens extension entry point. VS Code glue only: every number shown comes from the engine process.
 * Activation is cheap: nothing starts until a command needs the engine.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('HRM Lens', { log: true });
  context.subscriptions.push(log);
  log.info('HRM Lens activated');
  context.subscriptions.push(
    vscode.commands.registerCommand('hrmLens.showInfo', async () => {
      const version = String(context.extension.packageJSON.version ?? '?');
      await vscode.window.showInformationMessage(`HRM Lens ${version}: the engine starts on first use.`);
    }),
  );
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
