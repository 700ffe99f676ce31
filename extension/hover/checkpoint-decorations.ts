/**
 * Explorer decorations of checkpoint files (`*.safetensors`, not the `.optim.safetensors` beside them): a badge with
 * the exact accuracy in whole percent (2 characters at most) and a tooltip with the figures of every evaluation set,
 * read from the .eval.json beside the checkpoint. A FileSystemWatcher on `**\/*.eval.json` updates the decoration
 * when an evaluation is written or removed.
 */
import * as vscode from 'vscode';
import { accuracyBadge, accuracyTooltip, primarySet } from '../views/checkpoint-text';
import { checkpointOfEvalFile, isCheckpointFile, readCheckpointEval } from '../views/run-files';

export class CheckpointDecorationProvider implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri | vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/*.eval.json');

  constructor() {
    const on = (uri: vscode.Uri) => this.changed.fire(vscode.Uri.file(checkpointOfEvalFile(uri.fsPath)));
    this.watcher.onDidCreate(on);
    this.watcher.onDidChange(on);
    this.watcher.onDidDelete(on);
  }

  /** Ask for every checkpoint's decoration again (after an evaluation, or the Runs view's refresh). */
  refresh(): void {
    this.changed.fire(undefined);
  }

  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    if (uri.scheme !== 'file' || !isCheckpointFile(uri.fsPath)) return undefined;
    const evaluation = await readCheckpointEval(uri.fsPath);
    const s = primarySet({ evaluation });
    if (!s) return undefined;
    const d = new vscode.FileDecoration(accuracyBadge(s.exact), accuracyTooltip({ evaluation }));
    d.propagate = false;
    return d;
  }

  dispose(): void {
    this.watcher.dispose();
    this.changed.dispose();
  }
}

export function registerCheckpointDecorations(): { provider: CheckpointDecorationProvider; disposable: vscode.Disposable } {
  const provider = new CheckpointDecorationProvider();
  return { provider, disposable: vscode.Disposable.from(provider, vscode.window.registerFileDecorationProvider(provider)) };
}
