/**
 * Adding and removing followed reference run folders (setting hrmLens.officialRunFolders): "HRM: Follow Official Run
 * Folder…" adds a folder to the user's settings (a folder of another machine's paths does not belong in a shared
 * workspace file); "Stop Following" removes the folder from every settings level that lists it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SECTION, resolveSettingPath } from '../settings';

const KEY = 'officialRunFolders';

const listOf = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Follow `folder` (or one chosen in a folder dialog). Returns the folder followed, or undefined when none was chosen. */
export async function followOfficialRunFolder(folder?: string): Promise<string | undefined> {
  const dir = folder ?? (await vscode.window.showOpenDialog({
    canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Follow this run folder',
    title: 'HRM: Follow Official Run Folder — a folder of step_N checkpoints (with all_config.yaml), or a folder of such run folders',
  }))?.[0]?.fsPath;
  if (!dir) return undefined;
  const abs = path.resolve(dir);
  const config = vscode.workspace.getConfiguration(SECTION);
  const current = listOf(config.inspect<unknown>(KEY)?.globalValue);
  if (!current.some((p) => resolveSettingPath(p) === abs)) await config.update(KEY, [...current, abs], vscode.ConfigurationTarget.Global);
  return abs;
}

/** Stop following `folder` (or one picked among `followed`). Returns the folder, or undefined when none was chosen. */
export async function unfollowOfficialRunFolder(folder: string | undefined, followed: readonly string[]): Promise<string | undefined> {
  const dir = folder ?? (await vscode.window.showQuickPick([...followed], { title: 'HRM: Stop Following Official Run Folder' }));
  if (!dir) return undefined;
  const abs = path.resolve(dir);
  // A workspace folder's value is updated through a configuration scoped to that folder.
  const config = vscode.workspace.getConfiguration(SECTION, vscode.workspace.workspaceFolders?.[0]?.uri);
  const values = config.inspect<unknown>(KEY);
  const targets: [unknown, vscode.ConfigurationTarget][] = [
    [values?.globalValue, vscode.ConfigurationTarget.Global],
    [values?.workspaceValue, vscode.ConfigurationTarget.Workspace],
    [values?.workspaceFolderValue, vscode.ConfigurationTarget.WorkspaceFolder],
  ];
  for (const [value, target] of targets) {
    const list = listOf(value);
    const kept = list.filter((p) => resolveSettingPath(p) !== abs);
    if (kept.length !== list.length) await config.update(KEY, kept.length ? kept : undefined, target);
  }
  return abs;
}
