/**
 * The one gate for paths that come from a webview (a panel's saved state restored after a reload, or a message): a
 * webview is not trusted to name files, so every such path is checked here on the host before it reaches the engine
 * or a command. Allowed: a real path inside a workspace folder, the runs folder (setting hrmLens.runsFolder) or, for
 * checkpoints, the shipped models folder; in an untrusted workspace, no checkpoint inside the workspace (as
 * workspaceCheckpointRefusal). Symbolic links are resolved before the check (path-containment.ts).
 *
 * Users: the inspector (a restored trace's checkpoint, before `landscape`), the training dashboard (a restored run
 * folder; the checkpoint of "inspect-checkpoint", which must lie in the dashboard's own run), the runs comparison (its
 * restored run folders; its messages name none: the CSV export sends row indices). The ensemble panel and
 * the Trajectories view receive no paths from their webviews (exports go through a save dialog; the view sends an
 * index into the host's own list).
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { UNTRUSTED_CHECKPOINT } from '../commands/checkpoints';
import { runsFolderUri } from '../settings';
import { checkPathWithin, isWithin, type PathCheck, type WebviewPathKind } from './path-containment';

export type { PathCheck, WebviewPathKind } from './path-containment';

/** The folders a webview's path of `kind` may lie in. */
export function webviewPathRoots(extensionUri: vscode.Uri, kind: WebviewPathKind): string[] {
  const runs = runsFolderUri()?.fsPath;
  return [
    ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    ...(runs ? [runs] : []),
    ...(kind === 'checkpoint' ? [path.join(extensionUri.fsPath, 'models')] : []),
  ];
}

/**
 * Checks a path a webview sent: inside `within.roots` when given (named `within.name` in the refusal), else inside
 * webviewPathRoots; a checkpoint also against workspace trust. Answers the real path to use, or why not.
 */
export async function checkWebviewPath(value: unknown, kind: WebviewPathKind, extensionUri: vscode.Uri,
  within?: { roots: readonly string[]; name: string }): Promise<PathCheck> {
  const r = await checkPathWithin(value, kind, within?.roots ?? webviewPathRoots(extensionUri, kind),
    within?.name ?? `the workspace, the runs folder${kind === 'checkpoint' ? ' and the shipped models' : ''}`);
  if (!r.ok || kind !== 'checkpoint' || vscode.workspace.isTrusted) return r;
  // Untrusted: no checkpoint of the workspace, compared by real paths (the folder itself may be reached through a link).
  const folders = await Promise.all((vscode.workspace.workspaceFolders ?? []).map((f) => fs.realpath(f.uri.fsPath).catch(() => f.uri.fsPath)));
  return folders.some((f) => isWithin(r.path, f)) ? { ok: false, reason: UNTRUSTED_CHECKPOINT } : r;
}

/** Tells the user why a webview's path was refused (`what`: what the panel asked for). */
export function showPathRefusal(what: string, check: Extract<PathCheck, { ok: false }>): void {
  void vscode.window.showWarningMessage(`HRM: ${what} refused: ${check.reason}`);
}
