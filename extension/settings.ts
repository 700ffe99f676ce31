/**
 * The `hrmLens.*` settings (package.json contributes.configuration), read in one place. Values are checked and
 * clamped here, so that callers get a well-formed object whatever the user typed into settings.json.
 *
 *   hrmLens.backend             auto | wasm | cpu | tensorflow | webgpu (passed to `train`, the engine's only
 *                               request that takes one; the engine picks its backend once per process) | torch
 *                               (the analyses' requests carry `torch`: torchRequest(); the TF.js backend stays auto)
 *   hrmLens.pythonPath          the interpreter of the PyTorch worker ('' = the engine's search,
 *                               engine/torch/python-discovery.ts); `machine` scope, read from the user's settings only
 *   hrmLens.threads             wasm threads (0 = the engine's default; see engine/backend.ts)
 *   hrmLens.defaultCheckpoint   offered first when a checkpoint is picked ('' = none)
 *   hrmLens.runsFolder          where training runs live, relative to the first workspace folder; a value from the
 *                               workspace's settings must lead inside that folder (runs-folder-choice.ts), the
 *                               user's value may be absolute or `~/`
 *   hrmLens.segments            segments for Inspect/Evaluate from the Runs tree (0 = the model's own)
 *   hrmLens.officialRunFolders  reference trainers' run folders followed in the Runs tree (views/official-runs.ts)
 *   hrmLens.officialRunEvalPuzzles / hrmLens.officialRunEvalData   the evaluation of their checkpoints: generated
 *                               puzzles of the model's grid size, or the first rows of a dataset file
 * Scopes (package.json): backend, threads and the official run folders and data `machine-overridable` (they describe
 * the machine; a workspace may pick another), the other paths and segments `resource`, the evaluation's puzzles
 * `window`, pythonPath `machine`. Path settings are restricted in an untrusted workspace; there the PyTorch backend
 * is not used at all (pythonPath ignored, hrmLens.backend torch falls back to auto with a warning).
 */
import * as vscode from 'vscode';
import type { BackendName } from '../engine/protocol';
import { BACKEND_NAMES as BACKENDS, TORCH_BACKEND } from '../engine/rpc/backend-names';
import type { TorchParams } from '../engine/torch/torch-protocol';
import { chooseRunsFolder, resolveSettingPathIn } from './runs-folder-choice';

export { DEFAULT_RUNS_FOLDER } from './runs-folder-choice';

export const SECTION = 'hrmLens';

export interface HrmLensSettings {
  /** The TF.js backend (hrmLens.backend, `auto` when it is torch). */
  backend: BackendName;
  /** hrmLens.backend is torch and the workspace is trusted: the analyses run on the PyTorch worker. */
  torch: boolean;
  /** The PyTorch worker's interpreter from the user's (machine) settings, '' for none or in an untrusted workspace. */
  pythonPath: string;
  /** 0 = the engine's default. */
  threads: number;
  /** An absolute path, or '' for none. */
  defaultCheckpoint: string;
  /** As written in the setting that applies (default `.hrm/runs`; a workspace value leading elsewhere is ignored). */
  runsFolder: string;
  /** 0 = the model's own segment count. */
  segments: number;
  /** Followed reference run folders, absolute, without duplicates. */
  officialRunFolders: string[];
  /** Puzzles of the evaluation of a followed checkpoint. */
  officialRunEvalPuzzles: number;
  /** A dataset file for that evaluation (absolute), or '' for generated puzzles. */
  officialRunEvalData: string;
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
  const trusted = vscode.workspace.isTrusted;
  return {
    backend: (BACKENDS as readonly string[]).includes(backend) ? (backend as BackendName) : 'auto',
    torch: backend === TORCH_BACKEND && trusted,
    pythonPath: trusted ? userPythonPath(c.inspect<unknown>('pythonPath')) : '',
    threads: intIn(c.get('threads'), 0, 256, 0),
    defaultCheckpoint: typeof defaultCheckpoint === 'string' ? (resolveSettingPath(defaultCheckpoint) ?? '') : '',
    runsFolder,
    segments: intIn(c.get('segments'), 0, 64, 0),
    officialRunFolders: officialRunFolders(c.get<unknown>('officialRunFolders')),
    officialRunEvalPuzzles: intIn(c.get('officialRunEvalPuzzles'), 1, 100_000, 100),
    officialRunEvalData: (() => { const d = c.get<unknown>('officialRunEvalData'); return typeof d === 'string' ? (resolveSettingPath(d) ?? '') : ''; })(),
  };
}

/**
 * hrmLens.pythonPath from the user's settings only (`machine` scope: VS Code ignores a workspace value; so does this),
 * `~/` expanded; a bare command name (python3.12) stays one, found on PATH by the engine.
 */
function userPythonPath(v: { globalValue?: unknown } | undefined): string {
  const p = v?.globalValue;
  if (typeof p !== 'string' || p.trim() === '' || p.includes('\0')) return '';
  const t = p.trim();
  return t.startsWith('~/') ? `${process.env.HOME ?? ''}${t.slice(1)}` : t;
}

let warnedUntrustedTorch = false;

/**
 * The `torch` parameter of an analysis request (inspect, inspect.strip, probe, ensemble, landscape, and the kicks
 * and patches of intervene.*): present when hrmLens.backend is torch in a trusted workspace. In an untrusted workspace
 * torch is not used: a warning (once), and the request runs on TF.js.
 */
export function torchRequest(settings: HrmLensSettings = readSettings()): { torch?: TorchParams } {
  if (settings.torch) return { torch: settings.pythonPath ? { python: settings.pythonPath } : {} };
  if (!vscode.workspace.isTrusted && vscode.workspace.getConfiguration(SECTION).get<string>('backend') === TORCH_BACKEND && !warnedUntrustedTorch) {
    warnedUntrustedTorch = true;
    void vscode.window.showWarningMessage('HRM: hrmLens.backend is "torch", but the PyTorch worker (and hrmLens.pythonPath) is not used in an untrusted workspace: the analyses run on TF.js. Trust the workspace to use it.');
  }
  return {};
}

/** The folders of hrmLens.officialRunFolders, resolved (relative: to the first workspace folder), each once. */
function officialRunFolders(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const p of v.slice(0, 64)) {
    const r = typeof p === 'string' ? resolveSettingPath(p) : undefined;
    if (r && !out.includes(r)) out.push(r);
  }
  return out;
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
