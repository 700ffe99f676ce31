/**
 * The inspector panel: one webview panel per puzzle + checkpoint (revealed again when asked twice), fed the engine's
 * InspectSummary mapped to webview/protocol.ts's InspectorTrace after the webview says 'ready'. localResourceRoots is
 * only dist/webview; the panel is restored after a reload by a WebviewPanelSerializer from the webview's saved state.
 * Exports (PNG of a chart or canvas, JSON / CSV of the trace) are saved through a save dialog (trace-export.ts). A
 * restored trace came from the webview: its checkpoint passes checkWebviewPath (webview-paths.ts) before `landscape`
 * and the interventions. The Interventions section's host side is inspector-interventions.ts.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InspectSummary } from '../../engine/analysis/inspect';
import type { HostToInspector, InspectorLandscape, InspectorState, InspectorToHost, InspectorTrace } from '../../webview/protocol';
import { inspectorHtml } from './inspector-html';
import { exportStem, pngBytes, saveExport, traceCsv, traceJson } from './trace-export';
import type { EngineClient } from '../engine/engine-client';
import { isCancelled } from '../../engine/protocol';
import { checkWebviewPath } from './webview-paths';
import { boundedMessage } from '../../engine/util/errors';
import { torchRequest } from '../settings';
import type { TrajectoryStore } from '../views/trajectory-store';
import { InspectorInterventions, isInterventionMessage, registerPatchFromTrajectory } from './inspector-interventions';

export const INSPECTOR_VIEW_TYPE = 'hrmLens.inspector';
/** What a restored trace may ask the engine for: a 4×4, 6×6 or 9×9 puzzle, and at most this many segments. */
const RESTORED_PUZZLE = /^[0-9.]{16}$|^[0-9.]{36}$|^[0-9.]{81}$/;
const MAX_RESTORED_SEGMENTS = 64;

const num = (x: number | null, d = 3): string => (x === null || !Number.isFinite(x) ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(d));

/** InspectSummary (engine) → InspectorTrace (webview). */
export function toInspectorTrace(s: InspectSummary): InspectorTrace {
  const e = s.mode.evidence;
  return {
    checkpoint: s.checkpoint, puzzle: s.puzzle, solution: s.solution, firstExact: s.firstExact, stableFrom: s.stableFrom,
    criticalSegment: s.criticalSegment, corruptions: s.corruptions, mode: s.mode.mode.replace(/-/g, ' '), success: s.mode.success,
    segments: s.segments.map((g) => ({
      segment: g.segment, grid: g.grid, exact: g.exact, wrong: g.wrong, energy: g.energy, loss: g.loss, changed: g.changed,
      qHalt: g.qHalt, qContinue: g.qContinue, residualH: g.residualH,
    })),
    evidence: [['first exact', num(e.firstExact)], ['stable from', num(e.stableFrom)], ['late drift', num(e.late, 4)], ['τ', `${num(e.tau, 4)} (${e.tauSource})`],
      ['settled', String(e.settled)], ['final E', num(e.finalE)], ['final wrong', num(e.finalWrong)], ['window', `${e.window.from}–${e.window.to}`]],
    // Plain arrays: the webview's saved state is JSON.
    confidence: Array.from(s.cellConfidence),
    pca: s.pca ? { points: Array.from(s.pca.points), perSegment: s.pca.updatesPerSegment, explained: s.pca.explained } : null,
    perturbations: s.perturbations.map((p) => ({ ...p })), vote: { ...s.vote },
    ...(s.stripPending ? { stripPending: true } : {}),
  };
}

export class InspectorPanels implements vscode.Disposable {
  private readonly open = new Map<string, vscode.WebviewPanel>();
  private readonly renderedMs: number[] = [];
  private readonly bundleDir: vscode.Uri;
  /** Panels whose trace came from the webview's saved state (not from the engine in this session). */
  private readonly restored = new WeakSet<vscode.WebviewPanel>();
  /** The Interventions section of every panel (its host side). */
  readonly interventions: InspectorInterventions;

