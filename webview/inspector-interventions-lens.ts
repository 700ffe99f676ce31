/**
 * The logit lens strip: one bar per update inside each segment, its height the wrong cells of the state decoded
 * through the output head. z_H reads (the head's own input) are solid bars; z_L reads (the same head on z_L, an
 * off-distribution read) are hollow bars, and the legend says so. Segments are separated by a gap and labelled; the
 * update where the wrong cells drop the most is marked "jump"; the segment selected in the inspector is shaded.
 */
import type { LensResult } from './protocol';
import { css, sized } from './canvas';
import { lensBars } from './inspector-interventions-model';

export interface LensElements { summary: HTMLElement; canvas: HTMLCanvasElement }

export function renderLens(el: LensElements, r: LensResult, currentSegment: number): string {
  const bars = lensBars(r);
  const bw = Math.max(3, Math.min(14, Math.floor(900 / Math.max(1, bars.length))));
  const gap = Math.max(4, bw);
  const segments = new Set(bars.map((b) => b.segment)).size;
  const left = 30;
  const top = 30;
  const plotH = 110;
  const font = css('--vscode-font-family', 'sans-serif');
  const ZH_TEXT = 'z_H read (the head\'s own input)';
  const ZL_TEXT = 'z_L read through the same head (hollow: off-distribution)';
  const legendWidth = textWidth(`${ZH_TEXT}${ZL_TEXT}`, `10px ${font}`) + 60;
  const width = Math.max(left + bars.length * bw + segments * gap + 8, left + legendWidth);
  const ctx = sized(el.canvas, width, top + plotH + 34);
  const fg = css('--vscode-foreground', '#888');
  const zh = css('--vscode-charts-blue', '#4e79a7');
  const zl = css('--vscode-charts-orange', '#f28e2b');
  const accent = css('--vscode-focusBorder', fg);
  const bad = css('--vscode-errorForeground', '#e15759');
  const maxWrong = Math.max(1, ...bars.map((b) => b.wrong ?? 0));
  const yOf = (w: number) => top + plotH - (w / maxWrong) * plotH;
  ctx.font = `10px ${font}`;
  ctx.textBaseline = 'alphabetic';
  // Legend: solid = z_H, hollow = z_L.
  ctx.fillStyle = zh;
  ctx.fillRect(left, 6, 10, 10);
  ctx.fillStyle = fg;
  ctx.fillText(ZH_TEXT, left + 14, 15);
  const lx = left + 14 + ctx.measureText(ZH_TEXT).width + 16;
  ctx.strokeStyle = zl;
  ctx.lineWidth = 1.5;
  ctx.strokeRect(lx + 0.5, 6.5, 9, 9);
  ctx.fillText(ZL_TEXT, lx + 14, 15);
  // Axis: wrong cells.
  ctx.fillText(String(maxWrong), 4, top + 8);
  ctx.fillText('0', 4, top + plotH);
  ctx.save();
  ctx.translate(12, top + plotH / 2 + 20);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('wrong', 0, 0);
  ctx.restore();
  let x = left;
  let hollow = 0;
  for (const b of bars) {
    if (b.first) {
      x += gap;
      if (b.segment === currentSegment) {
        const n = bars.filter((c) => c.segment === b.segment).length;
        ctx.fillStyle = accent;
        ctx.globalAlpha = 0.15;
        ctx.fillRect(x - gap / 2, top - 2, n * bw + gap, plotH + 4);
        ctx.globalAlpha = 1;
      }
      ctx.fillStyle = fg;
      ctx.fillText(String(b.segment), x, top + plotH + 14);
    }
    if (b.wrong === null) {
      ctx.fillStyle = fg;
      ctx.fillText('?', x, top + plotH - 2);
    } else {
      const y = yOf(b.wrong);
      const h = Math.max(1, top + plotH - y);
      if (b.state === 'zH') {
        ctx.fillStyle = zh;
        ctx.fillRect(x, top + plotH - h, bw - 1, h);
      } else {
        hollow++;
        ctx.strokeStyle = zl;
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, top + plotH - h + 0.5, bw - 2, h - 1);
      }
    }
    if (b.jump) {
      ctx.fillStyle = bad;
      ctx.beginPath();
      ctx.moveTo(x + bw / 2 - 5, top - 10);
      ctx.lineTo(x + bw / 2 + 5, top - 10);
      ctx.lineTo(x + bw / 2, top - 3);
      ctx.closePath();
      ctx.fill();
      ctx.fillText('jump', Math.min(x + bw / 2 + 7, width - 24), top - 4);
    }
    x += bw;
  }
  ctx.fillStyle = fg;
  ctx.fillText('segment', left, top + plotH + 28);
  const jump = r.jump === null ? null : r.steps[r.jump];
  el.canvas.dataset.steps = String(bars.length);
  el.canvas.dataset.hollow = String(hollow);
  el.canvas.dataset.jump = String(r.jump ?? '');
  el.canvas.setAttribute('aria-label', `logit lens: wrong cells after each of ${bars.length} updates; z_H reads solid, z_L reads hollow${jump ? `; the jump at segment ${jump.segment}, H-cycle ${jump.h}` : ''}`);
  const jumpText = jump ? `the jump: segment ${jump.segment}, H-update ${jump.h} (${jump.wrongCells ?? '?'} wrong after it)` : 'no drop in the wrong cells';
  el.summary.textContent = `${bars.length} updates over ${r.segments} segments · ${jumpText} · ${r.seconds.toFixed(1)} s`;
  return `${bars.length} updates; ${jumpText}`;
}

/** Width of `text` in CSS pixels in `font`. */
function textWidth(text: string, font: string): number {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return text.length * 6;
  ctx.font = font;
  return ctx.measureText(text).width;
}
