/**
 * The `hrmLens.*` settings (package.json contributes.configuration), read in one place. Values are checked and
 * clamped here, so that callers get a well-formed object whatever the user typed into settings.json.
 *
 *   hrmLens.backend             auto | wasm | cpu | tensorflow | webgpu (passed to `train`, the engine's only
 *                               request that takes one; the engine picks its backend once per process)
 *   hrmLens.threads             wasm threads (0 = the engine's default; see engine/backend.ts)
 *   hrmLens.defaultCheckpoint   offered first when a checkpoint is picked ('' = none)
 *   hrmLens.runsFolder          where training runs live, relative to the first workspace folder (or absolute)
 *   hrmLens.segments            segments for Inspect/Evaluate from the Runs tree (0 = the model's own)
 *   hrmLens.capture.*           what the inspector records per segment (read by the inspector panel)
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendName } from '../engine/protocol';

export const SECTION = 'hrmLens';

const BACKENDS: readonly BackendName[] = ['auto', 'wasm', 'cpu', 'tensorflow', 'webgpu'];

export interface CaptureSettings {
  /** Record attention maps of every layer and segment (large for 9×9). */
  attentionMaps: boolean;
  /** Record the hidden states zH/zL per segment (for trajectories and residuals). */
  hiddenStates: boolean;
}

export interface HrmLensSettings {
  backend: BackendName;
  /** 0 = the engine's default. */
  threads: number;
  /** An absolute path, or '' for none. */
  defaultCheckpoint: string;
  /** As written in the setting (default `.hrm/runs`). */
  runsFolder: string;
  /** 0 = the model's own segment count. */
  segments: number;
  capture: CaptureSettings;
}

export const DEFAULT_RUNS_FOLDER = '.hrm/runs';

function intIn(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback;
}

/** A path setting resolved against the first workspace folder (absolute paths and `~/` as they are). */
export function resolveSettingPath(p: string): string | undefined {
  const trimmed = p.trim();
  if (!trimmed) return undefined;
  if (trimmed.startsWith('~/')) return path.join(process.env.HOME ?? '', trimmed.slice(2));
  if (path.isAbsolute(trimmed)) return trimmed;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, trimmed) : undefined;
}

/** The current settings. */
export function readSettings(): HrmLensSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const backend = c.get<string>('backend', 'auto');
  const defaultCheckpoint = c.get<string>('defaultCheckpoint', '');
  const runsFolder = c.get<string>('runsFolder', DEFAULT_RUNS_FOLDER);
  return {
    backend: (BACKENDS as readonly string[]).includes(backend) ? (backend as BackendName) : 'auto',
    threads: intIn(c.get('threads'), 0, 256, 0),
    defaultCheckpoint: typeof defaultCheckpoint === 'string' ? (resolveSettingPath(defaultCheckpoint) ?? '') : '',
    runsFolder: typeof runsFolder === 'string' && runsFolder.trim() ? runsFolder.trim() : DEFAULT_RUNS_FOLDER,
    segments: intIn(c.get('segments'), 0, 64, 0),
    capture: {
      attentionMaps: c.get<boolean>('capture.attentionMaps', false) === true,
      hiddenStates: c.get<boolean>('capture.hiddenStates', true) !== false,
    },
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
