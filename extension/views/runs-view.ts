/**
 * Registers the Runs tree view and its commands:
 *   hrmLens.runs.refresh       the view title's refresh button
 *   hrmLens.runs.inspect       "Inspect with this Checkpoint" → hrmLens.inspectPuzzle { checkpoint, segments? }
 *   hrmLens.runs.evaluate      "Evaluate" → hrmLens.evaluateCheckpoint { checkpoint, segments? }
 *   hrmLens.runs.reveal        "Reveal in Explorer" (the OS file manager where there is one, else VS Code's Explorer)
 *   hrmLens.runs.importOfficial  "Import as HRM Lens Run" on a followed reference checkpoint → hrmLens.importCheckpoint
 *   hrmLens.followOfficialRunFolder     "HRM: Follow Official Run Folder…": a folder (the argument, or a folder dialog)
 *                                       added to the user setting hrmLens.officialRunFolders
 *   hrmLens.unfollowOfficialRunFolder   "Stop Following" on a followed run (or a pick of the followed folders)
 * Each takes a tree node (context menu; a shipped model of the Shipped Models view too), a file Uri, or a path.
 */
import * as vscode from 'vscode';
import { readSettings } from '../settings';
import { RunsTreeProvider, type RunsNode } from './runs-tree';
import type { ModelsNode } from './models-view';
import type { OfficialRunsFollower } from './official-runs';
import { followOfficialRunFolder, unfollowOfficialRunFolder } from './official-settings';

export type RunsTarget = RunsNode | ModelsNode | vscode.Uri | string | { checkpoint?: string; run?: string } | undefined;

/** The file or folder a command was invoked on. */
export function targetPath(t: RunsTarget): string | undefined {
  if (!t) return undefined;
  if (typeof t === 'string') return t;
  if (t instanceof vscode.Uri) return t.fsPath;
  if ('kind' in t) return t.kind === 'run' || t.kind === 'officialRun' ? t.run.dir : t.kind === 'model' ? t.model.file : t.checkpoint.file;
  return t.checkpoint ?? t.run;
}

function segmentsArg(): { segments?: number } {
  const s = readSettings().segments;
  return s > 0 ? { segments: s } : {};
}

export interface RunsView extends vscode.Disposable {
  provider: RunsTreeProvider;
  view: vscode.TreeView<RunsNode>;
}

/** `alsoRefresh`: run by the refresh button and after an evaluation (e.g. the Explorer decorations). */
export function registerRunsView(alsoRefresh: () => void = () => undefined, official?: OfficialRunsFollower): RunsView {
  const provider = new RunsTreeProvider(official);
  const refreshAll = () => { provider.refresh(); alsoRefresh(); };
  // Several runs may be selected: their context menu offers HRM: Compare Runs (panels/compare-panel.ts).
  const view = vscode.window.createTreeView('hrmLens.runs', { treeDataProvider: provider, showCollapseAll: true, canSelectMany: true });
  provider.setPolling(view.visible); // the file watcher's fallback, while the view is on screen
  const needsCheckpoint = async (t: RunsTarget, what: string): Promise<string | undefined> => {
    const file = targetPath(t);
    if (file?.endsWith('.safetensors')) return file;
    void vscode.window.showInformationMessage(`HRM: ${what} needs a checkpoint: use it from a checkpoint in the Runs view.`);
    return undefined;
  };
  const disposables = [
    provider,
    view,
    view.onDidChangeVisibility((e) => provider.setPolling(e.visible)),
    vscode.commands.registerCommand('hrmLens.runs.refresh', () => { official?.retryFailed(); refreshAll(); }),
    vscode.commands.registerCommand('hrmLens.runs.importOfficial', (t: RunsTarget) => {
      const file = targetPath(t);
      return file ? vscode.commands.executeCommand('hrmLens.importCheckpoint', { file }) : undefined;
    }),
    vscode.commands.registerCommand('hrmLens.followOfficialRunFolder', (t?: RunsTarget) => followOfficialRunFolder(targetPath(t))),
    vscode.commands.registerCommand('hrmLens.unfollowOfficialRunFolder', (t?: RunsTarget) =>
      unfollowOfficialRunFolder(t && typeof t === 'object' && 'kind' in t && t.kind === 'officialRun' ? t.run.root : targetPath(t), official?.folders ?? [])),
    vscode.commands.registerCommand('hrmLens.runs.inspect', async (t: RunsTarget) => {
      const checkpoint = await needsCheckpoint(t, 'Inspect with this Checkpoint');
      return checkpoint ? vscode.commands.executeCommand('hrmLens.inspectPuzzle', { checkpoint, ...segmentsArg() }) : undefined;
    }),
    vscode.commands.registerCommand('hrmLens.runs.evaluate', async (t: RunsTarget) => {
      const checkpoint = await needsCheckpoint(t, 'Evaluate');
      if (!checkpoint) return undefined;
      const result = await vscode.commands.executeCommand('hrmLens.evaluateCheckpoint', { checkpoint, ...segmentsArg() });
      refreshAll(); // the file watchers do too; this does not depend on them
      return result;
    }),
    vscode.commands.registerCommand('hrmLens.runs.reveal', async (t: RunsTarget) => {
      const p = targetPath(t);
      if (!p) return;
      const uri = vscode.Uri.file(p);
      // revealFileInOS exists only where there is a desktop; in a browser (code-server) reveal in the Explorer.
      if (vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined) await vscode.commands.executeCommand('revealFileInOS', uri);
      else await vscode.commands.executeCommand('revealInExplorer', uri);
    }),
  ];
  return { provider, view, dispose: () => { for (const d of disposables) d.dispose(); } };
}