  /** `memento`: the workspace's (context.workspaceState), where the panels' patch donors outlive a reload. */
  constructor(private readonly extensionUri: vscode.Uri, private readonly engine: EngineClient, trajectories: TrajectoryStore, memento: vscode.Memento) {
    this.bundleDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.interventions = new InspectorInterventions(engine, trajectories, (panel) => this.traces.get(panel), (panel, trace) => this.checkedTarget(panel, trace), memento);
  }

  /** The checkpoint the engine may be given for the panel's trace: as shown, or (a restored trace) once it passes the checks. */
  private async checkedTarget(panel: vscode.WebviewPanel, trace: InspectorTrace): Promise<{ ok: true; checkpoint: string } | { ok: false; reason: string }> {
    if (!this.restored.has(panel)) return { ok: true, checkpoint: trace.checkpoint };
    const checked = await checkWebviewPath(trace.checkpoint, 'checkpoint', this.extensionUri);
    const segments = Array.isArray(trace.segments) ? trace.segments.length : 0;
    const why = !checked.ok ? checked.reason : typeof trace.puzzle !== 'string' || !RESTORED_PUZZLE.test(trace.puzzle) ? 'the saved puzzle is not a puzzle'
      : segments < 1 || segments > MAX_RESTORED_SEGMENTS ? `the saved trace has ${segments} segments (1 to ${MAX_RESTORED_SEGMENTS})` : undefined;
    return why !== undefined || !checked.ok ? { ok: false, reason: why ?? 'refused' } : { ok: true, checkpoint: checked.path };
  }

  /** Runs the engine's `landscape` for the panel's puzzle, streaming progress; Cancel from the webview stops it. */
  private async landscape(panel: vscode.WebviewPanel, trace: InspectorTrace, size: number, cancel: vscode.CancellationTokenSource, basins = false,
    post: (m: HostToInspector) => void = (m) => void panel.webview.postMessage(m)): Promise<boolean> {
    const target = await this.checkedTarget(panel, trace);
    if (!target.ok) {
      post({ kind: 'landscape-error', message: `landscape refused: ${target.reason}` });
      return false;
    }
    const checkpoint = target.checkpoint;
    try {
      const r = await this.engine.request('landscape', { checkpoint, puzzle: trace.puzzle, size, segments: trace.segments.length, basins, ...torchRequest() }, {
        token: cancel.token, onProgress: (e) => post({ kind: 'landscape-progress', done: e.done, total: e.total }),
      });
      const landscape: InspectorLandscape = {
        size: r.size, radius: r.radius, heights: Array.from(r.heights), flow: Array.from(r.flow), trajectory: Array.from(r.trajectory),
        explained: r.explainedVarianceRatio, seconds: r.seconds,
        basins: r.basins ? { labels: Array.from(r.basins.labels), attractors: r.basins.attractors.map((a) => ({ ...a })), moving: r.basins.moving } : null,
      };
      post({ kind: 'landscape', landscape });
      return true;
    } catch (e) {
      post({ kind: 'landscape-error', message: isCancelled(e) ? 'cancelled' : `landscape failed: ${boundedMessage(e)}` });
      return false;
    }
  }

  /** Render times reported by the webviews (ms from the trace's arrival to the end of the first render). */
  get renderTimes(): readonly number[] {
    return this.renderedMs;
  }

  private last: { panel: vscode.WebviewPanel; trace: InspectorTrace } | undefined;

  /** Computes the landscape of the most recently opened panel, as its button does (used by the in-host test). */
  async computeLandscapeInLastPanel(size: number): Promise<boolean> {
    if (!this.last) throw new Error('no inspector panel');
    const cancel = new vscode.CancellationTokenSource();
    try {
      return await this.landscape(this.last.panel, this.last.trace, size, cancel);
    } finally {
      cancel.dispose();
    }
  }

