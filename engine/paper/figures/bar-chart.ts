/**
 * The SVG bar chart: for each category one bar per group, side by side, from the zero line (or the axis's lower end
 * when that is above zero), with optional error bars from `lo` to `hi`. A non-finite value draws no bar; category
 * labels too wide for their slot are turned by 35°.
 */
import { axes, chartSize, CLIP, FONT, gridLines, noData, plotBox, svgDocument, type Tick } from './frame';
import { distinctEntries, layoutLegend, legendSvg, type LegendEntry } from './legend';
import { AXIS, assignColors } from './palette';
import { extent, linearAxis, linearScale } from './scale';
import type { BarChart } from './spec';
import { num, textWidth, truncate } from './svg-text';

/** Longest category label shown (characters; longer ones end in "…"). */
export const MAX_CATEGORY_CHARS = 28;

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

type Group = BarChart['groups'][number];

export function barChartSvg(spec: BarChart, opts?: { width?: number; height?: number }): string {
  const size = chartSize(opts);
  const text = { title: String(spec.title ?? ''), xLabel: String(spec.xLabel ?? ''), yLabel: String(spec.yLabel ?? '') };
  const categories = arr(spec.categories).map((c) => truncate(c, MAX_CATEGORY_CHARS));
  const groups = arr(spec.groups).filter((g): g is Group => typeof g === 'object' && g !== null);
  const colors = assignColors(groups.map((g) => ({ label: String(g.label ?? ''), color: g.color })));
  const nc = categories.length;

  const values: unknown[] = [];
  for (const g of groups) values.push(...arr(g.values).slice(0, nc), ...arr(g.lo).slice(0, nc), ...arr(g.hi).slice(0, nc));
  const data = extent(values);
  const hasData = nc > 0 && groups.length > 0 && data !== undefined;
  // Bars start at zero: the axis takes zero in unless an end is fixed.
  const withZero: [number, number] | undefined = data ? [Math.min(0, data[0]), Math.max(0, data[1])] : undefined;
  const yAxis = linearAxis(withZero, spec.yMin, spec.yMax, true);
  const yScale0 = linearScale(yAxis.lo, yAxis.hi, 0, 1, yAxis.ticks, yAxis.step);
  const yTickTexts = yAxis.ticks.map((t) => yScale0.format(t));

  const entries: LegendEntry[] = groups.map((g, i) => ({ label: String(g.label ?? ''), color: colors[i], kind: 'bar' }));
  const legendAll = groups.length > 1 || (groups.length === 1 && String(groups[0].label ?? '')) ? distinctEntries(entries) : [];

  // Category labels: flat when they fit their slot, else turned (which needs more room below the axis).
  const probe = plotBox(size, text, yTickTexts, FONT.tick + 8, 0);
  const legend = layoutLegend(legendAll, probe.h, size.width * 0.3);
  let plot = plotBox(size, text, yTickTexts, FONT.tick + 8, legend.width);
  const widest = Math.max(0, ...categories.map((c) => textWidth(c, FONT.tick)));
  const rotate = nc > 0 && widest > (plot.w / nc) * 0.95;
  if (rotate) plot = plotBox(size, text, yTickTexts, Math.min(size.height * 0.35, widest * 0.58 + FONT.tick + 8), legend.width);

  const sy = linearScale(yAxis.lo, yAxis.hi, plot.y + plot.h, plot.y, yAxis.ticks, yAxis.step);
  const slot = nc > 0 ? plot.w / nc : plot.w;
  const barW = (slot * 0.8) / Math.max(1, groups.length);
  const xTicks: Tick[] = categories.map((c, i) => ({ at: plot.x + slot * (i + 0.5), text: c }));
  const yTicks: Tick[] = yAxis.ticks.map((t) => ({ at: sy.map(t), text: sy.format(t) }));
  const base = sy.map(Math.min(yAxis.hi, Math.max(yAxis.lo, 0)));

  const bars: string[] = [];
  const whiskers: string[] = [];
  const cap = Math.min(10, barW * 0.5);
  groups.forEach((g, gi) => {
    const vals = arr(g.values);
    const lo = arr(g.lo);
    const hi = arr(g.hi);
    const rects: string[] = [];
    for (let c = 0; c < nc; c++) {
      const x = plot.x + slot * c + slot * 0.1 + barW * gi;
      const v = vals[c];
      if (fin(v)) {
        const y = sy.map(v);
        const top = Math.min(y, base);
        rects.push(`<rect x="${num(x)}" y="${num(top)}" width="${num(Math.max(0.5, barW - 1))}" height="${num(Math.abs(base - y))}"/>`);
      }
      const l = lo[c];
      const h = hi[c];
      if (fin(l) && fin(h)) {
        const cx = x + (barW - 1) / 2;
        const yl = sy.map(l);
        const yh = sy.map(h);
        whiskers.push(`M${num(cx)} ${num(yl)}V${num(yh)}M${num(cx - cap / 2)} ${num(yl)}h${num(cap)}M${num(cx - cap / 2)} ${num(yh)}h${num(cap)}`);
      }
    }
    if (rects.length) bars.push(`<g fill="${colors[gi]}">${rects.join('')}</g>`);
  });

  const body: string[] = [gridLines(plot, [], yTicks)];
  const errorBars = whiskers.length ? `<path d="${whiskers.join('')}" stroke="${AXIS}" stroke-width="1.2" fill="none"/>` : '';
  body.push(`<g clip-path="url(#${CLIP})">${bars.join('')}${errorBars}</g>`);
  if (!hasData) body.push(noData(plot));
  body.push(axes(size, plot, text, xTicks, yTicks, rotate));
  if (yAxis.lo < 0 && yAxis.hi > 0) body.push(`<path d="M${num(plot.x)} ${num(base)}H${num(plot.x + plot.w)}" stroke="${AXIS}" stroke-width="1"/>`);
  body.push(legendSvg(legend, plot.x + plot.w + 16, plot.y));
  return svgDocument(size, plot, text.title, body.join(''));
}
