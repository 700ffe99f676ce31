/**
 * Choosing a checkpoint: a quick pick of the setting hrmLens.defaultCheckpoint (when set), the *.safetensors under
 * the runs folder (setting hrmLens.runsFolder, default `<workspace>/.hrm/runs`; newest first) plus "Browse…" (a file
 * dialog). Workspace checkpoints are loaded only in a trusted workspace (`workspaceCheckpointRefusal`).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings, runsFolderUri } from '../settings';

/** Why a checkpoint may not be loaded (a workspace file in an untrusted workspace), or undefined when it may. */
export function workspaceCheckpointRefusal(file: string): string | undefined {
  if (vscode.workspace.isTrusted) return undefined;
  const inside = (vscode.workspace.workspaceFolders ?? []).some((f) => {
    const rel = path.relative(f.uri.fsPath, file);
    return !rel.startsWith('..') && !path.isAbsolute(rel);
  });
  return inside || !path.isAbsolute(file)
    ? 'HRM Lens loads checkpoints from the workspace only when the workspace is trusted (a checkpoint is code-like input to the engine). Trust the workspace to continue.'
    : undefined;
}

/** The runs folder (setting hrmLens.runsFolder, relative to the first workspace folder), if any. */
export function runsFolder(): vscode.Uri | undefined {
  return runsFolderUri();
}

export interface CheckpointItem extends vscode.QuickPickItem {
  file?: string;
}

/**
 * Quick pick of `extra` items, the workspace's checkpoints (trusted workspaces only) and "Browse…"; undefined when
 * dismissed. The caller still checks the file with workspaceCheckpointRefusal (Browse… may pick a workspace file).
 */
export async function pickCheckpoint(title: string, extra: CheckpointItem[] = []): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted && extra.length === 0) {
    void vscode.window.showWarningMessage(workspaceCheckpointRefusal('.') ?? 'untrusted workspace');
    return undefined;
  }
  const runs = runsFolder();
  const found = vscode.workspace.isTrusted && runs
    ? (await vscode.workspace.findFiles(new vscode.RelativePattern(runs, '**/*.safetensors'), '**/node_modules/**', 500)).filter((u) => !u.fsPath.endsWith('.optim.safetensors'))
    : [];
  const withTime = await Promise.all(found.map(async (u) => ({ u, mtime: (await vscode.workspace.fs.stat(u)).mtime })));
  withTime.sort((a, b) => b.mtime - a.mtime);
  const def = readSettings().defaultCheckpoint;
  const defaultItem: CheckpointItem[] = def && !extra.some((e) => e.file === def) && (vscode.workspace.isTrusted || !workspaceCheckpointRefusal(def))
    ? [{ label: `$(star) ${path.basename(def)}`, description: 'hrmLens.defaultCheckpoint', detail: def, file: def }]
    : [];
  const items: CheckpointItem[] = [
    ...defaultItem,
    ...extra,
    ...withTime.map(({ u, mtime }) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(path.dirname(u.fsPath)), detail: new Date(mtime).toLocaleString(), file: u.fsPath })),
    { label: '$(folder-opened) Browse…', alwaysShow: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'a checkpoint (.safetensors)', matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.file) return picked.file;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this checkpoint', filters: { Checkpoints: ['safetensors'] }, defaultUri: runsFolder() });
  return chosen?.[0]?.fsPath;
}
