/**
 * The inspector webview's page (webview/inspector.main.ts draws into it; its Interventions section:
 * inspector-interventions-html.ts): strict CSP with a per-load nonce, theme colours only.
 */
import * as vscode from 'vscode';
import { webviewPage } from './webview-page';
import { INTERVENTIONS_BODY, INTERVENTIONS_STYLE } from './inspector-interventions-html';

export function inspectorHtml(webview: vscode.Webview, bundleDir: vscode.Uri, nonce: string): string {
  return webviewPage(webview, bundleDir, nonce, {
    title: 'HRM Inspector',
    script: 'inspector',
    style: `
  .badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600; border: 1px solid var(--vscode-contrastBorder, transparent); }
  .badge.success { background: var(--vscode-testing-iconPassed, #388a34); color: var(--vscode-editor-background); }
  .badge.failure { background: var(--vscode-testing-iconFailed, #c72e0f); color: var(--vscode-editor-background); }
  #grid, #since { display: grid; grid-template-columns: repeat(var(--n, 4), 2.2em); grid-auto-rows: 2.2em; border: 2px solid var(--vscode-foreground); width: max-content; }
  .cell { display: flex; align-items: center; justify-content: center; border: 1px solid var(--vscode-panel-border, #8886); font-size: 1.15em; }
  .cell.box-right { border-right: 2px solid var(--vscode-foreground); }
  .cell.box-bottom { border-bottom: 2px solid var(--vscode-foreground); }
  .cell { background: color-mix(in srgb, var(--vscode-charts-blue) calc(var(--conf, 0%) * 0.45), transparent); }
  .cell.given { font-weight: 700; background: var(--vscode-editor-inactiveSelectionBackground); }
  /* High contrast: no fills behind text (the theme's selection greys are too light for its white text). */
  body.vscode-high-contrast .cell.given, body.vscode-high-contrast-light .cell.given { background: none; box-shadow: inset 0 0 0 1px var(--vscode-contrastBorder); }
  #since { font-size: 0.8em; grid-template-columns: repeat(var(--n, 4), 1.9em); grid-auto-rows: 1.9em; }
  #since .cell { background: none; color: var(--vscode-descriptionForeground); }
  body:not(.vscode-high-contrast):not(.vscode-high-contrast-light) #since .cell.given { background: var(--vscode-editor-inactiveSelectionBackground); }
  .cell.wrong { color: var(--vscode-errorForeground); text-decoration: underline; }
  .cell.changed { outline: 2px solid var(--vscode-focusBorder); outline-offset: -3px; }
  .controls { display: flex; gap: 12px; align-items: center; margin: 12px 0; }
  #scrubber { width: 280px; accent-color: var(--vscode-focusBorder); }
  #landscape-style input { accent-color: var(--vscode-focusBorder); }
  #landscape-style input:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
  #charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; margin-top: 12px; }
  .chart { height: 200px; position: relative; }
  .chart .png { position: absolute; right: 0; bottom: 0; }
  .figure-head { display: flex; gap: 8px; align-items: center; justify-content: space-between; }
  .exports { display: flex; gap: 8px; align-items: center; }
  #table-box { max-height: 260px; overflow-y: auto; }
  td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid var(--vscode-panel-border, #8884); }
  tr.current { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
  tbody tr { cursor: pointer; }
  .chip { display: inline-block; margin: 0 4px 4px 0; padding: 1px 6px; border-radius: 4px; border: 1px solid var(--vscode-panel-border, #8886); font-family: var(--vscode-editor-font-family); }
  .chip.ok { border-color: var(--vscode-testing-iconPassed, #388a34); }
  .chip.bad { border-color: var(--vscode-errorForeground); color: var(--vscode-errorForeground); }
  .chip.vote { font-weight: 600; }
  .chip.pending { border-style: dashed; color: var(--vscode-descriptionForeground); }${INTERVENTIONS_STYLE}`,
    body: `
  <p id="empty" class="muted">Waiting for the trace…</p>
  <div id="main" hidden>
    <div class="figure-head"><h1 id="title"></h1>
      <div class="exports"><vscode-button id="export-json" secondary>JSON</vscode-button><vscode-button id="export-csv" secondary>CSV</vscode-button>
        <span id="export-status" class="muted" aria-live="polite"></span></div></div>
    <p><span id="badge" class="badge" role="status"></span> <span id="evidence" class="muted"></span></p>
    <p id="marks" class="muted"></p>
    <p><span class="muted">digit relabelings (answers mapped back):</span> <span id="strip" role="list"></span></p>
    <div class="controls">
      <vscode-button id="play" secondary>Play</vscode-button>
      <input id="scrubber" type="range" min="0" max="0" step="1" value="0" aria-label="segment">
      <span id="segment-label" aria-live="polite"></span>
      <vscode-checkbox id="solution">show the solution</vscode-checkbox>
    </div>
    <div class="row">
      <figure><figcaption>Grid (shade = confidence, outline = changed, red = wrong)</figcaption><div id="grid" role="grid" aria-label="grid at the current segment"></div></figure>
      <figure><figcaption>Segments since the last change</figcaption><div id="since" role="grid" aria-label="segments since each cell last changed"></div></figure>
      <div>
        <p id="figures"></p>
        <div id="table-box">
        <table id="table" aria-label="per-segment figures"><thead><tr><th>seg</th><th>exact</th><th>wrong</th><th>E</th><th>loss</th><th>changed</th><th>σ(q_halt)</th><th>σ(q_cont)</th><th>residual</th></tr></thead><tbody></tbody></table></div>
      </div>
    </div>
    <div id="charts"></div>
    <div class="row">
      <figure><figcaption>Fixed-point stability: segments × cells (shade = confidence, red = wrong, dot = changed)</figcaption><canvas id="stability" role="img" aria-label="stability heatmap"></canvas><div><span id="stability-png"></span></div></figure>
      <figure><figcaption>Latent trajectory (z<sub>H</sub> after each H-update, PCA)</figcaption><canvas id="pca" role="img" aria-label="PCA trajectory"></canvas><div><span id="pca-png"></span></div></figure>
    </div>
    <figure><figcaption>Error landscape on the PC1/PC2 plane (E of the decoded grid: green = 0 conflicts, red = many; arrows: one segment of flow; line: this puzzle's trajectory, centre = last state; squares: basins, green = the solution's)</figcaption>
      <div class="controls">
        <select id="landscape-size" aria-label="landscape grid size"><option value="21">21×21</option><option value="41" selected>41×41</option></select>
        <vscode-checkbox id="landscape-basins" title="also label every point with the fixed point it settles in (slower)">basins</vscode-checkbox>
        <vscode-button id="landscape-compute">Compute landscape</vscode-button>
        <vscode-button id="landscape-cancel" secondary hidden>Cancel</vscode-button>
        <span id="landscape-status" class="muted" aria-live="polite"></span>
        <span id="landscape-png"></span>
      </div>
      <div class="controls" id="landscape-style" role="radiogroup" aria-label="how the landscape is drawn">
        <label><input type="radio" name="landscape-style" value="normalized" checked> Normalized arrows</label>
        <label><input type="radio" name="landscape-style" value="paper"> Paper style</label>
        <span id="landscape-style-note" class="muted"></span>
      </div>
      <canvas id="landscape" role="img" aria-label="error landscape"></canvas>
    </figure>${INTERVENTIONS_BODY}
  </div>`,
  });
}
