/**
 * Canvas views of the ensemble report: the agreement matrix (puzzles × passes, grouped by checkpoint; colour = right
 * or wrong, full or faint = halted or not; then one column per configuration, filled when it solves the puzzle) and
 * the checkpoints' Jaccard overlap. Theme colours only. `matrixLayout` maps a pixel back to a cell for the hover and
 * keyboard read-out.
 */
import type { EnsembleView } from './protocol';
import { css, sized } from './canvas';
import { checkpointLabels, fitTail } from './checkpoint-labels';

export const CONFIGS = ['baseline', 'relabeling', 'checkpoints', 'both'] as const;


export interface MatrixLayout {
  cw: number;
  ch: number;
  top: number;
  left: number;
  gap: number;
  /** Row r shows puzzle order[r]. */
  order: number[];
}

/** The number of right passes of each puzzle (for the "by passes right" order). */
export function rightCounts(r: EnsembleView): number[] {
  const per = r.checkpoints * r.perturbations;
  return Array.from({ length: r.puzzles }, (_, i) => {
    let n = 0;
    for (let j = 0; j < per; j++) n += Number(r.passes[i * per + j]) & 1;
    return n;
  });
}

export function matrixLayout(r: EnsembleView, sort: 'input' | 'solved'): MatrixLayout {
  const per = r.checkpoints * r.perturbations;
  const cw = Math.max(4, Math.min(14, Math.floor(900 / (per + r.checkpoints + 5))));
  const ch = Math.max(3, Math.min(12, Math.floor(1200 / Math.max(1, r.puzzles))));
  const order = Array.from({ length: r.puzzles }, (_, i) => i);
  if (sort === 'solved') {
    const right = rightCounts(r);
    order.sort((a, b) => right[b] - right[a] || a - b);
  }
  return { cw, ch, top: 16, left: 4, gap: Math.max(3, Math.round(cw / 2)), order };
}

/** x of pass column (checkpoint c, perturbation p), and of configuration column k after them. */
export function passX(L: MatrixLayout, r: EnsembleView, c: number, p: number): number {
  return L.left + c * (r.perturbations * L.cw + L.gap) + p * L.cw;
}
export function configX(L: MatrixLayout, r: EnsembleView, k: number): number {
  return L.left + r.checkpoints * (r.perturbations * L.cw + L.gap) + L.gap + k * (L.cw + 2);
}

export const matrixColors = () => ({
  right: css('--vscode-charts-green', '#59a14f'), wrong: css('--vscode-charts-red', '#e15759'), fg: css('--vscode-foreground', '#888'),
  cursor: css('--vscode-focusBorder', '#007fd4'),
});

