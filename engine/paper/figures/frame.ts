/**
 * What every chart draws around its data: the SVG document (white background, the font, a clip path for the plot
 * area), the layout of the plot area, the title, grid lines, axes with ticks and tick labels, axis labels and the
 * "no data" note.
 */
import { AXIS, BACKGROUND, GRID, INK, MUTED } from './palette';
import { escapeXml, fitText, hashText, num, textEl, textWidth } from './svg-text';

export const FONT_FAMILY = "'DejaVu Sans', Verdana, Geneva, sans-serif";
export const FONT = { tick: 11, label: 12, title: 14, legend: 11 } as const;

/** Default size of a chart (CSS pixels), and the range a requested size is clamped to. */
export const DEFAULT_WIDTH = 720;
export const DEFAULT_HEIGHT = 440;
export const MIN_SIZE = 160;
export const MAX_SIZE = 4000;

export interface Box { x: number; y: number; w: number; h: number }

/** A tick: its pixel position along the axis and its label. */
export interface Tick { at: number; text: string }

export interface FrameText { title: string; xLabel: string; yLabel: string }

/** A requested size, clamped to [MIN_SIZE, MAX_SIZE] and rounded to whole pixels; the default when not a number. */
export function chartSize(opts?: { width?: number; height?: number }): { width: number; height: number } {
  const pick = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? Math.round(Math.min(MAX_SIZE, Math.max(MIN_SIZE, v))) : d);
  return { width: pick(opts?.width, DEFAULT_WIDTH), height: pick(opts?.height, DEFAULT_HEIGHT) };
}

/**
 * The plot area left by the title, the axis labels, the tick labels (`yTickTexts`, and `xTickDepth` pixels under the
 * x axis) and a legend `legendWidth` pixels wide on the right.
 */
export function plotBox(size: { width: number; height: number }, text: FrameText, yTickTexts: string[], xTickDepth: number, legendWidth: number): Box {
  const yTickWidth = Math.max(0, ...yTickTexts.map((t) => textWidth(t, FONT.tick)));
  const left = 10 + (text.yLabel ? FONT.label + 8 : 0) + Math.min(yTickWidth, size.width * 0.25) + 8;
  const top = text.title ? FONT.title + 20 : 14;
  const bottom = 8 + xTickDepth + (text.xLabel ? FONT.label + 10 : 0);
  const right = legendWidth > 0 ? legendWidth + 22 : 18;
  const w = Math.max(20, size.width - left - right);
  const h = Math.max(20, size.height - top - bottom);
  return { x: left, y: top, w, h };
}

/** Background grid lines at the given ticks. */
export function gridLines(plot: Box, xTicks: Tick[], yTicks: Tick[]): string {
  const lines: string[] = [];
  for (const t of yTicks) lines.push(`<path d="M${num(plot.x)} ${num(t.at)}H${num(plot.x + plot.w)}"/>`);
  for (const t of xTicks) lines.push(`<path d="M${num(t.at)} ${num(plot.y)}V${num(plot.y + plot.h)}"/>`);
  return lines.length ? `<g stroke="${GRID}" stroke-width="1" fill="none">${lines.join('')}</g>` : '';
}

/**
 * Axis lines, tick marks, tick labels (x labels turned by 35° when `rotateX`), the axis labels and the title.
 * `yTicks`/`xTicks` outside the plot area are not drawn.
 */
