/**
 * "HRM: Evaluate Checkpoint": a checkpoint (the arguments, or a quick pick of the shipped models, the workspace's
 * runs and "Browse…") and a dataset file (the arguments, or a file dialog) go to the engine's `evaluate`; progress
 * in a cancellable notification; the figures are stored in the checkpoint's .eval.json (under the data file's name)
 * and summarised in a message. A file that is not an HRM Lens checkpoint is refused, and so is a workspace checkpoint
 * in an untrusted workspace. Args: `{ checkpoint, data, segments, limit, save }`. Returns the EvaluateResult.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, type EvaluateResult } from '../../engine/protocol';
import type { EngineClient } from '../engine/engine-client';
import { checkpointRefusal, pickCheckpoint } from './checkpoints';
import { refuse } from './refusals';
import type { CheckpointCatalog } from '../views/checkpoint-catalog';
import { boundedMessage } from '../../engine/util/errors';

export interface EvaluateArgs {
  checkpoint?: string;
  data?: string;
  segments?: number;
  limit?: number;
  /** Name in the .eval.json ('' = the data file's name, the default). */
  save?: string;
}

export function registerEvaluateCheckpoint(engine: EngineClient, catalog: CheckpointCatalog): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.evaluateCheckpoint', async (args: EvaluateArgs = {}): Promise<EvaluateResult | undefined> => {
    const checkpoint = args.checkpoint ?? (await pickCheckpoint(catalog, 'HRM: Evaluate Checkpoint — checkpoint'));
    if (!checkpoint) return undefined;
    const refusal = await checkpointRefusal(catalog, checkpoint);
    if (refusal) return refuse(refusal);
    const data = args.data ?? (await vscode.window.showOpenDialog({
      canSelectMany: false, openLabel: 'Evaluate on this dataset', title: 'HRM: Evaluate Checkpoint — dataset (CSV or one puzzle per line)',
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    }))?.[0]?.fsPath;
    if (!data) return undefined;
    try {
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `HRM: evaluating ${path.basename(checkpoint)} on ${path.basename(data)}`, cancellable: true },
        (progress, token) => {
          let reported = 0;
          return engine.request('evaluate', { checkpoint, data, segments: args.segments, limit: args.limit, save: args.save ?? '' }, {
            token,
            onProgress: ({ done, total }) => {
              const pct = (100 * done) / Math.max(1, total);
              progress.report({ increment: pct - reported, message: `${done}/${total} puzzles` });
              reported = pct;
            },
          });
        },
      );
      const saved = r.savedTo ? `; saved to ${path.basename(r.savedTo)}` : '';
      void vscode.window.showInformationMessage(`HRM: ${path.basename(checkpoint)} on ${path.basename(data)}: exact ${(r.exact * 100).toFixed(1)}%, `
        + `cell ${(r.cell * 100).toFixed(1)}% (${r.puzzles} puzzles, ${r.segments} segments, ${r.seconds.toFixed(1)} s)${saved}`);
      return r;
    } catch (e) {
      if (!isCancelled(e)) void vscode.window.showErrorMessage(`HRM: Evaluate Checkpoint failed: ${boundedMessage(e)}`);
      return undefined;
    }
  });
}
