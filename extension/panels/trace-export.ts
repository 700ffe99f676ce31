/**
 * The inspector's exports, formatted on the host: the trace as JSON (the InspectorTrace the webview shows) or CSV (one
 * row per segment, then one row per segment × cell with digit, correctness and confidence), and the save itself
 * (a save dialog, then vscode.workspace.fs, so it works in remote workspaces too).
 */
import * as vscode from 'vscode';
import type { InspectorTrace } from '../../webview/protocol';
import { csvCell } from './csv';

export function traceCsv(t: InspectorTrace): string {
  const lines = [['segment', 'exact', 'wrong', 'energy', 'loss', 'changed', 'q_halt', 'q_continue', 'residual_h', 'grid'].join(',')];
  for (const s of t.segments) lines.push([s.segment, s.exact, s.wrong, s.energy, s.loss, s.changed, s.qHalt, s.qContinue, s.residualH, s.grid].map(csvCell).join(','));
  lines.push('', ['segment', 'cell', 'digit', 'given', 'correct', 'confidence'].join(','));
  const cells = t.puzzle.length;
  t.segments.forEach((s, k) => {
    for (let i = 0; i < cells; i++) {
      const given = t.puzzle[i] !== '.' && t.puzzle[i] !== '0';
      const correct = t.solution === null ? null : s.grid[i] === t.solution[i];
      lines.push([s.segment, i, s.grid[i], given, correct, t.confidence[k * cells + i] ?? null].map(csvCell).join(','));
    }
  });
  return `${lines.join('\n')}\n`;
}

export function traceJson(t: InspectorTrace): string {
  return `${JSON.stringify(t, null, 1)}\n`;
}

/** A file stem for this trace: checkpoint stem + the puzzle's first cells. */
export function exportStem(t: InspectorTrace): string {
  const ckpt = (t.checkpoint.split(/[\\/]/).pop() ?? 'checkpoint').replace(/\.safetensors$/, '');
  return `${ckpt}-${t.puzzle.slice(0, 16).replace(/[^0-9]/g, '_')}`;
}

/** Asks where to save `bytes` (default: the first workspace folder) and writes them; the message says where, or why not. */
export async function saveExport(fileName: string, bytes: Uint8Array, filters: Record<string, string[]>): Promise<string> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({ title: `HRM: save ${fileName}`, defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : undefined, filters });
  if (!target) return 'not saved';
  try {
    await vscode.workspace.fs.writeFile(target, bytes);
    return `saved ${vscode.workspace.asRelativePath(target)}`;
  } catch (e) {
    return `not saved: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** data:image/png;base64,… → bytes, or undefined when it is not a PNG data URL. */
export function pngBytes(dataUrl: string): Uint8Array | undefined {
  const m = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl);
  return m ? Buffer.from(m[1], 'base64') : undefined;
}
