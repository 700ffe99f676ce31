/**
 * The frame every HRM Lens webview page shares: a strict Content-Security-Policy (scripts only with this load's nonce,
 * styles from the bundle folder or with the nonce, images from the bundle or data: URLs), the bundle's script, and
 * the page's own style and body. Colours come from `--vscode-*` variables only.
 */
import * as vscode from 'vscode';

export interface WebviewPage {
  title: string;
  /** The bundle in dist/webview (e.g. 'training' for training.js). */
  script: string;
  style: string;
  body: string;
}

export function webviewPage(webview: vscode.Webview, bundleDir: vscode.Uri, nonce: string, page: WebviewPage): string {
  const script = webview.asWebviewUri(vscode.Uri.joinPath(bundleDir, `${page.script}.js`));
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${page.title}</title>
<style nonce="${nonce}">
  body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 16px 16px; }
  h1 { font-size: 1.1em; font-weight: 600; word-break: break-all; }
  .muted { color: var(--vscode-descriptionForeground); }
  .badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600; border: 1px solid var(--vscode-contrastBorder, transparent); }
  .row { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
  .controls { display: flex; gap: 12px; align-items: center; margin: 12px 0; flex-wrap: wrap; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; margin-top: 12px; }
  .chart { height: 220px; position: relative; }
  .chart .png { position: absolute; right: 0; bottom: 0; }
  figure { margin: 12px 0 0; }
  figcaption { color: var(--vscode-descriptionForeground); margin-bottom: 4px; }
  table { border-collapse: collapse; }
  td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid var(--vscode-panel-border, #8884); }
  th { font-weight: 600; }
  select { background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground); border: 1px solid var(--vscode-dropdown-border, transparent); }
  :focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
${page.style}
</style></head>
<body>
${page.body}
  <script nonce="${nonce}" src="${script}"></script>
</body></html>`;
}
