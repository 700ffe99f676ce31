/**
 * "HRM: Show a Checkpoint Path to Hover" (the walkthrough's hover step): an untitled Markdown document naming the
 * shipped models and the newest checkpoints of the runs folder, the cursor on the first path and its hover shown.
 */
import * as vscode from 'vscode';
import { runsFolderUri } from '../settings';
import type { CheckpointCatalog } from '../views/checkpoint-catalog';
import { listRuns } from '../views/run-files';

const RUN_CHECKPOINTS = 3;

export function registerHoverExample(catalog: CheckpointCatalog): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.showHoverExample', async (): Promise<vscode.TextEditor> => {
    const shipped = (await catalog.shippedModels()).map((m) => m.file);
    const runs = runsFolderUri();
    const newest = (runs ? await listRuns(runs.fsPath) : []).flatMap((r) => r.checkpoints.slice(0, 1).map((c) => c.file)).slice(0, RUN_CHECKPOINTS);
    const lines = [
      '# Checkpoints', '',
      'Hover a path ending in `.safetensors`: accuracy, step and training settings of the checkpoint.', '',
      ...shipped.map((f) => `- a shipped model: ${f}`),
      ...newest.map((f) => `- ${vscode.workspace.asRelativePath(f)}`),
      '',
    ];
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') });
    const editor = await vscode.window.showTextDocument(doc);
    const first = shipped[0] ?? (newest[0] ? vscode.workspace.asRelativePath(newest[0]) : undefined);
    if (first === undefined) return editor;
    const line = lines.findIndex((l) => l.includes(first));
    const at = new vscode.Position(line, lines[line].indexOf(first) + 1);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at));
    await vscode.commands.executeCommand('editor.action.showHover');
    return editor;
  });
}
