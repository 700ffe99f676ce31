/**
 * The "Runs" tree (view `hrmLens.runs` in the HRM activity-bar container): the run folders under the runs folder
 * (setting hrmLens.runsFolder) → their checkpoints. Runs are described by preset, step and data mixing; checkpoints
 * by their exact accuracy from the .eval.json beside them, with a Markdown tooltip of every evaluation set.
 * Refreshed (debounced) by a FileSystemWatcher on the runs folder, by a change of the setting, and by the refresh
 * button; while the view is visible the runs folder is also looked at every few seconds (its and its run folders'
 * modification times), because file events do not always arrive (seen in code-server under load; network drives).
 * Nothing is cached: getChildren reads the folder each time it is asked.
 * Followed reference runs (official-runs.ts, setting hrmLens.officialRunFolders) come first: run → `step_N`
 * checkpoints, newest first, each with its evaluation's state and exact accuracy (official-text.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { onDidChangeSettings, runsFolderUri } from '../settings';
import { accuracyDescription, checkpointTooltip, runDescription, runTooltip } from './checkpoint-text';
import { type CheckpointInfo, type RunInfo, listRuns } from './run-files';
import type { OfficialCheckpointView, OfficialRunsFollower, OfficialRunView } from './official-runs';
import { officialCheckpointItem, officialRunItem } from './official-text';

export type RunsNode =
  | { kind: 'run'; run: RunInfo }
  | { kind: 'checkpoint'; checkpoint: CheckpointInfo; run: RunInfo }
  | { kind: 'officialRun'; run: OfficialRunView }
  | { kind: 'officialCheckpoint'; checkpoint: OfficialCheckpointView; run: OfficialRunView };

/** contextValue of the tree items (package.json menus use them). */
export const RUN_CONTEXT = 'hrmRun';
export const CHECKPOINT_CONTEXT = 'hrmCheckpoint';
export const OFFICIAL_RUN_CONTEXT = 'hrmOfficialRun';
export const OFFICIAL_CHECKPOINT_CONTEXT = 'hrmOfficialCheckpoint';

/** How often the runs folder is looked at while the view is visible (the file watcher's fallback). */
const POLL_MS = 4000;

/**
 * A cheap signature of the runs folder: its modification time and each run folder's name and modification time (a
 * file created, renamed or removed in a folder changes the folder's time). '' when the folder cannot be read.
 */
async function folderSignature(dir: string): Promise<string> {
  try {
    const parts = [String((await fs.stat(dir)).mtimeMs)];
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) parts.push(`${e.name}:${(await fs.stat(path.join(dir, e.name)).catch(() => undefined))?.mtimeMs ?? ''}`);
    }
    return parts.join('|');
  } catch {
    return '';
  }
}

