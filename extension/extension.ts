/**
 * HRM Lens extension entry point. VS Code glue only: every number shown comes from the engine process.
 * Activation is cheap: nothing starts until a command needs the engine (extension/engine/engine-client.ts).
 */
import * as vscode from 'vscode';
import type { EngineTestApi } from './engine/engine-client';
import { registerEngine } from './engine/engine-commands';
import { registerInspectPuzzle } from './commands/inspect-puzzle';
import { registerEvaluateCheckpoint } from './commands/evaluate-checkpoint';
import { registerResultDocuments } from './commands/result-document';
import { registerTrain } from './commands/train';
import { TrainingStatusBar } from './status-bar';

/** activate()'s return value: a small API for the in-host tests. */
export interface HrmLensApi {
  /** The engine client, plus stop() so that a suite can leave the engine stopped for the next one. */
  engine: EngineTestApi & { stop(): Promise<void> };
}

export function activate(context: vscode.ExtensionContext): HrmLensApi {
  const log = vscode.window.createOutputChannel('HRM Lens', { log: true });
  context.subscriptions.push(log);
  log.info('HRM Lens activated');
  const engine = registerEngine(context, log);
  const docs = registerResultDocuments(context);
  const trainingStatus = new TrainingStatusBar();
  context.subscriptions.push(
    trainingStatus,
    registerInspectPuzzle(context, engine, docs),
    registerTrain(engine, trainingStatus),
    registerEvaluateCheckpoint(context, engine),
  );
  context.subscriptions.push(
    vscode.commands.registerCommand('hrmLens.showInfo', async () => {
      const version = String(context.extension.packageJSON.version ?? '?');
      await vscode.window.showInformationMessage(`HRM Lens ${version}: the engine starts on first use.`);
    }),
  );
  return { engine: { ...engine.testApi(), stop: () => engine.stop() } };
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code (the engine client ends its process).
}
