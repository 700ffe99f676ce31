/**
 * The ensemble report panel: the engine's EnsembleResult (HRM: Ensemble Report) drawn as the ablation table (oracle
 * and label-free), accuracy against the number of relabelings and of checkpoints, the checkpoint overlap and the
 * agreement matrix (puzzles × passes). One panel, reused by each new report; restored after a reload from the
 * webview's state. Exports: PNG of each chart or canvas, the report as JSON.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EnsembleParams, EnsembleResult } from '../../engine/analysis/analysis-protocol';
import type { EnsembleState, EnsembleToHost, EnsembleView, HostToEnsemble } from '../../webview/protocol';
import { ensembleHtml } from './ensemble-html';
import { pngBytes, saveExport } from './trace-export';

export const ENSEMBLE_VIEW_TYPE = 'hrmLens.ensemble';

/** EnsembleResult (engine) → EnsembleView (webview). */
export function toEnsembleView(r: EnsembleResult, p: EnsembleParams, time = new Date()): EnsembleView {
  const d = r.detail;
  const data = p.data ? p.data.split(/[\\/]/).pop() : `${r.puzzles} generated puzzles`;
  return {
    key: `${p.sources.join('|')}|${p.data ?? p.generate ?? ''}|${time.toISOString()}`,
    title: `Ensemble report · ${data}`,
    puzzles: r.puzzles, checkpoints: r.checkpoints, perturbations: r.perturbations, seconds: r.seconds,
    summary: r.summary, checkpointNames: d.checkpointNames, perturbationNames: d.perturbationNames, puzzleIds: d.puzzleIds,
    baselineCheckpoint: d.baselineCheckpoint, identityPerturbation: d.identityPerturbation, curves: d.curves,
    passes: d.passes, solved: d.solved, jaccard: d.jaccard,
  };
}

export class EnsemblePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private report: EnsembleView | undefined;
  private ready = false;
  private readonly bundleDir: vscode.Uri;
  /** Reports posted to the webview (for the in-host test). */
  postedReports = 0;

  constructor(extensionUri: vscode.Uri) {
    this.bundleDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  }

  private post(m: HostToEnsemble): void {
    if (!this.panel || !this.ready) return;
    if (m.kind === 'report') this.postedReports++;
    void this.panel.webview.postMessage(m);
  }

  private setup(panel: vscode.WebviewPanel, report: EnsembleView | undefined): void {
    this.panel = panel;
    this.report = report;
    this.ready = false;
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.bundleDir] };
    panel.webview.html = ensembleHtml(panel.webview, this.bundleDir, randomBytes(16).toString('base64'));
    panel.iconPath = vscode.Uri.joinPath(this.bundleDir, '..', '..', 'media', 'hrm-activity.svg');
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
    panel.webview.onDidReceiveMessage(async (m: EnsembleToHost) => {
      if (m.kind === 'ready') {
        this.ready = true;
        if (this.report && m.restored !== this.report.key) this.post({ kind: 'report', report: this.report });
      } else if (m.kind === 'export-png') {
        const bytes = pngBytes(m.dataUrl);
        const name = m.name.replace(/[^\w-]+/g, '-').slice(0, 40);
        this.post({ kind: 'exported', message: bytes ? await saveExport(`ensemble-${name}.png`, bytes, { 'PNG image': ['png'] }) : 'not saved: not a PNG' });
      } else if (m.kind === 'export-json' && this.report) {
        this.post({ kind: 'exported', message: await saveExport('ensemble-report.json', new TextEncoder().encode(JSON.stringify(this.report, null, 2)), { JSON: ['json'] }) });
      }
    });
  }

  show(report: EnsembleView): vscode.WebviewPanel {
    if (this.panel) {
      this.report = report;
      this.panel.reveal();
      this.post({ kind: 'report', report });
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(ENSEMBLE_VIEW_TYPE, 'HRM: Ensemble Report', vscode.ViewColumn.Active,
      { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [this.bundleDir] });
    this.setup(panel, report);
    return panel;
  }

  serializer(): vscode.WebviewPanelSerializer<EnsembleState> {
    return { deserializeWebviewPanel: async (panel, state) => this.setup(panel, state?.report) };
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

export function registerEnsemblePanel(context: vscode.ExtensionContext): EnsemblePanel {
  const panel = new EnsemblePanel(context.extensionUri);
  context.subscriptions.push(panel, vscode.window.registerWebviewPanelSerializer(ENSEMBLE_VIEW_TYPE, panel.serializer()));
  return panel;
}
