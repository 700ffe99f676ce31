/** The training dashboard's page (webview/training.main.ts draws into it). */
import * as vscode from 'vscode';
import { webviewPage } from './webview-page';

export function trainingHtml(webview: vscode.Webview, bundleDir: vscode.Uri, nonce: string): string {
  return webviewPage(webview, bundleDir, nonce, {
    title: 'HRM Training',
    script: 'training',
    style: `
  .badge.training, .badge.stopping, .badge.external { background: var(--vscode-progressBar-background, #0e70c0); color: var(--vscode-editor-background); }
  .badge.finished { background: var(--vscode-testing-iconPassed, #388a34); color: var(--vscode-editor-background); }
  .badge.stopped, .badge.idle { background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
  .badge.failed { background: var(--vscode-testing-iconFailed, #c72e0f); color: var(--vscode-editor-background); }
  body.vscode-high-contrast .badge, body.vscode-high-contrast-light .badge { background: none; color: var(--vscode-foreground); }
  #stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 8px; margin: 8px 0; }
  .stat { border: 1px solid var(--vscode-panel-border, #8886); border-radius: 4px; padding: 4px 8px; }
  .stat .v { font-size: 1.3em; font-weight: 600; font-variant-numeric: tabular-nums; }
  progress { width: 260px; accent-color: var(--vscode-progressBar-background); }
  #checkpoints button { background: none; border: 1px solid var(--vscode-panel-border, #8886); color: var(--vscode-textLink-foreground); border-radius: 4px; margin: 0 4px 4px 0; cursor: pointer; font: inherit; }
  #heatmap-box { position: relative; }
  #heatmap { width: 100%; height: 180px; display: block; }`,
    body: `
  <p id="empty" class="muted">Waiting for the run…</p>
  <div id="main" hidden>
    <h1 id="title"></h1>
    <div class="controls">
      <span id="badge" class="badge" role="status"></span>
      <progress id="progress" max="1" value="0" aria-label="training progress"></progress>
      <span id="progress-label" aria-live="polite"></span>
      <vscode-button id="stop" secondary>Stop</vscode-button>
      <vscode-button id="resume" secondary>Resume…</vscode-button>
      <label class="muted" for="smoothing">smoothing</label>
      <select id="smoothing" aria-label="smoothing of the curves">
        <option value="0">none</option><option value="0.6">0.6</option><option value="0.9" selected>0.9</option><option value="0.98">0.98</option>
      </select>
    </div>
    <p id="message" class="muted" aria-live="polite"></p>
    <div id="stats"></div>
    <div class="charts" id="charts"></div>
    <figure id="heatmap-box"><figcaption>Exact accuracy per ACT segment (rows: segment 1 at the top) over training steps (columns); shade = fraction exact, blank = no slot at that segment</figcaption>
      <canvas id="heatmap" role="img" aria-label="step × segment exact accuracy heatmap"></canvas><div><span id="heatmap-png"></span> <span id="export-status" class="muted" aria-live="polite"></span></div></figure>
    <figure><figcaption>Checkpoints (held-out exact accuracy when evaluated; click: inspect a puzzle with it)</figcaption><div id="checkpoints"></div></figure>
  </div>`,
  });
}