export function drawMatrix(canvas: HTMLCanvasElement, r: EnsembleView, L: MatrixLayout, rule: 'oracle' | 'labelFree', cursor?: { row: number; col: number }): void {
  const width = configX(L, r, CONFIGS.length) + 4;
  const height = L.top + r.puzzles * L.ch + 4;
  const ctx = sized(canvas, width, height);
  const col = matrixColors();
  ctx.font = `10px ${css('--vscode-font-family', 'sans-serif')}`;
  ctx.fillStyle = col.fg;
  ctx.textBaseline = 'alphabetic';
  const labels = checkpointLabels(r.checkpointNames);
  for (let c = 0; c < r.checkpoints; c++) ctx.fillText(fitTail(labels[c] ?? '', (r.perturbations * L.cw) / 6), passX(L, r, c, 0), L.top - 4);
  CONFIGS.forEach((name, k) => ctx.fillText(name[0].toUpperCase(), configX(L, r, k), L.top - 4));
  const per = r.checkpoints * r.perturbations;
  const bit = rule === 'oracle' ? 1 : 2;
  L.order.forEach((i, row) => {
    const y = L.top + row * L.ch;
    for (let c = 0; c < r.checkpoints; c++) {
      for (let p = 0; p < r.perturbations; p++) {
        const v = Number(r.passes[i * per + c * r.perturbations + p]);
        ctx.fillStyle = v & 1 ? col.right : col.wrong;
        ctx.globalAlpha = v & 2 ? 0.95 : 0.35;
        ctx.fillRect(passX(L, r, c, p), y, L.cw - 1, Math.max(1, L.ch - 1));
      }
    }
    CONFIGS.forEach((name, k) => {
      const solved = (Number(r.solved[name][i]) & bit) !== 0;
      ctx.globalAlpha = 1;
      ctx.fillStyle = solved ? col.right : col.wrong;
      if (solved) ctx.fillRect(configX(L, r, k), y, L.cw - 1, Math.max(1, L.ch - 1));
      else { ctx.strokeStyle = col.wrong; ctx.lineWidth = 1; ctx.strokeRect(configX(L, r, k) + 0.5, y + 0.5, L.cw - 2, Math.max(1, L.ch - 2)); }
    });
  });
  ctx.globalAlpha = 1;
  if (cursor) {
    ctx.strokeStyle = col.cursor;
    ctx.lineWidth = 2;
    const x = cursor.col < per ? passX(L, r, Math.floor(cursor.col / r.perturbations), cursor.col % r.perturbations) : configX(L, r, cursor.col - per);
    ctx.strokeRect(x - 1, L.top + cursor.row * L.ch - 1, L.cw + 1, L.ch + 1);
  }
}

/** The cell under a pixel: row, and column (passes 0…C·P−1, then the configurations), or undefined. */
export function cellAt(r: EnsembleView, L: MatrixLayout, x: number, y: number): { row: number; col: number } | undefined {
  const row = Math.floor((y - L.top) / L.ch);
  if (row < 0 || row >= r.puzzles) return undefined;
  for (let c = 0; c < r.checkpoints; c++) {
    const x0 = passX(L, r, c, 0);
    if (x >= x0 && x < x0 + r.perturbations * L.cw) return { row, col: c * r.perturbations + Math.floor((x - x0) / L.cw) };
  }
  for (let k = 0; k < CONFIGS.length; k++) {
    const x0 = configX(L, r, k);
    if (x >= x0 && x < x0 + L.cw) return { row, col: r.checkpoints * r.perturbations + k };
  }
  return undefined;
}

export function drawJaccard(canvas: HTMLCanvasElement, r: EnsembleView, rule: 'oracle' | 'labelFree'): void {
  const C = r.checkpoints;
  const s = Math.max(18, Math.min(48, Math.floor(240 / Math.max(1, C))));
  const left = 70;
  const ctx = sized(canvas, left + C * s + 4, C * s + 4);
  const fg = css('--vscode-foreground', '#888');
  const hot = css('--vscode-charts-blue', '#4e79a7');
  ctx.font = `10px ${css('--vscode-font-family', 'sans-serif')}`;
  ctx.textBaseline = 'middle';
  const m = r.jaccard[rule];
  const labels = checkpointLabels(r.checkpointNames);
  for (let a = 0; a < C; a++) {
    ctx.globalAlpha = 1;
    ctx.fillStyle = fg;
    ctx.fillText(fitTail(labels[a] ?? '', 11), 2, a * s + s / 2);
    for (let b = 0; b < C; b++) {
      const v = m[a * C + b];
      ctx.globalAlpha = v === null ? 0.05 : 0.1 + 0.9 * v;
      ctx.fillStyle = hot;
      ctx.fillRect(left + b * s, a * s, s - 2, s - 2);
      if (s >= 26 && v !== null) {
        ctx.globalAlpha = 1;
        ctx.fillStyle = v > 0.55 ? css('--vscode-editor-background', '#fff') : fg;
        ctx.fillText(v.toFixed(2), left + b * s + 3, a * s + s / 2);
      }
    }
  }
  ctx.globalAlpha = 1;
}