export function axes(size: { width: number; height: number }, plot: Box, text: FrameText, xTicks: Tick[], yTicks: Tick[], rotateX = false): string {
  const out: string[] = [];
  const bottom = plot.y + plot.h;
  const inX = (t: Tick) => t.at >= plot.x - 0.5 && t.at <= plot.x + plot.w + 0.5;
  const inY = (t: Tick) => t.at >= plot.y - 0.5 && t.at <= bottom + 0.5;
  const xs = xTicks.filter(inX);
  const ys = yTicks.filter(inY);
  const marks = [
    ...ys.map((t) => `M${num(plot.x - 4)} ${num(t.at)}H${num(plot.x)}`),
    ...xs.map((t) => `M${num(t.at)} ${num(bottom)}V${num(bottom + 4)}`),
  ].join('');
  out.push(`<g stroke="${AXIS}" stroke-width="1" fill="none"><path d="M${num(plot.x)} ${num(plot.y)}V${num(bottom)}H${num(plot.x + plot.w)}"/>${marks ? `<path d="${marks}"/>` : ''}</g>`);
  const yLabels = ys.map((t) => textEl(plot.x - 7, t.at + FONT.tick * 0.35, fitText(t.text, size.width * 0.25, FONT.tick), 'text-anchor="end"', FONT.tick));
  // A turned label ends at its tick: it must fit between the tick and the left edge, and above the x axis label.
  const depth = size.height - bottom - 9 - (text.xLabel ? FONT.label + 14 : 4);
  const turned = (t: Tick): string => fitText(t.text, Math.min((t.at - 4) / Math.cos(ROTATION), depth / Math.sin(ROTATION)), FONT.tick);
  const xLabels = xs.map((t) => rotateX
    ? `<text transform="translate(${num(t.at)} ${num(bottom + 9)}) rotate(-35)" font-size="${FONT.tick}" text-anchor="end" dy="0.35em">${escapeXml(turned(t))}</text>`
    : textEl(t.at, bottom + 7 + FONT.tick, t.text, 'text-anchor="middle"', FONT.tick));
  out.push(`<g fill="${INK}">${yLabels.join('')}${xLabels.join('')}</g>`);
  if (text.xLabel) {
    out.push(textEl(plot.x + plot.w / 2, size.height - 9, fitText(text.xLabel, plot.w, FONT.label), `text-anchor="middle" fill="${INK}"`, FONT.label));
  }
  if (text.yLabel) {
    const cy = plot.y + plot.h / 2;
    out.push(`<text transform="translate(${num(10 + FONT.label)} ${num(cy)}) rotate(-90)" font-size="${FONT.label}" text-anchor="middle" fill="${INK}">${escapeXml(fitText(text.yLabel, plot.h, FONT.label))}</text>`);
  }
  if (text.title) {
    out.push(textEl(size.width / 2, 8 + FONT.title, fitText(text.title, size.width - 20, FONT.title), `text-anchor="middle" fill="${INK}"`, FONT.title));
  }
  return out.join('');
}

/** The angle of turned x tick labels (35°). */
const ROTATION = (35 * Math.PI) / 180;

/** "no data", in the middle of the plot area. */
export function noData(plot: Box): string {
  return textEl(plot.x + plot.w / 2, plot.y + plot.h / 2, 'no data', `text-anchor="middle" fill="${MUTED}"`, FONT.label + 2);
}

/** Placeholder for the clip path's id in a chart's body; `svgDocument` replaces it. */
export const CLIP = '__plot_clip__';

/**
 * The SVG document: `body` drawn over a white background, with a clip path of the plot area whose id is a hash of the
 * body (unique per chart, the same for the same chart, so several charts can share one HTML page).
 */
export function svgDocument(size: { width: number; height: number }, plot: Box, title: string, body: string): string {
  const id = `plot-${hashText(body)}`;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}" viewBox="0 0 ${size.width} ${size.height}" font-family="${escapeXml(FONT_FAMILY)}">`;
  const defs = `<defs><clipPath id="${id}"><rect x="${num(plot.x)}" y="${num(plot.y)}" width="${num(plot.w)}" height="${num(plot.h)}"/></clipPath></defs>`;
  const bg = `<rect width="${size.width}" height="${size.height}" fill="${BACKGROUND}"/>`;
  return `${head}<title>${escapeXml(title)}</title>${defs}${bg}${body.split(CLIP).join(id)}</svg>\n`;
}
