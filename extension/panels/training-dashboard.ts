/**
 * The training dashboard: one webview panel per run folder. It shows the run's history (metrics.jsonl) and, while
 * HRM: Train runs into that folder, the engine's step events live (batched to a few posts per second): loss, cell
 * and exact accuracy, mean ACT steps, steps/s, the backend, the step × segment exact heatmap and the checkpoints, with
 * Stop and Resume. HRM: Train opens it beside the editor; "HRM: Open Training Dashboard" (Runs tree or palette) opens
 * it for any run; a run trained by another process (`hrm-lens train` in a terminal) is followed by re-reading its
 * metrics.jsonl when it changes (every 2 s while the panel is visible). After a reload the serializer reopens it from the run folder kept in the webview's state.
 * Paths from the webview are checked on the host (webview-paths.ts): the restored run folder must lie in the workspace
 * or the runs folder, and a checkpoint to inspect in the dashboard's own run folder.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainEvent, TrainResult } from '../../engine/protocol';
import type { DashboardRun, DashboardState, DashboardToHost, HostToDashboard, TrainPoint, TrainingStatus } from '../../webview/protocol';
import { runsFolderUri } from '../settings';
import { isCheckpointFile, listRuns, readRun } from '../views/run-files';
import { type RunsTarget, targetPath } from '../views/runs-view';
import { MetricsWatch, metricsStat, statStamp } from './metrics-watch';
import { dashboardCheckpoints, pointOfEvent, readMetricsHistory } from './training-history';
import { trainingHtml } from './training-html';
import { pngBytes, saveExport } from './trace-export';
import { checkWebviewPath, showPathRefusal } from './webview-paths';

export const TRAINING_VIEW_TYPE = 'hrmLens.training';
const FLUSH_MS = 250;
/** A log written this recently, short of the target step, counts as a run in progress elsewhere. */
const RECENT_MS = 15_000;

interface Live {
  status: TrainingStatus;
  message: string;
  preset: string;
  totalSteps: number | undefined;
  backend: string | null;
}

interface Open {
  panel: vscode.WebviewPanel;
  ready: boolean;
  pending: TrainPoint[];
  backend?: string;
  timer?: ReturnType<typeof setTimeout>;
  /** Follows metrics.jsonl of a run nobody trains here (a CLI run, another window): the size and mtime last sent. */
  watch?: MetricsWatch;
}

/** A run nobody trains now: finished when its log reached the target step, stopped when it has steps, else idle. */
function restingStatus(lastStep: number | undefined, target: number | undefined): TrainingStatus {
  if (lastStep === undefined) return 'idle';
  return target !== undefined && lastStep >= target ? 'finished' : 'stopped';
}

export class TrainingDashboards implements vscode.Disposable {
  private readonly open = new Map<string, Open>();
  private readonly live = new Map<string, Live>();
  /** When HRM: Train in this window last ended a run (its log's later writes would be someone else's). */
  private readonly ended = new Map<string, number>();
  private readonly bundleDir: vscode.Uri;
  /** Messages posted to each run's panel, counted by kind (for the in-host test). */
  readonly posted = new Map<string, Record<string, number>>();

  constructor(private readonly extensionUri: vscode.Uri) {
    this.bundleDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  }

  private post(dir: string, m: HostToDashboard): void {
    const o = this.open.get(dir);
    if (!o?.ready) return;
    const counts = this.posted.get(dir) ?? {};
    counts[m.kind] = (counts[m.kind] ?? 0) + 1;
    this.posted.set(dir, counts);
    void o.panel.webview.postMessage(m);
  }

  /** The full picture of a run: its spec, history and checkpoints, and the live status when it is training. */
  private async snapshot(dir: string): Promise<Extract<HostToDashboard, { kind: 'run' }>> {
    const [run, history, stat] = await Promise.all([readRun(dir), readMetricsHistory(dir), metricsStat(dir)]);
    const live = this.live.get(dir);
    const spec = run?.spec;
    const o = this.open.get(dir);
    if (o && stat) o.watch?.seen(dir, statStamp(stat));
    const lastStep = history.points.at(-1)?.step;
    const elsewhere = !live && stat !== undefined && Date.now() - stat.mtimeMs < RECENT_MS && stat.mtimeMs > (this.ended.get(dir) ?? 0)
      && (spec?.steps === undefined || (lastStep ?? 0) < spec.steps);
    const skipped = (history.skipped ? ` (${history.skipped} unreadable line${history.skipped > 1 ? 's' : ''} of metrics.jsonl skipped)` : '')
      + (history.omittedBytes ? ` (the oldest ${(history.omittedBytes / 2 ** 20).toFixed(1)} MiB of metrics.jsonl not read)` : '');
    const info: DashboardRun = {
      dir, name: path.basename(dir), preset: spec?.preset ?? live?.preset ?? '?', totalSteps: live?.totalSteps ?? spec?.steps ?? history.points.at(-1)?.step ?? 0,
      segments: spec?.haltMaxSteps ?? Math.max(0, ...history.points.map((p) => p.segmentExact.length)), mixing: spec?.mixing ?? false,
      backend: live?.backend ?? spec?.backend ?? null, status: live?.status ?? (elsewhere ? 'external' : restingStatus(lastStep, spec?.steps)),
      message: (live?.message ?? (elsewhere ? 'metrics.jsonl is growing: trained by another process (hrm-lens train?); Stop works only for HRM: Train in this window'
        : run ? `${history.points.length} steps logged` : 'not a run folder (yet)')) + skipped,
    };
    return { kind: 'run', run: info, points: history.points, checkpoints: dashboardCheckpoints(run?.checkpoints ?? []) };
  }