  /**
   * Restores a panel from `state` as after a reload and computes its landscape as its button does; the messages the
   * host posted to it (used by the in-host test of a saved state naming a checkpoint elsewhere).
   */
  async landscapeOfRestoredState(state: InspectorState, size: number): Promise<{ ok: boolean; posted: HostToInspector[] }> {
    const panel = vscode.window.createWebviewPanel(INSPECTOR_VIEW_TYPE, 'HRM: restored', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [this.bundleDir] });
    const posted: HostToInspector[] = [];
    const cancel = new vscode.CancellationTokenSource();
    try {
      await this.serializer().deserializeWebviewPanel(panel, state);
      const trace = this.traces.get(panel);
      if (!trace) throw new Error('the state holds no trace');
      return { ok: await this.landscape(panel, trace, size, cancel, false, (m) => { posted.push(m); }), posted };
    } finally {
      cancel.dispose();
      panel.dispose();
    }
  }

  /** The trace each panel shows now (a second inspection of the same puzzle + checkpoint replaces it). */
  private readonly traces = new WeakMap<vscode.WebviewPanel, InspectorTrace>();

  private setup(panel: vscode.WebviewPanel, initial: InspectorTrace | undefined): void {
    if (initial) {
      this.last = { panel, trace: initial };
      this.traces.set(panel, initial);
    }
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.bundleDir] };
    panel.webview.html = inspectorHtml(panel.webview, this.bundleDir, randomBytes(16).toString('base64'));
    panel.iconPath = vscode.Uri.joinPath(this.bundleDir, '..', '..', 'media', 'hrm-activity.svg');
    let cancel: vscode.CancellationTokenSource | undefined;
    panel.onDidDispose(() => cancel?.cancel());
    this.interventions.attach(panel);
    panel.webview.onDidReceiveMessage((m: InspectorToHost) => {
      if (isInterventionMessage(m)) {
        void this.interventions.handle(panel, m);
        return;
      }
      const trace = this.traces.get(panel);
      const same = m.kind === 'ready' && trace && m.restored?.checkpoint === trace.checkpoint && m.restored.puzzle === trace.puzzle && m.restored.segments === trace.segments.length;
      if (m.kind === 'ready' && trace && !same) void panel.webview.postMessage({ kind: 'trace', trace } satisfies HostToInspector);
      // A restored webview may have missed the strip (posted while it was hidden): send it again, it only redraws the strip.
      if (m.kind === 'ready' && trace && same) this.postStrip(panel, trace);
      if (m.kind === 'ready') this.interventions.ready(panel);
      if (m.kind === 'rendered' && Number.isFinite(m.ms)) this.renderedMs.push(m.ms);
      if (m.kind === 'compute-landscape' && trace && !cancel) {
        const size = [21, 41].includes(m.size) ? m.size : 41;
        cancel = new vscode.CancellationTokenSource();
        void this.landscape(panel, trace, size, cancel, m.basins === true).finally(() => { cancel?.dispose(); cancel = undefined; });
      }
      if (m.kind === 'cancel-landscape') cancel?.cancel();
      if ((m.kind === 'export-png' || m.kind === 'export-trace') && trace) void this.export(panel, trace, m);
    });
  }

  private async export(panel: vscode.WebviewPanel, trace: InspectorTrace, m: Extract<InspectorToHost, { kind: 'export-png' | 'export-trace' }>): Promise<void> {
    const stem = exportStem(trace);
    let message: string;
    if (m.kind === 'export-png') {
      const bytes = pngBytes(m.dataUrl);
      const name = m.name.replace(/[^\w-]+/g, '-').slice(0, 40);
      message = bytes ? await saveExport(`${stem}-${name}.png`, bytes, { 'PNG image': ['png'] }) : 'not saved: not a PNG';
    } else {
      const text = m.format === 'json' ? traceJson(trace) : traceCsv(trace);
      message = await saveExport(`${stem}-trace.${m.format}`, new TextEncoder().encode(text), m.format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] });
    }
    void panel.webview.postMessage({ kind: 'exported', message } satisfies HostToInspector);
  }

  /** Show `summary` in its panel (one per puzzle + checkpoint). */
  show(summary: InspectSummary): vscode.WebviewPanel {
    const key = `${summary.checkpoint}\n${summary.puzzle}`;
    const trace = toInspectorTrace(summary);
    const existing = this.open.get(key);
    if (existing) {
      existing.reveal();
      this.restored.delete(existing);
      if (this.traces.get(existing)?.segments.length !== trace.segments.length) this.interventions.traceChanged(existing);
      this.interventions.focus(existing);
      this.traces.set(existing, trace);
      this.last = { panel: existing, trace };
      void existing.webview.postMessage({ kind: 'trace', trace } satisfies HostToInspector);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(INSPECTOR_VIEW_TYPE, `HRM: ${path.basename(summary.checkpoint)} · ${summary.puzzle.slice(0, 12)}…`,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [this.bundleDir] });
    this.setup(panel, trace);
    this.open.set(key, panel);
    panel.onDidDispose(() => this.open.delete(key));
    return panel;
  }

  /**
   * The perturbation strip of a summary shown with `stripPending` (or why it is missing): merged into the trace of the
   * panel of that puzzle + checkpoint, if it is open, and sent to its webview.
   */
  showStrip(summary: Pick<InspectSummary, 'checkpoint' | 'puzzle' | 'segments'>, strip: Pick<InspectSummary, 'perturbations' | 'vote'> | { error: string }): void {
    const panel = this.open.get(`${summary.checkpoint}\n${summary.puzzle}`);
    const trace = panel && this.traces.get(panel);
    // The panel may show another inspection of the puzzle by now (another segment count): not this strip's.
    if (!panel || !trace || trace.segments.length !== summary.segments.length) return;
    const next: InspectorTrace = 'error' in strip
      ? { ...trace, stripPending: false, stripError: strip.error }
      : { ...trace, perturbations: strip.perturbations.map((p) => ({ ...p })), vote: { ...strip.vote }, stripPending: false, stripError: undefined };
    this.traces.set(panel, next);
    if (this.last?.panel === panel) this.last = { panel, trace: next };
    this.postStrip(panel, next);
  }

  private postStrip(panel: vscode.WebviewPanel, trace: InspectorTrace): void {
    if (trace.stripError) void panel.webview.postMessage({ kind: 'strip-error', message: trace.stripError } satisfies HostToInspector);
    else if (!trace.stripPending) void panel.webview.postMessage({ kind: 'strip', perturbations: trace.perturbations, vote: trace.vote } satisfies HostToInspector);
  }

  /** Restores a panel after a reload: the webview's own saved state holds the trace, and the token of its donor (kept on the host). */
  serializer(): vscode.WebviewPanelSerializer<InspectorState> {
    return {
      deserializeWebviewPanel: async (panel, state) => {
        // A strip still pending when the window was reloaded will not come: its request ended with the old host.
        const trace = state?.trace?.stripPending ? { ...state.trace, stripPending: false, stripError: 'not computed (the window was reloaded): inspect again' } : state?.trace;
        if (trace) this.restored.add(panel);
        this.setup(panel, trace);
        if (state?.trace) {
          const key = `${state.trace.checkpoint}\n${state.trace.puzzle}`;
          this.open.set(key, panel);
          panel.onDidDispose(() => this.open.delete(key));
        }
        await this.interventions.restoreDonor(panel, state?.interventions?.donorToken);
      },
    };
  }

  dispose(): void {
    // The interventions first: the panels disposed here are not closed by the user, their donors stay kept.
    this.interventions.dispose();
    for (const p of this.open.values()) p.dispose();
    this.open.clear();
  }

  /** The trace `panel` shows (for the Interventions section's command). */
  traceOf(panel: vscode.WebviewPanel): InspectorTrace | undefined {
    return this.traces.get(panel);
  }
}

export function registerInspectorPanels(context: vscode.ExtensionContext, engine: EngineClient, trajectories: TrajectoryStore): InspectorPanels {
  const panels = new InspectorPanels(context.extensionUri, engine, trajectories, context.workspaceState);
  context.subscriptions.push(panels, vscode.window.registerWebviewPanelSerializer(INSPECTOR_VIEW_TYPE, panels.serializer()),
    registerPatchFromTrajectory(panels.interventions, trajectories, (panel) => panels.traceOf(panel)));
  return panels;
}
