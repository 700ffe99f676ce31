/**
 * The "Trajectories" webview view (id `hrmLens.trajectories`, in the HRM activity-bar container): the puzzles
 * inspected in this workspace with their class badge and a sparkline of wrong cells per segment, the class
 * distribution and a class filter; a click (or Enter) reopens the inspector. Each item's context menu (webview/context,
 * webviewSection 'trajectory') offers "HRM: Patch From This Trajectory", which receives the item's puzzle and checkpoint
 * (and accepts only a trajectory of this list). Empty: a short placeholder message. Strict CSP: default-src 'none';
 * styles and the one inline script only with this render's nonce.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { TrajectoryEntry, TrajectoryStore } from './trajectory-store';

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

const esc = (t: string): string => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An inline SVG sparkline of wrong cells per segment (higher = more wrong). */
function sparkline(wrong: (number | null)[]): string {
  const w = 80;
  const h = 18;
  const vals = wrong.map((v) => v ?? 0);
  const max = Math.max(1, ...vals);
  const step = vals.length > 1 ? w / (vals.length - 1) : 0;
  const pts = vals.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' ');
  return `<svg width="${w}" height="${h}" aria-hidden="true"><polyline points="${pts}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`;
}

/** The list page: class distribution, a class filter, and one button per inspected trajectory (exported for tests). */
export function trajectoriesHtml(cspSource: string, entries: readonly TrajectoryEntry[], n = nonce()): string {
  if (entries.length === 0) return trajectoriesPlaceholderHtml(cspSource, n);
  const modes = ['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure'];
  const counts = modes.map((m) => [m, entries.filter((e) => e.mode === m).length] as const).filter(([, c]) => c > 0);
  const context = (e: TrajectoryEntry) => esc(JSON.stringify({ webviewSection: 'trajectory', puzzle: e.puzzle, checkpoint: e.checkpoint, preventDefaultContextMenuItems: true }));
  const items = entries.map((e, i) => `<li data-mode="${esc(e.mode)}" data-vscode-context="${context(e)}"><button data-i="${i}" title="${esc(e.checkpoint)}">
  <span class="badge ${e.success ? 'ok' : 'bad'}">${esc(e.mode.replace(/-/g, ' '))}</span>
  <code>${esc(e.puzzle.length > 20 ? `${e.puzzle.slice(0, 20)}…` : e.puzzle)}</code>
  <span class="spark" title="wrong cells per segment: ${e.wrong.map((v) => v ?? '–').join(' ')}">${sparkline(e.wrong)}</span>
  <span class="muted">${esc(e.checkpoint.split(/[\\/]/).pop() ?? '')}</span></button></li>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource}; style-src 'nonce-${n}'; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>HRM Trajectories</title>
<style nonce="${n}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 4px 8px; }
  ul { list-style: none; padding: 0; margin: 0; }
  button { width: 100%; text-align: left; display: grid; grid-template-columns: auto 1fr auto; gap: 2px 6px; align-items: center; background: none; color: inherit; border: 0; padding: 4px; font: inherit; cursor: pointer; }
  button:hover, button:focus { background: var(--vscode-list-hoverBackground); outline: 1px solid var(--vscode-focusBorder); }
  .badge { padding: 0 6px; border-radius: 8px; font-size: 0.85em; border: 1px solid; }
  .badge.ok { color: var(--vscode-testing-iconPassed, #388a34); }
  .badge.bad { color: var(--vscode-errorForeground); }
  .muted { color: var(--vscode-descriptionForeground); grid-column: 1 / -1; font-size: 0.85em; }
  code { font-family: var(--vscode-editor-font-family); }
  .spark { color: var(--vscode-charts-red, #e15759); }
  select { background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground); border: 1px solid var(--vscode-dropdown-border, transparent); margin: 4px 0; }
</style></head>
<body>
<p class="dist">${counts.map(([m, c]) => `${esc(m.replace(/-/g, ' '))}: ${c}`).join(' · ')}</p>
<label>class <select id="filter"><option value="">all</option>${counts.map(([m]) => `<option value="${esc(m)}">${esc(m.replace(/-/g, ' '))}</option>`).join('')}</select></label>
<ul id="list">${items}</ul>
<script nonce="${n}">
  const vscode = acquireVsCodeApi();
  document.getElementById('list').addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (b) vscode.postMessage({ kind: 'open', index: Number(b.dataset.i) });
  });
  document.getElementById('filter').addEventListener('change', (e) => {
    for (const li of document.querySelectorAll('#list li')) li.hidden = !!e.target.value && li.dataset.mode !== e.target.value;
  });
</script>
</body></html>`;
}

export class TrajectoriesViewProvider implements vscode.WebviewViewProvider {
  constructor(private readonly store: TrajectoryStore) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = { enableScripts: true, localResourceRoots: [] };
    const render = () => { view.webview.html = trajectoriesHtml(view.webview.cspSource, this.store.entries()); };
    render();
    const sub = this.store.onDidChange(render);
    view.onDidDispose(() => sub.dispose());
    view.webview.onDidReceiveMessage((m: { kind?: string; index?: number }) => {
      const e = m.kind === 'open' && typeof m.index === 'number' ? this.store.entries()[m.index] : undefined;
      if (e) void vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: e.puzzle, checkpoint: e.checkpoint });
    });
  }
}

export function registerTrajectoriesView(store: TrajectoryStore): vscode.Disposable {
  return vscode.window.registerWebviewViewProvider(TRAJECTORIES_VIEW, new TrajectoriesViewProvider(store));
}
