/**
 * Choosing a checkpoint: a quick pick of the setting hrmLens.defaultCheckpoint (when set), the caller's extra items,
 * the shipped models (views/shipped-models.ts: grid size, preset and held-out accuracy in the item), the HRM Lens
 * checkpoints under the runs folder (setting hrmLens.runsFolder, default `<workspace>/.hrm/runs`; newest first) and
 * elsewhere in the workspace, plus "Browse…" (a file dialog). Only HRM Lens checkpoints are offered (their safetensors
 * header says so: views/checkpoint-header.ts), and, for a puzzle, only those of its grid size; when none fits, the
 * pick says so and offers to train one. Workspace checkpoints are loaded
 * only in a trusted workspace (`workspaceCheckpointRefusal`); `checkpointRefusal` is every check a command makes
 * before it hands a file to the engine.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings, runsFolderUri } from '../settings';
import type { CheckpointCatalog } from '../views/checkpoint-catalog';
import { notCheckpointMessage } from '../views/checkpoint-header';
import { isCheckpointFile } from '../views/run-files';
import { type ShippedModel, shippedModelDescription, shippedModelDetail, shippedModelLabel } from '../views/shipped-models';
import { refuse } from './refusals';
import { TRAIN_PRESETS } from './train-presets';

/** The refusal of a workspace checkpoint in an untrusted workspace. */
export const UNTRUSTED_CHECKPOINT = 'HRM Lens loads checkpoints from the workspace only when the workspace is trusted (a checkpoint is code-like input to the engine). Trust the workspace to continue.';

export type GridSide = 4 | 6 | 9;

/** Why a checkpoint may not be loaded (a workspace file in an untrusted workspace), or undefined when it may. */
export function workspaceCheckpointRefusal(file: string): string | undefined {
  if (vscode.workspace.isTrusted) return undefined;
  const inside = (vscode.workspace.workspaceFolders ?? []).some((f) => {
    const rel = path.relative(f.uri.fsPath, file);
    return !rel.startsWith('..') && !path.isAbsolute(rel);
  });
  return inside || !path.isAbsolute(file) ? UNTRUSTED_CHECKPOINT : undefined;
}

/** The preset that trains a model of this grid size (train-presets.ts). */
export function presetForSide(side: GridSide): string {
  return TRAIN_PRESETS.find((p) => p.name.endsWith(`-${side}x${side}`))?.name ?? TRAIN_PRESETS[0].name;
}

const sideText = (side: GridSide): string => `${side}×${side}`;

/**
 * Why `file` may not be handed to the engine, or undefined when it may: a workspace file in an untrusted workspace,
 * a file that is not an HRM Lens checkpoint, or (with `side`) a checkpoint of another grid size than the puzzle's.
 */
export async function checkpointRefusal(catalog: CheckpointCatalog, file: string, side?: GridSide): Promise<string | undefined> {
  const untrusted = workspaceCheckpointRefusal(file);
  if (untrusted) return untrusted;
  const kind = await catalog.kindOf(file);
  if (!kind.hrm) return notCheckpointMessage(file, kind.why);
  const g = side === undefined ? undefined : await catalog.gridSizeOf(file);
  if (side !== undefined && g !== undefined && g !== side) {
    const shipped = (await catalog.shippedModels(side)).map((m) => m.name);
    const names = shipped.length > 1 ? `${shipped.slice(0, -1).join(', ')} or ${shipped[shipped.length - 1]}` : shipped[0];
    const use = names ? `the shipped ${names}, or HRM: Train, preset ${presetForSide(side)}` : `HRM: Train, preset ${presetForSide(side)}`;
    return `HRM: ${path.basename(file)} is a ${sideText(g)} checkpoint and the puzzle is ${sideText(side)}: use a ${sideText(side)} checkpoint (${use}).`;
  }
  return undefined;
}

/** The runs folder (setting hrmLens.runsFolder, relative to the first workspace folder), if any. */
export function runsFolder(): vscode.Uri | undefined {
  return runsFolderUri();
}

export interface CheckpointItem extends vscode.QuickPickItem {
  file?: string;
  train?: boolean;
}

/** What the last checkpoint pick offered (the in-host tests read it; the quick pick's items are not readable). */
export interface CheckpointChoices {
  title: string;
  side: GridSide | undefined;
  files: string[];
  /** The line shown when no checkpoint fits. */
  notice: string | undefined;
}

let lastChoices: CheckpointChoices | undefined;

export function lastCheckpointChoices(): CheckpointChoices | undefined {
  return lastChoices;
}

