/**
 * Following reference trainers' runs live (setting hrmLens.officialRunFolders; "HRM: Follow Official Run Folder…"):
 * each followed folder's runs and `step_N` checkpoints (official-folder.ts), each checkpoint evaluated in place by the
 * engine (`official.evaluate`: read where it lies with the safe importer, never copied) once its size has settled,
 * newest step first, one at a time, the figures cached under the workspace's `.hrm/cache/official/` (the extension's
 * global storage without a trusted workspace folder). A cached evaluation is shown without starting the engine.
 *
 * Looks: a FileSystemWatcher per followed folder (step_N and all_config.yaml, the folder and its subfolders), and a
 * look every POLL_MS while anything is followed (file events do not always arrive: network drives, folders outside
 * the workspace). Each checkpoint's state: settling → queued → evaluating (puzzles done) → done | error; a file that
 * changes (size or time) starts again. Errors (a partial or bad file, a refused one) stay on their node; nothing here
 * throws into the extension host.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OfficialEvalEntry, OfficialEvalSpec } from '../../engine/interop/official-protocol';
import { OFFICIAL_EVAL_DEFAULTS } from '../../engine/interop/official-cache';
import { isCancelled } from '../../engine/protocol';
import { boundedMessage } from '../../engine/util/errors';
import type { EngineClient } from '../engine/engine-client';
import { type HrmLensSettings, onDidChangeSettings, readSettings } from '../settings';
import { workspaceCheckpointRefusal } from '../commands/checkpoints';
import { type OfficialCheckpointFile, type OfficialRunFolder, SettleTracker, findOfficialRuns, readCachedOfficialEval } from './official-folder';

/** How long a checkpoint must keep its size and modification time before it is read. */
export const SETTLE_MS = 2000;
/** How often the followed folders are looked at (the file watcher's fallback). */
export const OFFICIAL_POLL_MS = 3000;

export type OfficialState =
  | { kind: 'settling' }
  | { kind: 'queued' }
  | { kind: 'evaluating'; done: number; total: number }
  | { kind: 'done'; entry: OfficialEvalEntry; cached: boolean }
  | { kind: 'error'; message: string };

export interface OfficialCheckpointView extends OfficialCheckpointFile {
  state: OfficialState;
}

export interface OfficialRunView extends Omit<OfficialRunFolder, 'checkpoints'> {
  checkpoints: OfficialCheckpointView[];
}

const stampOf = (c: { size: number; mtimeMs: number }): string => `${c.size}:${c.mtimeMs}`;

/** The engine's part, narrowed (tests of the view logic need nothing else). */
export type OfficialEngine = Pick<EngineClient, 'request'>;

