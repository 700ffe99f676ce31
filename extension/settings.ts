/**
 * The `hrmLens.*` settings (package.json contributes.configuration), read in one place. Values are checked and
 * clamped here, so that callers get a well-formed object whatever the user typed into settings.json.
 *
 *   hrmLens.backend             auto | wasm | cpu | tensorflow | webgpu (passed to `train`, the engine's only
 *                               request that takes one; the engine picks its backend once per process)
 *   hrmLens.threads             wasm threads (0 = the engine's default; see engine/backend.ts)
 *   hrmLens.defaultCheckpoint   offered first when a checkpoint is picked ('' = none)
 *   hrmLens.runsFolder          where training runs live, relative to the first workspace folder; a value from the
 *                               workspace's settings must lead inside that folder (runs-folder-choice.ts), the
 *                               user's value may be absolute or `~/`
 *   hrmLens.segments            segments for Inspect/Evaluate from the Runs tree (0 = the model's own)
 * Scopes (package.json): backend and threads `machine-overridable` (they describe the machine; a workspace may pick
 * another), the paths and segments `resource`. Path settings are restricted in an untrusted workspace.
 */
import * as vscode from 'vscode';
import type { BackendName } from '../engine/protocol';
import { BACKEND_NAMES as BACKENDS } from '../engine/rpc/backend-names';
import { chooseRunsFolder, resolveSettingPathIn } from './runs-folder-choice';

export { DEFAULT_RUNS_FOLDER } from './runs-folder-choice';

export const SECTION = 'hrmLens';

export interface HrmLensSettings {
  backend: BackendName;
  /** 0 = the engine's default. */
  threads: number;
  /** An absolute path, or '' for none. */
  defaultCheckpoint: string;
  /** As written in the setting that applies (default `.hrm/runs`; a workspace value leading elsewhere is ignored). */
  runsFolder: string;
  /** 0 = the model's own segment count. */
  segments: number;
}

function intIn(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback;
}

/** A path setting resolved against the first workspace folder (absolute paths and `~/` as they are). */
export function resolveSettingPath(p: string): string | undefined {
  return resolveSettingPathIn(p, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, process.env.HOME ?? '');
}

/** Workspace values of hrmLens.runsFolder already warned about (once each). */
const warnedRunsFolders = new Set<string>();

/**
 * The hrmLens.runsFolder value that applies (runs-folder-choice.ts): a workspace or folder value must lead inside the
 * first workspace folder, else it is ignored with a warning (once per value) and the user's value or the default applies.
 */
function effectiveRunsFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const values = vscode.workspace.getConfiguration(SECTION, folder?.uri).inspect<unknown>('runsFolder') ?? {};
  const choice = chooseRunsFolder(values, { workspaceDir: folder?.uri.fsPath, home: process.env.HOME ?? '', trusted: vscode.workspace.isTrusted });
  const ig = choice.ignored;
  if (ig && !warnedRunsFolders.has(`${ig.source}\n${ig.value}`)) {
    warnedRunsFolders.add(`${ig.source}\n${ig.value}`);
    void vscode.window.showWarningMessage(`HRM: the ${ig.source === 'folder' ? 'folder' : 'workspace'} setting hrmLens.runsFolder "${ig.value}" leads outside the workspace folder`
      + `${ig.resolved ? ` (to ${ig.resolved})` : ''}: ignored, runs go to "${choice.value}". A runs folder outside the workspace can be set in the user settings.`);
  }
  return choice.value;
}

/** The current settings. */
export function readSettings(): HrmLensSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const backend = c.get<string>('backend', 'auto');
  const defaultCheckpoint = c.get<string>('defaultCheckpoint', '');
  const runsFolder = effectiveRunsFolder();
  return {
    backend: (BACKENDS as readonly string[]).includes(backend) ? (backend as BackendName) : 'auto',
    threads: intIn(c.get('threads'), 0, 256, 0),
    defaultCheckpoint: typeof defaultCheckpoint === 'string' ? (resolveSettingPath(defaultCheckpoint) ?? '') : '',
    runsFolder,
    segments: intIn(c.get('segments'), 0, 64, 0),
  };
}

/** The runs folder (setting `hrmLens.runsFolder`, default `<first workspace folder>/.hrm/runs`), if there is one. */
export function runsFolderUri(settings: HrmLensSettings = readSettings()): vscode.Uri | undefined {
  const p = resolveSettingPath(settings.runsFolder);
  return p ? vscode.Uri.file(p) : undefined;
}

/** Fires when any hrmLens setting changes. */
export function onDidChangeSettings(listener: (s: HrmLensSettings) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) listener(readSettings());
  });
}