/** The quick-pick item of a shipped model: name, grid size, preset and held-out accuracy. */
export function shippedModelItem(m: ShippedModel): CheckpointItem {
  return { label: shippedModelLabel(m), description: shippedModelDescription(m), detail: shippedModelDetail(m), file: m.file };
}

/** The message of a pick without a checkpoint of the puzzle's size. */
export function noCheckpointNotice(side: GridSide): string {
  return `No ${sideText(side)} checkpoint: train one with HRM: Train (preset ${presetForSide(side)})`;
}

/**
 * Quick pick of `extra` items, the shipped models, the workspace's HRM Lens checkpoints (trusted workspaces only) and
 * "Browse…"; with `side`, only checkpoints of that grid size. Undefined when dismissed, or when the file browsed to is
 * refused.
 */
export async function pickCheckpoint(catalog: CheckpointCatalog, title: string, extra: CheckpointItem[] = [], side?: GridSide): Promise<string | undefined> {
  const fits = async (file: string): Promise<boolean> => (side === undefined ? (await catalog.kindOf(file)).hrm : (await catalog.gridSizeOf(file)) === side);
  const fittingExtra: CheckpointItem[] = [];
  for (const e of extra) if (!e.file || (await fits(e.file))) fittingExtra.push(e);
  const extraFiles = new Set(fittingExtra.map((e) => e.file));
  // Their header gave the grid size when they were read: no second read.
  for (const m of await catalog.shippedModels(side)) if (!extraFiles.has(m.file)) fittingExtra.push(shippedModelItem(m));
  if (!vscode.workspace.isTrusted && fittingExtra.length === 0) return refuse(UNTRUSTED_CHECKPOINT);
  const runs = runsFolder();
  const files = new Set<string>();
  if (vscode.workspace.isTrusted) {
    if (runs) {
      for (const u of await vscode.workspace.findFiles(new vscode.RelativePattern(runs, '**/*.safetensors'), '**/node_modules/**', 500)) files.add(u.fsPath);
    }
    for (const f of catalog.files) if (!catalog.isShipped(f)) files.add(f);
  }
  const taken = new Set(fittingExtra.map((e) => e.file));
  const found: { file: string; mtime: number }[] = [];
  for (const file of files) {
    if (!isCheckpointFile(file) || taken.has(file) || !(await fits(file))) continue;
    const mtime = await vscode.workspace.fs.stat(vscode.Uri.file(file)).then((s) => s.mtime, () => undefined);
    if (mtime !== undefined) found.push({ file, mtime });
  }
  found.sort((a, b) => b.mtime - a.mtime);
  const def = readSettings().defaultCheckpoint;
  const defaultItem: CheckpointItem[] = def && !taken.has(def) && !files.has(def) && !workspaceCheckpointRefusal(def) && (await fits(def))
    ? [{ label: `$(star) ${path.basename(def)}`, description: 'hrmLens.defaultCheckpoint', detail: def, file: def }]
    : [];
  const offered: CheckpointItem[] = [
    ...defaultItem,
    ...fittingExtra,
    ...found.map(({ file, mtime }) => ({ label: path.basename(file), description: vscode.workspace.asRelativePath(path.dirname(file)), detail: new Date(mtime).toLocaleString(), file })),
  ];
  const notice = side !== undefined && offered.length === 0 ? noCheckpointNotice(side) : undefined;
  const items: CheckpointItem[] = [
    ...offered,
    ...(notice && side !== undefined ? [{ label: `$(info) ${notice}`, detail: 'Pick this to start HRM: Train, or browse for a checkpoint file.', train: true, alwaysShow: true }] : []),
    { label: '$(folder-opened) Browse…', alwaysShow: true },
  ];
  const fullTitle = notice ? `${title} — ${notice}` : title;
  lastChoices = { title: fullTitle, side, files: offered.flatMap((i) => (i.file ? [i.file] : [])), notice };
  const picked = await vscode.window.showQuickPick(items, { title: fullTitle, placeHolder: side ? `a ${sideText(side)} checkpoint (.safetensors)` : 'a checkpoint (.safetensors)', matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.file) return picked.file;
  if (picked.train) {
    void vscode.commands.executeCommand('hrmLens.train');
    return undefined;
  }
  const chosen = (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this checkpoint', filters: { Checkpoints: ['safetensors'] }, defaultUri: runs }))?.[0]?.fsPath;
  if (!chosen) return undefined;
  const why = await checkpointRefusal(catalog, chosen, side);
  return why ? refuse(why) : chosen;
}
