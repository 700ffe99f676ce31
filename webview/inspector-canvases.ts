/**
 * Canvas views of the inspector: the fixed-point stability heatmap (segments × cells; shade = confidence of the
 * decoded digit, a red bar under wrong cells, a dot on cells changed since the previous segment, the current segment
 * outlined) and the PCA trajectory of z_H (a point per H-update, lines coloured from early to late, the current
 * segment's updates enlarged). Colours come from the theme's CSS variables.
 */
import type { InspectorLandscape, InspectorTrace } from './protocol';
import { css, sized } from './canvas';



export function drawStability(canvas: HTMLCanvasElement, t: InspectorTrace, current: number): void {
  const S = t.segments.length;
  const cells = t.puzzle.length;
  const cw = Math.max(4, Math.min(24, Math.floor(720 / cells)));
  const ch = Math.max(8, Math.min(18, Math.floor(240 / S)));
  const left = 28;
  const ctx = sized(canvas, left + cells * cw + 2, S * ch + 2);
  const fg = css('--vscode-foreground', '#888');
  const hot = css('--vscode-charts-blue', '#4e79a7');
  const bad = css('--vscode-errorForeground', '#e15759');
  ctx.font = `${Math.min(11, ch - 1)}px ${css('--vscode-font-family', 'sans-serif')}`;
  ctx.textBaseline = 'middle';
  for (let k = 0; k < S; k++) {
    ctx.fillStyle = fg;
    ctx.globalAlpha = 1;
    ctx.fillText(String(k + 1), 2, k * ch + ch / 2);
    const g = t.segments[k].grid;
    const prev = k > 0 ? t.segments[k - 1].grid : undefined;
    for (let i = 0; i < cells; i++) {
      const x = left + i * cw;
      const y = k * ch;
      ctx.globalAlpha = 0.15 + 0.85 * Math.max(0, Math.min(1, t.confidence[k * cells + i] ?? 0));
      ctx.fillStyle = hot;
      ctx.fillRect(x, y, cw - 1, ch - 1);
      ctx.globalAlpha = 1;
      if (t.solution && g[i] !== t.solution[i]) {
        ctx.fillStyle = bad;
        ctx.fillRect(x, y + ch - 3, cw - 1, 2);
      }
      if (prev && prev[i] !== g[i]) {
        ctx.fillStyle = fg;
        ctx.fillRect(x + cw / 2 - 1, y + ch / 2 - 1, 2, 2);
      }
    }
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = css('--vscode-focusBorder', fg);
  ctx.lineWidth = 2;
  ctx.strokeRect(left - 1, current * ch, cells * cw + 1, ch);
}

export function drawPca(canvas: HTMLCanvasElement, t: InspectorTrace, current: number): void {
  const size = 260;
  const ctx = sized(canvas, size, size);
  const fg = css('--vscode-foreground', '#888');
  const p = t.pca;
  if (!p || p.points.length < 4) {
    ctx.fillStyle = fg;
    ctx.fillText('no latent trajectory', 10, 20);
    return;
  }
  const n = p.points.length / 2;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, p.points[2 * i]); x1 = Math.max(x1, p.points[2 * i]);
    y0 = Math.min(y0, p.points[2 * i + 1]); y1 = Math.max(y1, p.points[2 * i + 1]);
  }
  const pad = 16;
  const sx = (v: number) => pad + ((v - x0) / (x1 - x0 || 1)) * (size - 2 * pad);
  const sy = (v: number) => size - pad - ((v - y0) / (y1 - y0 || 1)) * (size - 2 * pad);
  const early = css('--vscode-charts-blue', '#4e79a7');
  const late = css('--vscode-charts-orange', '#f28e2b');
  // Arrows from each H-update to the next, coloured by step (early → late), with a head where they land.
  for (let i = 1; i < n; i++) {
    const [ax, ay, bx, by] = [sx(p.points[2 * i - 2]), sy(p.points[2 * i - 1]), sx(p.points[2 * i]), sy(p.points[2 * i + 1])];
    ctx.strokeStyle = i < n / 2 ? early : late;
    ctx.fillStyle = ctx.strokeStyle;
    ctx.globalAlpha = 0.4 + 0.6 * (i / n);
    ctx.beginPath();
    ctx.moveTo(ax, ay);
    ctx.lineTo(bx, by);
    ctx.stroke();
    const len = Math.hypot(bx - ax, by - ay);
    if (len > 8) {
      const a = Math.atan2(by - ay, bx - ax);
      const [hx, hy] = [bx - 3 * Math.cos(a), by - 3 * Math.sin(a)];
      ctx.beginPath();
      ctx.moveTo(hx, hy);
      ctx.lineTo(hx - 7 * Math.cos(a - 0.4), hy - 7 * Math.sin(a - 0.4));
      ctx.lineTo(hx - 7 * Math.cos(a + 0.4), hy - 7 * Math.sin(a + 0.4));
      ctx.closePath();
      ctx.fill();
    }
  }
  ctx.globalAlpha = 1;
  for (let i = 0; i < n; i++) {
    const seg = Math.floor(i / p.perSegment);
    const r = seg === current ? 5 : 2.5;
    ctx.fillStyle = seg === current ? css('--vscode-focusBorder', fg) : i < n / 2 ? early : late;
    ctx.beginPath();
    ctx.arc(sx(p.points[2 * i]), sy(p.points[2 * i + 1]), r, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.fillStyle = fg;
  ctx.fillText(`PC1 ${(p.explained[0] * 100).toFixed(0)}% · PC2 ${(p.explained[1] * 100).toFixed(0)}%`, 6, 12);
}

/**
 * The error landscape: E of the decoded grid at every point of the PC1/PC2 plane (darker = fewer conflicts), one
 * flow arrow per few points (where one segment takes that state), and the puzzle's own z_H trajectory on top, the
 * current segment's updates enlarged. The centre is the state after the last segment.
 */
export function drawLandscape(canvas: HTMLCanvasElement, l: InspectorLandscape, t: InspectorTrace, current: number): void {
  const px = Math.max(4, Math.floor(328 / l.size));
  const side = px * l.size;
  const ctx = sized(canvas, side, side);
  const maxE = Math.max(1, ...l.heights);
  const hot = css('--vscode-charts-red', '#e15759');
  const cool = css('--vscode-charts-green', '#59a14f');
  for (let p = 0; p < l.heights.length; p++) {
    const x = (p % l.size) * px;
    const y = (l.size - 1 - Math.floor(p / l.size)) * px;
    const e = l.heights[p] / maxE;
    ctx.fillStyle = e === 0 ? cool : hot;
    ctx.globalAlpha = e === 0 ? 0.55 : 0.15 + 0.85 * e;
    ctx.fillRect(x, y, px, px);
  }
  ctx.globalAlpha = 1;
  if (l.basins) {
    // Basins: a square in each point, green for the solution's basin, another chart colour per spurious fixed point.
    const spurious = ['--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-orange', '--vscode-charts-blue'].map((v) => css(v, '#b07aa1'));
    const q = Math.max(2, Math.round(px * 0.45));
    for (let p = 0; p < l.basins.labels.length; p++) {
      const lab = l.basins.labels[p];
      if (lab < 0) continue;
      ctx.fillStyle = lab === 0 ? cool : spurious[(lab - 1) % spurious.length];
      ctx.fillRect((p % l.size) * px + (px - q) / 2, (l.size - 1 - Math.floor(p / l.size)) * px + (px - q) / 2, q, q);
    }
  }
  const toX = (i: number) => (i + l.radius + 0.5) * px;
  const toY = (j: number) => (l.size - 1 - (j + l.radius) + 0.5) * px;
  const fg = css('--vscode-foreground', '#888');
  ctx.strokeStyle = fg;
  ctx.globalAlpha = 0.6;
  const every = Math.max(1, Math.round(l.size / 10));
  for (let p = 0; p < l.heights.length; p++) {
    const i = (p % l.size) - l.radius;
    const j = Math.floor(p / l.size) - l.radius;
    if (i % every !== 0 || j % every !== 0) continue;
    const fi = l.flow[2 * p];
    const fj = l.flow[2 * p + 1];
    const len = Math.hypot(fi - i, fj - j) || 1;
    const k = Math.min(1, every * 0.8 / len);
    const ex = toX(i + (fi - i) * k);
    const ey = toY(j + (fj - j) * k);
    ctx.beginPath();
    ctx.moveTo(toX(i), toY(j));
    ctx.lineTo(ex, ey);
    ctx.stroke();
    ctx.fillStyle = fg;
    ctx.fillRect(ex - 1, ey - 1, 2, 2);
  }
  ctx.globalAlpha = 1;
  const n = l.trajectory.length / 2;
  const perSegment = t.pca?.perSegment ?? Math.max(1, Math.round(n / t.segments.length));
  ctx.strokeStyle = css('--vscode-focusBorder', fg);
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let q = 0; q < n; q++) {
    const x = toX(l.trajectory[2 * q]);
    const y = toY(l.trajectory[2 * q + 1]);
    if (q === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  }
  ctx.stroke();
  for (let q = 0; q < n; q++) {
    const cur = Math.floor(q / perSegment) === current;
    ctx.fillStyle = cur ? css('--vscode-focusBorder', fg) : fg;
    ctx.beginPath();
    ctx.arc(toX(l.trajectory[2 * q]), toY(l.trajectory[2 * q + 1]), cur ? 4 : 2, 0, 2 * Math.PI);
    ctx.fill();
  }
}
