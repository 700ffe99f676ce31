/** The ensemble report panel's page (webview/ensemble.main.ts draws into it). */
import * as vscode from 'vscode';
import { webviewPage } from './webview-page';

export function ensembleHtml(webview: vscode.Webview, bundleDir: vscode.Uri, nonce: string): string {
  return webviewPage(webview, bundleDir, nonce, {
    title: 'HRM Ensemble Report',
    script: 'ensemble',
    style: `
  .head { justify-content: space-between; }
  .note { max-width: 560px; }
  #ablation td:first-child, #ablation th:first-child { text-align: left; }
  #ablation td.best { font-weight: 700; }
  #ablation tr.focus { background: var(--vscode-list-inactiveSelectionBackground); }
  .bar { display: inline-block; height: 0.7em; background: var(--vscode-charts-blue); vertical-align: middle; margin-left: 6px; }
  body.vscode-high-contrast .bar, body.vscode-high-contrast-light .bar { background: var(--vscode-contrastActiveBorder, var(--vscode-foreground)); }
  #matrix-box { max-height: 520px; overflow: auto; border: 1px solid var(--vscode-panel-border, #8886); width: max-content; max-width: 100%; }
  #matrix { display: block; }
  #matrix-info { min-height: 1.4em; font-family: var(--vscode-editor-font-family); }
  .legend span { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle; margin: 0 4px 0 10px; border: 1px solid var(--vscode-panel-border, #8886); }`,
    body: `
  <p id="empty" class="muted">Waiting for the report…</p>
  <div id="main" hidden>
    <div class="controls head"><h1 id="title"></h1>
      <span><vscode-button id="export-json" secondary>JSON</vscode-button> <span id="export-status" class="muted" aria-live="polite"></span></span></div>
    <p id="figures" class="muted"></p>
    <div class="row">
      <figure><figcaption>Ablation (the paper's Table: baseline, + relabeling, + checkpoint ensemble, + both)</figcaption>
        <table id="ablation" aria-label="ablation table"><thead><tr><th>configuration</th><th>passes / puzzle</th><th>oracle</th><th>label-free</th></tr></thead><tbody></tbody></table>
        <p class="muted note"><i>Oracle</i>: solved when any pass of the ensemble is right (the paper's rule; it uses the labels).
        <i>Label-free</i>: the plurality answer over halted passes, ties by lower E then higher q<sub>halt</sub> — what a user without labels gets.</p></figure>
      <figure><figcaption>Checkpoint overlap (Jaccard of the puzzles each checkpoint solves, all relabelings)</figcaption><canvas id="jaccard" role="img" aria-label="checkpoint Jaccard matrix"></canvas><div><span id="jaccard-png"></span></div></figure>
    </div>
    <div class="charts" id="charts"></div>
    <figure><figcaption>Agreement matrix: puzzles (rows) × passes (columns, grouped by checkpoint, one per relabeling); then the four configurations</figcaption>
      <div class="controls">
        <label for="sort" class="muted">rows</label>
        <select id="sort" aria-label="row order"><option value="input">input order</option><option value="solved">by passes right</option></select>
        <label for="rule" class="muted">configurations by</label>
        <select id="rule" aria-label="rule of the configuration columns"><option value="oracle">oracle</option><option value="labelFree">label-free</option></select>
        <span class="legend muted"><span id="lg-exact-h"></span>right, halted<span id="lg-exact"></span>right, not halted<span id="lg-wrong-h"></span>wrong, halted<span id="lg-wrong"></span>wrong, not halted</span>
        <span id="matrix-png"></span>
      </div>
      <div id="matrix-info" class="muted" aria-live="polite"></div>
      <div id="matrix-box"><canvas id="matrix" tabindex="0" role="img" aria-label="agreement matrix; arrow keys move the cursor"></canvas></div>
    </figure>
  </div>`,
  });
}
