/** The runs comparison's page (webview/compare.main.ts draws into it). */
import * as vscode from 'vscode';
import { webviewPage } from './webview-page';

export function compareHtml(webview: vscode.Webview, bundleDir: vscode.Uri, nonce: string): string {
  return webviewPage(webview, bundleDir, nonce, {
    title: 'HRM Compare Runs',
    script: 'compare',
    style: `
  .head { justify-content: space-between; }
  input[type=range] { accent-color: var(--vscode-button-background); width: 160px; }
  #smoothing-value { font-variant-numeric: tabular-nums; min-width: 2.5em; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0; }
  .legend label { display: inline-flex; align-items: center; gap: 6px; cursor: pointer; }
  .legend input { accent-color: var(--vscode-button-background); margin: 0; }
  .swatch { display: inline-block; width: 18px; height: 0; border-top: 3px solid currentColor; vertical-align: middle; }
  .swatch.dashed { border-top-style: dashed; }
  .table-box { overflow-x: auto; max-width: 100%; }
  #runs-table td, #runs-table th { white-space: nowrap; }
  #runs-table th:first-child, #runs-table .text { text-align: left; }
  #runs-table th button { background: none; border: none; color: inherit; font: inherit; font-weight: 600; cursor: pointer; padding: 0; white-space: nowrap; }
  #runs-table th button:hover { color: var(--vscode-textLink-foreground); }
  #runs-table tr.off td { opacity: 0.55; }
  #notes li { margin: 2px 0; }
  #notes:empty { display: none; }`,
    body: `
  <p id="empty" class="muted">Waiting for the runs…</p>
  <div id="main" hidden>
    <div class="controls head"><h1 id="title"></h1>
      <span><vscode-button id="export-csv" secondary>Export CSV</vscode-button> <span id="export-status" class="muted" aria-live="polite"></span></span></div>
    <figure><figcaption>Settings and held-out accuracy (sort by a column: click its header, or Tab to it and press Enter)</figcaption>
      <div class="table-box"><table id="runs-table" aria-label="runs compared"><thead></thead><tbody></tbody></table></div></figure>
    <ul id="notes" class="muted"></ul>
    <div class="controls">
      <label class="muted" for="smoothing">smoothing</label>
      <input type="range" id="smoothing" min="0" max="0.99" step="0.01" value="0.9" aria-label="smoothing of the curves (exponential moving average weight)">
      <output id="smoothing-value" for="smoothing"></output>
      <label class="muted"><input type="checkbox" id="log-loss" checked> log-scale loss</label>
      <label class="muted" for="segment">segment</label>
      <select id="segment" aria-label="ACT segment of the per-segment exact chart"></select>
    </div>
    <div id="legend" class="legend" role="group" aria-label="runs drawn in the charts"></div>
    <div class="charts" id="charts"></div>
  </div>`,
  });
}
