/**
 * The error landscape drawn as the paper draws it: E of the decoded grid as a heat map whose colour scale stops at
 * PAPER_E_CLIP (higher values take its colour; the colour bar's top label reads "≥ 40"), a fixed random
 * PAPER_ARROW_PERCENT% of the flow arrows at their full length (where one segment really moves the point, cut at the
 * plane's edge), and the puzzle's own z_H trajectory on top, the current segment's updates enlarged. The numbers come
 * from webview/landscape-paper.ts. The canvas carries what it drew for the browser test: data-style="paper",
 * data-clip, data-arrows (arrows drawn) and data-arrow-sample (their grid points).
 */
import type { InspectorLandscape, InspectorTrace } from './protocol';
import { css, sized } from './canvas';
import { PAPER_ARROW_PERCENT, PAPER_ARROW_SEED, PAPER_E_CLIP, arrowHead, fullLengthArrow, legendTicks, paperColour, sampleArrows } from './landscape-paper';

const LEGEND_WIDTH = 64;

export function drawLandscapePaper(canvas: HTMLCanvasElement, l: InspectorLandscape, t: InspectorTrace, current: number): void {
  const px = Math.max(4, Math.floor(328 / l.size));
  const side = px * l.size;
  const ctx = sized(canvas, side + LEGEND_WIDTH, side);
  const fg = css('--vscode-foreground', '#888');
  for (let p = 0; p < l.heights.length; p++) {
    ctx.fillStyle = paperColour(l.heights[p]);
    ctx.fillRect((p % l.size) * px, (l.size - 1 - Math.floor(p / l.size)) * px, px, px);
  }
  const toX = (i: number) => (i + l.radius + 0.5) * px;
  const toY = (j: number) => (l.size - 1 - (j + l.radius) + 0.5) * px;

  // Arrows at full length, cut at the plane's edge: a dark halo under a light line reads on every colour of the map.
  const sample = sampleArrows(l.heights.length, PAPER_ARROW_SEED, PAPER_ARROW_PERCENT);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, side, side);
  ctx.clip();
  ctx.lineCap = 'round';
  for (const [width, colour] of [[3, 'rgba(0, 0, 0, 0.55)'], [1.25, 'rgba(255, 255, 255, 0.95)']] as const) {
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = width;
    for (const p of sample) {
      const a = fullLengthArrow(l.flow, l.size, l.radius, p);
      const [x0, y0, x1, y1] = [toX(a.start.i), toY(a.start.j), toX(a.end.i), toY(a.end.j)];
      const head = Math.hypot(x1 - x0, y1 - y0) >= 1 ? arrowHead(x0, y0, x1, y1, Math.max(4, px)) : null;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      if (head) {
        ctx.lineTo(x1, y1);
        ctx.moveTo(head[0][0], head[0][1]);
        ctx.lineTo(x1, y1);
        ctx.lineTo(head[1][0], head[1][1]);
        ctx.stroke();
      } else {
        // A point that one segment does not move: a dot.
        ctx.arc(x0, y0, width, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
  ctx.restore();

  const n = l.trajectory.length / 2;
  const perSegment = t.pca?.perSegment ?? Math.max(1, Math.round(n / t.segments.length));
  const focus = css('--vscode-focusBorder', fg);
  ctx.strokeStyle = focus;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let q = 0; q < n; q++) {
    const [x, y] = [toX(l.trajectory[2 * q]), toY(l.trajectory[2 * q + 1])];
    if (q === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  }
  ctx.stroke();
  for (let q = 0; q < n; q++) {
    const cur = Math.floor(q / perSegment) === current;
    ctx.fillStyle = cur ? focus : '#ffffff';
    ctx.beginPath();
    ctx.arc(toX(l.trajectory[2 * q]), toY(l.trajectory[2 * q + 1]), cur ? 4 : 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  // The colour bar: E from 0 (bottom) to the clip (top), labelled "≥ 40" there.
  const barX = side + 10;
  const [top, bottom] = [14, side - 8];
  for (let y = top; y < bottom; y++) {
    ctx.fillStyle = paperColour(((bottom - y) / (bottom - top)) * PAPER_E_CLIP);
    ctx.fillRect(barX, y, 12, 1);
  }
  ctx.strokeStyle = fg;
  ctx.lineWidth = 1;
  ctx.strokeRect(barX - 0.5, top - 0.5, 13, bottom - top + 1);
  ctx.fillStyle = fg;
  ctx.font = `11px ${css('--vscode-font-family', 'sans-serif')}`;
  ctx.textBaseline = 'middle';
  for (const tick of legendTicks(PAPER_E_CLIP)) {
    const y = bottom - (tick.value / PAPER_E_CLIP) * (bottom - top);
    ctx.fillRect(barX + 13, y, 3, 1);
    ctx.fillText(tick.label, barX + 18, y);
  }
  ctx.textBaseline = 'top';
  ctx.fillText('E', barX + 2, 0);

  canvas.dataset.style = 'paper';
  canvas.dataset.clip = String(PAPER_E_CLIP);
  canvas.dataset.arrows = String(sample.length);
  canvas.dataset.arrowSample = sample.join(',');
  canvas.setAttribute('aria-label', `error landscape, paper style: E colour scale clipped at ${PAPER_E_CLIP}, ${sample.length} of ${l.heights.length} flow arrows at full length`);
}
