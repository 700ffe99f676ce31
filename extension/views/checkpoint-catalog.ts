/**
 * The HRM Lens checkpoints this window knows of, for the Explorer's context menu (context key
 * hrmLens.checkpointFiles: `when` clauses cannot read a file) and the checkpoint pickers: the shipped models (every
 * HRM Lens checkpoint of the extension's models folder, with its .eval.json: shipped-models.ts), and the
 * `*.safetensors` files of the workspace and of the runs folder whose safetensors header marks them as HRM Lens
 * checkpoints (checkpoint-header.ts; at most MAX_SCANNED files, headers cached by size and modification time).
 * Scanned after activation (not during it), again when a `.safetensors` file is created, changed or deleted, when the
 * settings change and when the Runs view refreshes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CHECKPOINT_FILES, setContextKey } from '../context-keys';
import { onDidChangeSettings, runsFolderUri } from '../settings';
import { type CheckpointKind, readCheckpointKind } from './checkpoint-header';
import { isCheckpointFile, listRuns, readRunSpec } from './run-files';
import { type ShippedModel, readShippedModels } from './shipped-models';

/** Most `.safetensors` files looked at per scan (a workspace of downloaded models costs a bounded amount). */
export const MAX_SCANNED = 500;
const RESCAN_MS = 1000;

interface Cached {
  size: number;
  mtimeMs: number;
  kind: CheckpointKind;
}

export class CheckpointCatalog implements vscode.Disposable {
  private readonly cache = new Map<string, Cached>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private scanning: Promise<readonly string[]> | undefined;
  private again = false;
  private known: readonly string[] = [];
  private shipped: Promise<ShippedModel[]> | undefined;

  /** `modelsDir`: the extension's models folder (the shipped models). */
  constructor(readonly modelsDir: string) {
    const w = vscode.workspace.createFileSystemWatcher('**/*.safetensors');
    const on = () => this.rescanSoon();
    this.disposables.push(w, w.onDidCreate(on), w.onDidChange(on), w.onDidDelete(on), onDidChangeSettings(on), vscode.workspace.onDidChangeWorkspaceFolders(on));
  }

  /** What the header of `file` says (cached while its size and modification time stay the same). */
  async kindOf(file: string): Promise<CheckpointKind> {
    let st;
    try {
      st = await fs.stat(file);
    } catch {
      this.cache.delete(file);
      return readCheckpointKind(file); // says why (no such file)
    }
    const hit = this.cache.get(file);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.kind;
    const kind = await readCheckpointKind(file);
    this.cache.set(file, { size: st.size, mtimeMs: st.mtimeMs, kind });
    return kind;
  }

  /** The grid size (4, 6, 9) of an HRM Lens checkpoint: its header's config, else its run folder's run.json. */
  async gridSizeOf(file: string): Promise<4 | 6 | 9 | undefined> {
    const kind = await this.kindOf(file);
    if (!kind.hrm) return undefined;
    if (kind.gridSize) return kind.gridSize;
    const g = (await readRunSpec(path.dirname(file)))?.gridSize;
    return g === 4 || g === 6 || g === 9 ? g : undefined;
  }

  /** The shipped models (read once, again at each scan), by grid size then name; with `side`, those of that size. */
  async shippedModels(side?: 4 | 6 | 9): Promise<readonly ShippedModel[]> {
    this.shipped ??= readShippedModels(this.modelsDir);
    const all = await this.shipped;
    return side === undefined ? all : all.filter((m) => m.gridSize === side);
  }

  /** True for a file of the models folder (a shipped model, whatever its header says). */
  isShipped(file: string): boolean {
    return path.dirname(path.resolve(file)) === path.resolve(this.modelsDir);
  }

  /** The known checkpoints (absolute paths) as of the last scan. */
  get files(): readonly string[] {
    return this.known;
  }

  /** Scan after file events have settled. */
  rescanSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; void this.rescan(); }, RESCAN_MS);
  }

  /** Scan now (a scan already under way is followed by one more); resolves with the checkpoints found. */
  rescan(): Promise<readonly string[]> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.again = false;
          this.known = await this.scan();
          await setContextKey(CHECKPOINT_FILES, this.known.map((f) => vscode.Uri.file(f).path));
        } while (this.again);
        return this.known;
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private async scan(): Promise<string[]> {
    const candidates = new Set<string>();
    if (vscode.workspace.workspaceFolders?.length) {
      for (const u of await vscode.workspace.findFiles('**/*.safetensors', '**/node_modules/**', MAX_SCANNED)) if (u.scheme === 'file') candidates.add(u.fsPath);
    }
    const runs = runsFolderUri();
    if (runs && !vscode.workspace.getWorkspaceFolder(runs)) {
      // A runs folder outside the workspace (set in the user settings): its run folders' checkpoints.
      for (const r of await listRuns(runs.fsPath)) for (const c of r.checkpoints) if (candidates.size < 2 * MAX_SCANNED) candidates.add(c.file);
    }
    this.shipped = readShippedModels(this.modelsDir);
    const found: string[] = (await this.shipped).map((m) => m.file);
    for (const f of [...candidates].filter(isCheckpointFile).sort()) {
      if (!this.isShipped(f) && (await this.kindOf(f)).hrm) found.push(f);
    }
    for (const f of this.cache.keys()) if (!candidates.has(f)) this.cache.delete(f);
    return found;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
