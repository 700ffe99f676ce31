/**
 * Wires the engine into the extension: one EngineClient per activation (disposed with the extension), and the
 * commands "HRM: Restart Engine" (hrmLens.restartEngine) and "HRM: Show Log" (hrmLens.showLog).
 */
import * as vscode from 'vscode';
import { EngineClient } from './engine-client';
import { readSettings } from '../settings';
import { boundedMessage } from '../../engine/util/errors';

/** HRM_LENS_BACKEND / HRM_LENS_THREADS for a new engine process, from the settings (unset = the engine's defaults). */
export function engineEnv(): Record<string, string> {
  const s = readSettings();
  const env: Record<string, string> = {};
  if (s.backend !== 'auto') env.HRM_LENS_BACKEND = s.backend;
  if (s.threads > 0) env.HRM_LENS_THREADS = String(s.threads);
  return env;
}

export function registerEngine(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): EngineClient {
  // Settings that shape the process (backend, wasm threads) are read at each fork: change them, then Restart Engine.
  const client = new EngineClient({ extensionPath: context.extensionPath, log, env: engineEnv });
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
        const choice = await vscode.window.showErrorMessage(`HRM Lens engine: ${boundedMessage(e)}`, 'Show Log');
        if (choice) log.show(true);
      }
    }),
    vscode.commands.registerCommand('hrmLens.showLog', () => log.show()),
  );
  return client;
}
