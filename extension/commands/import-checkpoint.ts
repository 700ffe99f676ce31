/**
 * "HRM: Import Checkpoint": a PyTorch-world checkpoint (sapientinc/HRM `step_N`, TRM, the paper's fork — a
 * torch.save zip — or a PyTorch-layout .safetensors) becomes a native run `<runs folder>/import-<name>` through the
 * engine's `import` method, which never executes code from the file. The all_config.yaml beside the file is used
 * when present. Args: `{ file, config, heads }` (no prompts). Refused in an untrusted workspace. Returns the summary.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImportSummary } from '../../engine/interop/import-protocol';
import type { EngineClient } from '../engine/engine-client';
import { runsFolder } from './checkpoints';
import { refuse } from './refusals';
import { boundedMessage } from '../../engine/util/errors';

export interface ImportArgs {
  file?: string;
  config?: string;
  heads?: number;
}

/** `import-<parent>-<stem>` with only safe characters. */
export function importRunName(file: string): string {
  const stem = path.basename(file).replace(/\.(safetensors|pt|pth|bin|ckpt)$/i, '');
  const parent = path.basename(path.dirname(file));
  return `import-${parent ? `${parent}-` : ''}${stem}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
}

export function registerImportCheckpoint(engine: EngineClient): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.importCheckpoint', async (args: ImportArgs = {}): Promise<ImportSummary | undefined> => {
    if (!vscode.workspace.isTrusted) return refuse('HRM Lens imports checkpoints only in a trusted workspace (the import writes a run into the workspace). Trust the workspace to continue.');
    const runs = runsFolder();
    if (!runs) return refuse('HRM: Import Checkpoint needs an open folder: the imported run is written to its runs folder.');
    const file = args.file ?? (await vscode.window.showOpenDialog({
      canSelectMany: false, openLabel: 'Import this checkpoint', title: 'HRM: Import Checkpoint — a PyTorch checkpoint (torch.save file such as step_26040, or .safetensors)',
    }))?.[0]?.fsPath;
    if (!file) return undefined;
    const out = vscode.Uri.joinPath(runs, importRunName(file)).fsPath;
    try {
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `HRM: importing ${path.basename(file)}` },
        () => engine.request('import', { file, out, config: args.config, heads: args.heads }));
      const notes = r.notes.length ? ` Notes: ${r.notes.join(' ')}` : '';
      void vscode.window.showInformationMessage(`HRM: imported ${r.variant.toUpperCase()} ${r.gridSize}×${r.gridSize} (hidden ${r.hidden}, ${r.numParams.toLocaleString('en-US')} parameters, step ${r.step}) into ${vscode.workspace.asRelativePath(r.dir)}.${notes}`);
      void vscode.commands.executeCommand('hrmLens.runs.refresh').then(undefined, () => undefined);
      return r;
    } catch (e) {
      void vscode.window.showErrorMessage(`HRM: Import Checkpoint failed: ${boundedMessage(e)}`);
      return undefined;
    }
  });
}