/** What made the Runs tree refresh last. */
export type RunsRefreshCause = 'watcher' | 'poll' | 'settings' | 'explicit';

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  private signature: string | undefined;
  /** What made the tree refresh last (tests and diagnostics). */
  lastRefreshCause: RunsRefreshCause | undefined;

  constructor(private readonly official?: OfficialRunsFollower) {
    this.watch();
    if (official) this.disposables.push(official.onDidChange(() => this.changed.fire(undefined)));
    this.disposables.push(
      onDidChangeSettings(() => { this.watch(); this.refresh('settings'); }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => { this.watch(); this.refresh('settings'); }),
    );
  }

  /** Looks at the runs folder every POLL_MS while on (the view is visible), refreshing when it changed. */
  setPolling(on: boolean): void {
    if (on && !this.poller) {
      this.signature = undefined;
      void this.poll();
      this.poller = setInterval(() => void this.poll(), POLL_MS);
    } else if (!on && this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const folder = this.folder;
      const sig = folder ? await folderSignature(folder.fsPath) : '';
      if (this.signature !== undefined && sig !== this.signature) this.refreshSoon('poll');
      this.signature = sig;
    } finally {
      this.polling = false;
    }
  }

  /** The folder shown (undefined without a workspace folder). */
  get folder(): vscode.Uri | undefined {
    return runsFolderUri();
  }

  /** Re-read everything now. */
  refresh(cause: RunsRefreshCause = 'explicit'): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastRefreshCause = cause;
    this.changed.fire(undefined);
  }

  /** Refresh after file changes have settled (a checkpoint is several files written in quick succession). */
  private refreshSoon(cause: RunsRefreshCause): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(cause), 300);
  }

  private watch(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    const folder = this.folder;
    if (!folder) return;
    // Inside a workspace folder the pattern is relative to it (served by the workspace's own recursive watcher, and
    // valid before the runs folder exists); elsewhere the runs folder itself is watched.
    const ws = vscode.workspace.getWorkspaceFolder(folder);
    const rel = ws ? path.relative(ws.uri.fsPath, folder.fsPath).split(path.sep).join('/') : '';
    const pattern = ws && rel && !rel.startsWith('..')
      ? new vscode.RelativePattern(ws, `${rel}/**`)
      : new vscode.RelativePattern(folder, '**');
    const w = vscode.workspace.createFileSystemWatcher(pattern);
    const on = (uri: vscode.Uri) => {
      if (/\.(safetensors|json)$/.test(uri.fsPath) || !path.extname(uri.fsPath)) this.refreshSoon('watcher');
    };
    w.onDidCreate(on);
    w.onDidChange(on);
    w.onDidDelete(on);
    this.watcher = w;
  }

  async getChildren(element?: RunsNode): Promise<RunsNode[]> {
    if (element?.kind === 'checkpoint' || element?.kind === 'officialCheckpoint') return [];
    if (element?.kind === 'run') return element.run.checkpoints.map((checkpoint) => ({ kind: 'checkpoint', checkpoint, run: element.run }));
    if (element?.kind === 'officialRun') {
      // The newest look: a node handed out earlier may hold an older state.
      const run = this.official?.runs.find((r) => r.dir === element.run.dir) ?? element.run;
      return run.checkpoints.map((checkpoint) => ({ kind: 'officialCheckpoint', checkpoint, run }));
    }
    const official: RunsNode[] = (this.official?.runs ?? []).map((run) => ({ kind: 'officialRun', run }));
    const folder = this.folder;
    if (!folder) return official;
    return [...official, ...(await listRuns(folder.fsPath)).map((run): RunsNode => ({ kind: 'run', run }))];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'officialRun') return officialRunItem(node.run, OFFICIAL_RUN_CONTEXT);
    if (node.kind === 'officialCheckpoint') return officialCheckpointItem(node.checkpoint, OFFICIAL_CHECKPOINT_CONTEXT);
    if (node.kind === 'run') {
      const item = new vscode.TreeItem(node.run.name, node.run.checkpoints.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `run:${node.run.dir}`;
      item.description = runDescription(node.run);
      item.tooltip = runTooltip(node.run);
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.contextValue = RUN_CONTEXT;
      item.resourceUri = vscode.Uri.file(node.run.dir);
      return item;
    }
    const c = node.checkpoint;
    const item = new vscode.TreeItem(path.basename(c.file, '.safetensors'), vscode.TreeItemCollapsibleState.None);
    item.id = `checkpoint:${c.file}`;
    item.description = accuracyDescription(c);
    item.tooltip = checkpointTooltip(c);
    item.iconPath = new vscode.ThemeIcon(c.evaluation ? 'pass' : 'circle-outline');
    item.contextValue = CHECKPOINT_CONTEXT;
    item.resourceUri = vscode.Uri.file(c.file);
    return item;
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.kind === 'officialCheckpoint') return { kind: 'officialRun', run: node.run };
    return node.kind === 'checkpoint' ? { kind: 'run', run: node.run } : undefined;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.setPolling(false);
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