  private async sendSnapshot(dir: string): Promise<void> {
    const o = this.open.get(dir);
    if (!o?.ready) return;
    // Steps buffered before the snapshot are in metrics.jsonl already (logged before the event is sent).
    if (o.timer) clearTimeout(o.timer);
    o.timer = undefined;
    o.pending = [];
    this.post(dir, await this.snapshot(dir));
  }

  private setup(panel: vscode.WebviewPanel, dir: string): void {
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.bundleDir] };
    panel.webview.html = trainingHtml(panel.webview, this.bundleDir, randomBytes(16).toString('base64'));
    panel.iconPath = vscode.Uri.joinPath(this.bundleDir, '..', '..', 'media', 'hrm-activity.svg');
    const entry: Open = { panel, ready: false, pending: [] };
    this.open.set(dir, entry);
    // A run trained elsewhere (the CLI, another window): re-read its log when it changes, while the panel is visible.
    entry.watch = new MetricsWatch({
      dirs: () => [dir], active: () => entry.ready && panel.visible && !this.live.has(dir), changed: () => this.sendSnapshot(dir),
    });
    panel.onDidDispose(() => {
      if (entry.timer) clearTimeout(entry.timer);
      entry.watch?.dispose();
      if (this.open.get(dir) === entry) this.open.delete(dir);
    });
    panel.webview.onDidReceiveMessage((m: DashboardToHost) => this.handle(entry, dir, m));
  }

  /**
   * Handles message `m` as if the webview of `dir`'s open dashboard had sent it (for the in-host tests). Answers what
   * the command it runs answers, or the reason a path in the message was refused.
   */
  receive(dir: string, m: DashboardToHost): Promise<unknown> {
    const entry = this.open.get(path.resolve(dir));
    return entry ? this.handle(entry, path.resolve(dir), m) : Promise.resolve(undefined);
  }

  private async handle(entry: Open, dir: string, m: DashboardToHost): Promise<unknown> {
    if (m.kind === 'ready') {
      entry.ready = true;
      await this.sendSnapshot(dir);
    } else if (m.kind === 'stop') {
      return vscode.commands.executeCommand('hrmLens.stopTraining');
    } else if (m.kind === 'resume') {
      return vscode.commands.executeCommand('hrmLens.resumeTraining', { run: dir });
    } else if (m.kind === 'inspect-checkpoint') {
      // The dashboard lists its own run's checkpoints: nothing else is inspected from it.
      const checked = await checkWebviewPath(m.file, 'checkpoint', this.extensionUri, { roots: [dir], name: `this dashboard's run folder ${dir}` });
      if (!checked.ok) {
        showPathRefusal('Inspect from the training dashboard', checked);
        return checked.reason;
      }
      return vscode.commands.executeCommand('hrmLens.inspectPuzzle', { checkpoint: checked.path });
    } else if (m.kind === 'export-png') {
      const bytes = pngBytes(m.dataUrl);
      const name = m.name.replace(/[^\w-]+/g, '-').slice(0, 40);
      const message = bytes ? await saveExport(`${path.basename(dir)}-${name}.png`, bytes, { 'PNG image': ['png'] }) : 'not saved: not a PNG';
      this.post(dir, { kind: 'exported', message });
    }
    return undefined;
  }

  /** Show the dashboard of `dir` (created, or revealed when open). */
  show(dir: string, preserveFocus = false): vscode.WebviewPanel {
    const key = path.resolve(dir);
    const existing = this.open.get(key);
    if (existing) {
      existing.panel.reveal(undefined, preserveFocus);
      void this.sendSnapshot(key);
      return existing.panel;
    }
    const panel = vscode.window.createWebviewPanel(TRAINING_VIEW_TYPE, `HRM Training: ${path.basename(key)}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [this.bundleDir] });
    this.setup(panel, key);
    return panel;
  }

  /** HRM: Train started a run into `dir`. */
  started(dir: string, info: { preset: string; totalSteps?: number; backend?: string }): void {
    const key = path.resolve(dir);
    this.live.set(key, { status: 'training', message: 'starting the engine…', preset: info.preset, totalSteps: info.totalSteps, backend: info.backend ?? null });
    this.show(key, true);
    this.post(key, { kind: 'status', status: 'training', message: 'starting the engine…' });
  }

  /** An engine event of the training into `dir`. */
  event(dir: string, e: TrainEvent): void {
    const key = path.resolve(dir);
    const live = this.live.get(key);
    if (e.kind === 'checkpoint') {
      this.flush(key);
      this.post(key, { kind: 'checkpoint', checkpoint: { step: e.step, file: e.checkpoint, exact: null } });
      return;
    }
    if (live) {
      live.totalSteps = e.totalSteps;
      live.backend = e.backend;
      if (live.status === 'training') live.message = `step ${e.step} of ${e.totalSteps}`;
    }
    const o = this.open.get(key);
    if (!o?.ready) return;
    o.pending.push(pointOfEvent(e));
    o.backend = e.backend;
    o.timer ??= setTimeout(() => this.flush(key), FLUSH_MS);
  }

  private flush(dir: string): void {
    const o = this.open.get(dir);
    if (!o) return;
    if (o.timer) clearTimeout(o.timer);
    o.timer = undefined;
    if (!o.pending.length) return;
    const points = o.pending;
    o.pending = [];
    this.post(dir, { kind: 'points', points, backend: o.backend });
  }

  /** Stop was asked for the training into `dir`. */
  stopping(dir: string): void {
    const key = path.resolve(dir);
    const live = this.live.get(key);
    if (!live) return;
    live.status = 'stopping';
    live.message = 'stopping after the next checkpoint…';
    this.post(key, { kind: 'status', status: live.status, message: live.message });
  }

  /** The training into `dir` ended (a result, or an error message). */
  finished(dir: string, outcome: TrainResult | { error: string; cancelled?: boolean }): void {
    const key = path.resolve(dir);
    const live = this.live.get(key);
    this.flush(key);
    const status: TrainingStatus = outcome.cancelled ? 'stopped' : 'error' in outcome ? 'failed' : 'finished';
    const held = 'error' in outcome || !outcome.heldOut ? '' : `; held-out exact ${(100 * outcome.heldOut.exact).toFixed(1)}%, cell ${(100 * outcome.heldOut.cell).toFixed(1)}%`;
    const message = 'error' in outcome ? outcome.error : `${status} at step ${outcome.step}${held}`;
    if (live) {
      live.status = status;
      live.message = message;
    }
    this.ended.set(key, Date.now());
    void this.sendSnapshot(key).finally(() => this.live.delete(key));
  }

  /** Reopened after a reload from the run folder in the webview's state. */
  serializer(): vscode.WebviewPanelSerializer<DashboardState> {
    return {
      deserializeWebviewPanel: async (panel, state) => {
        if (!state?.run) {
          panel.dispose();
          return;
        }
        // The run folder comes from the webview's state: read only a run of the workspace or the runs folder.
        const checked = await checkWebviewPath(state.run, 'run', this.extensionUri);
        if (!checked.ok) {
          panel.dispose();
          showPathRefusal('Reopening a training dashboard', checked);
          return;
        }
        this.setup(panel, path.resolve(state.run));
      },
    };
  }

  dispose(): void {
    for (const o of this.open.values()) o.panel.dispose();
    this.open.clear();
  }
}

async function pickRunDir(): Promise<string | undefined> {
  const folder = runsFolderUri();
  const runs = folder ? await listRuns(folder.fsPath) : [];
  if (!runs.length) {
    void vscode.window.showInformationMessage('HRM: no training run in the runs folder yet (run "HRM: Train" first).');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.name, description: r.spec?.preset, dir: r.dir })),
    { title: 'HRM: Open Training Dashboard — run' });
  return picked?.dir;
}

export function registerTrainingDashboards(context: vscode.ExtensionContext): TrainingDashboards {
  const dashboards = new TrainingDashboards(context.extensionUri);
  context.subscriptions.push(dashboards, vscode.window.registerWebviewPanelSerializer(TRAINING_VIEW_TYPE, dashboards.serializer()),
    vscode.commands.registerCommand('hrmLens.openTrainingDashboard', async (target?: RunsTarget): Promise<string | undefined> => {
      const picked = targetPath(target) ?? (await pickRunDir());
      if (!picked) return undefined;
      const dir = isCheckpointFile(picked) ? path.dirname(picked) : picked;
      dashboards.show(dir);
      return path.resolve(dir);
    }));
  return dashboards;
}