export class OfficialRunsFollower implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a run or a checkpoint's state changed. */
  readonly onDidChange = this.changed.event;
  private runsShown: OfficialRunView[] = [];
  /** file → its state for one stamp (size:mtime). */
  private readonly states = new Map<string, { stamp: string; state: OfficialState; step: number }>();
  private readonly tracker: SettleTracker;
  private watchers: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private poller: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanAfter = false;
  private running: { file: string; stamp: string; cancel: vscode.CancellationTokenSource } | undefined;
  private disposed = false;
  private generation = 0;
  /** Read once per change of the settings (not at every look). */
  private settings: HrmLensSettings = readSettings();

  constructor(private readonly engine: OfficialEngine, private readonly globalCacheDir: string, settleMs = SETTLE_MS) {
    this.tracker = new SettleTracker(settleMs);
    this.disposables.push(
      onDidChangeSettings(() => this.restart()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.restart()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.restart()),
    );
    this.follow();
  }

  /** The followed runs as last looked at. */
  get runs(): readonly OfficialRunView[] {
    return this.runsShown;
  }

  /** The followed folders (absolute). */
  get folders(): readonly string[] {
    return this.settings.officialRunFolders;
  }

  /** Where evaluations are cached: the trusted workspace's `.hrm/cache/official`, else the extension's storage. */
  get cacheDir(): string {
    const ws = vscode.workspace.workspaceFolders?.[0];
    return ws && vscode.workspace.isTrusted ? path.join(ws.uri.fsPath, '.hrm', 'cache', 'official') : this.globalCacheDir;
  }

  /** The evaluation asked for, from the settings. */
  spec(): OfficialEvalSpec {
    const s = this.settings;
    return { puzzles: s.officialRunEvalPuzzles, seed: OFFICIAL_EVAL_DEFAULTS.seed, data: s.officialRunEvalData || null, segments: s.segments > 0 ? s.segments : null };
  }

  /** Look at the followed folders now (the promise settles when the look is done, not the evaluations). */
  rescan(): Promise<void> {
    if (this.scanning) {
      this.rescanAfter = true;
      return this.scanning;
    }
    this.scanning = this.scan().catch(() => undefined).finally(() => {
      this.scanning = undefined;
      if (this.rescanAfter && !this.disposed) {
        this.rescanAfter = false;
        void this.rescan();
      }
    });
    return this.scanning;
  }

  /** Settings changed: evaluations under the old settings are dropped (the cache keeps them), everything is looked at again. */
  private restart(): void {
    this.settings = readSettings();
    this.generation++;
    this.running?.cancel.cancel();
    this.states.clear();
    // Folders no longer followed leave the tree now, not at the end of the next look.
    const followed = new Set(this.settings.officialRunFolders);
    const kept = this.runsShown.filter((r) => followed.has(r.root));
    if (kept.length !== this.runsShown.length) {
      this.runsShown = kept;
      this.changed.fire();
    }
    this.follow();
  }

  private follow(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    const folders = this.folders;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    if (folders.length) {
      for (const dir of folders) {
        const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '{step_*,all_config.yaml,*/step_*,*/all_config.yaml}'));
        const on = () => this.rescanSoon(250);
        this.watchers.push(w, w.onDidCreate(on), w.onDidChange(on), w.onDidDelete(on));
      }
      this.poller = setInterval(() => void this.rescan(), OFFICIAL_POLL_MS);
    }
    void this.rescan();
  }

  private rescanSoon(ms: number): void {
    if (this.disposed) return;
    if (this.soon) clearTimeout(this.soon);
    this.soon = setTimeout(() => { this.soon = undefined; void this.rescan(); }, ms);
  }

  private async scan(): Promise<void> {
    const generation = this.generation;
    const spec = this.spec();
    const cacheDir = this.cacheDir;
    const found: OfficialRunFolder[] = [];
    for (const dir of this.folders) found.push(...(await findOfficialRuns(dir)));
    if (this.disposed || generation !== this.generation) return;
    const present = new Set<string>();
    let nextLook = Infinity;
    let changed = found.length !== this.runsShown.length;
    const now = Date.now();
    for (const run of found) {
      for (const c of run.checkpoints) {
        present.add(c.file);
        const stamp = stampOf(c);
        const known = this.states.get(c.file);
        const left = this.tracker.observe(c.file, c.size, c.mtimeMs, now);
        if (known && known.stamp === stamp && known.state.kind !== 'settling') continue;
        if (known?.stamp === stamp && left > 0) { nextLook = Math.min(nextLook, left); continue; }
        changed = true;
        if (this.running?.file === c.file && this.running.stamp !== stamp) this.running.cancel.cancel();
        if (left > 0) {
          this.states.set(c.file, { stamp, state: { kind: 'settling' }, step: c.step });
          nextLook = Math.min(nextLook, left);
          continue;
        }
        const refusal = workspaceCheckpointRefusal(c.file);
        if (refusal) {
          this.states.set(c.file, { stamp, state: { kind: 'error', message: refusal }, step: c.step });
          continue;
        }
        const cached = await readCachedOfficialEval(cacheDir, c.file, spec, c).catch(() => undefined);
        if (this.disposed || generation !== this.generation) return;
        this.states.set(c.file, { stamp, state: cached ? { kind: 'done', entry: cached, cached: true } : { kind: 'queued' }, step: c.step });
      }
    }
    for (const f of [...this.states.keys()]) {
      if (!present.has(f)) {
        this.states.delete(f);
        changed = true;
        if (this.running?.file === f) this.running.cancel.cancel();
      }
    }
    this.tracker.retain(present);
    const views: OfficialRunView[] = found.map((r) => ({
      ...r, checkpoints: r.checkpoints.map((c) => ({ ...c, state: this.states.get(c.file)?.state ?? { kind: 'settling' } })),
    }));
    if (!changed) changed = JSON.stringify(views.map((r) => [r.dir, r.exists, r.hasConfig])) !== JSON.stringify(this.runsShown.map((r) => [r.dir, r.exists, r.hasConfig]));
    this.runsShown = views;
    if (changed) this.changed.fire();
    if (nextLook < Infinity) this.rescanSoon(nextLook + 50);
    this.pump();
  }

  /** Evaluate again the checkpoints whose evaluation failed (the Runs view's refresh button). */
  retryFailed(): void {
    for (const [file, s] of [...this.states]) if (s.state.kind === 'error') this.states.delete(file);
    void this.rescan();
  }

  /** The state of one checkpoint now (after a scan). */
  stateOf(file: string): OfficialState | undefined {
    return this.states.get(file)?.state;
  }

  private update(file: string, stamp: string, state: OfficialState): void {
    const s = this.states.get(file);
    if (!s || s.stamp !== stamp) return;
    s.state = state;
    this.runsShown = this.runsShown.map((r) => (r.checkpoints.some((c) => c.file === file)
      ? { ...r, checkpoints: r.checkpoints.map((c) => (c.file === file ? { ...c, state } : c)) } : r));
    this.changed.fire();
  }

  /** Start the next evaluation (newest step first) unless one runs. */
  private pump(): void {
    if (this.running || this.disposed) return;
    let next: { file: string; stamp: string; step: number } | undefined;
    for (const [file, s] of this.states) if (s.state.kind === 'queued' && (!next || s.step > next.step)) next = { file, stamp: s.stamp, step: s.step };
    if (!next) return;
    const { file, stamp } = next;
    const cancel = new vscode.CancellationTokenSource();
    this.running = { file, stamp, cancel };
    const generation = this.generation;
    this.update(file, stamp, { kind: 'evaluating', done: 0, total: 0 });
    const spec = this.spec();
    void this.engine.request('official.evaluate', {
      file, cacheDir: this.cacheDir, puzzles: spec.puzzles, seed: spec.seed, ...(spec.data ? { data: spec.data } : {}), ...(spec.segments ? { segments: spec.segments } : {}),
    }, { token: cancel.token, onProgress: ({ done, total }) => this.update(file, stamp, { kind: 'evaluating', done, total }) }).then(
      (r) => {
        if (generation !== this.generation) return;
        if (stampOf(r) === stamp) this.update(file, stamp, { kind: 'done', entry: r, cached: r.cached });
        else this.update(file, stamp, { kind: 'error', message: `${path.basename(file)} changed while it was evaluated: it is read again once it settles` });
      },
      (e: unknown) => {
        if (generation !== this.generation) return;
        if (isCancelled(e)) this.update(file, stamp, { kind: 'queued' });
        else this.update(file, stamp, { kind: 'error', message: boundedMessage(e) });
      },
    ).finally(() => {
      cancel.dispose();
      if (this.running?.cancel === cancel) this.running = undefined;
      if (!this.disposed) {
        if (generation !== this.generation) void this.rescan();
        else this.pump();
      }
    });
  }

  dispose(): void {
    this.disposed = true;
    this.running?.cancel.cancel();
    if (this.poller) clearInterval(this.poller);
    if (this.soon) clearTimeout(this.soon);
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
