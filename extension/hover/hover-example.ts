/**
 * "HRM: Show a Checkpoint Path to Hover" (the walkthrough's hover step): an untitled Markdown document naming the
 * shipped model and the newest checkpoints of the runs folder, the cursor on the first path and its hover shown.
 */
import * as vscode from 'vscode';
import { runsFolderUri } from '../settings';
import { listRuns } from '../views/run-files';

const RUN_CHECKPOINTS = 3;

export function registerHoverExample(shipped: string): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.showHoverExample', async (): Promise<vscode.TextEditor> => {
    const runs = runsFolderUri();
    const newest = (runs ? await listRuns(runs.fsPath) : []).flatMap((r) => r.checkpoints.slice(0, 1).map((c) => c.file)).slice(0, RUN_CHECKPOINTS);
    const lines = [
      '# Checkpoints', '',
      'Hover a path ending in `.safetensors`: accuracy, step and training settings of the checkpoint.', '',
      `- the shipped model: ${shipped}`,
      ...newest.map((f) => `- ${vscode.workspace.asRelativePath(f)}`),
      '',
    ];
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') });
    const editor = await vscode.window.showTextDocument(doc);
    const line = lines.findIndex((l) => l.includes(shipped));
    const at = new vscode.Position(line, lines[line].indexOf(shipped) + 1);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at));
    await vscode.commands.executeCommand('editor.action.showHover');
    return editor;
  });
}
