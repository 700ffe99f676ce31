/**
 * The "Trajectories" webview view (id `hrmLens.trajectories`, in the HRM activity-bar container). A placeholder
 * until the webviews work fills it: a short message in the theme's colours, no scripts, and a
 * strict Content-Security-Policy (default-src 'none'; styles only with this render's nonce).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export const TRAJECTORIES_VIEW = 'hrmLens.trajectories';

export function nonce(): string {
  return randomBytes(16).toString('base64');
}

/** The placeholder page (exported for tests). */
export function trajectoriesPlaceholderHtml(cspSource: string, n = nonce()): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource}; style-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>HRM Trajectories</title>
<style nonce="${n}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-descriptionForeground); padding: 8px 12px; }
  h2 { font-size: 1em; color: var(--vscode-foreground); margin: 0 0 6px; }
  code { font-family: var(--vscode-editor-font-family); color: var(--vscode-textPreformat-foreground); }
</style>
</head>
<body>
<h2>Trajectories</h2>
<p>Hidden-state trajectories of an inspected puzzle will appear here, segment by segment.</p>
<p>Run <code>HRM: Inspect Puzzle</code>, or use "Inspect with this Checkpoint" on a checkpoint in the Runs view.</p>
</body>
</html>`;
}

export class TrajectoriesViewProvider implements vscode.WebviewViewProvider {
  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = { enableScripts: false, localResourceRoots: [] };
    view.webview.html = trajectoriesPlaceholderHtml(view.webview.cspSource);
  }
}

export function registerTrajectoriesView(): vscode.Disposable {
  return vscode.window.registerWebviewViewProvider(TRAJECTORIES_VIEW, new TrajectoriesViewProvider());
}
