/**
 * The SVG line chart: curves over a linear x axis and a linear or log y axis, interval bands, dashed curves, and many
 * thin translucent lines drawn beneath the others (their opacity falls with their number, so 500 of them read as a
 * density). A non-finite or null value (or one ≤ 0 on a log axis) leaves a gap; a point between two gaps is a dot.
 */
import { axes, chartSize, CLIP, FONT, gridLines, noData, plotBox, svgDocument, type Tick } from './frame';
import { distinctEntries, layoutLegend, legendSvg, type LegendEntry } from './legend';
import { assignColors } from './palette';
import { extent, linearAxis, linearScale, logAxis, logScale, type Scale } from './scale';
import type { LineChart, Series } from './spec';
import { num } from './svg-text';

/** Opacity of thin lines: 6 / their number, within [0.06, 0.5]. */
export function thinOpacity(count: number): number {
  return Math.min(0.5, Math.max(0.06, 6 / Math.max(1, count)));
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Whether a y value can be drawn on the axis. */
const drawable = (v: unknown, log: boolean): v is number => typeof v === 'number' && Number.isFinite(v) && (!log || v > 0);

/** Runs of consecutive drawable points of a series, as pixel coordinates. */
function runs(xs: unknown[], ys: unknown[], log: boolean, sx: Scale, sy: Scale): [number, number][][] {
  const out: [number, number][][] = [];
  let cur: [number, number][] = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    if (drawable(x, false) && drawable(y, log)) cur.push([sx.map(x), sy.map(y)]);
    else if (cur.length) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Path data of a series' runs of two points or more. */
function pathData(rs: [number, number][][]): string {
  return rs.filter((r) => r.length > 1).map((r) => r.map(([x, y], i) => `${i ? 'L' : 'M'}${num(x, 1)} ${num(y, 1)}`).join('')).join('');
}

/** The band's polygons: along `hi`, back along `lo`, over each run where x, lo and hi can all be drawn. */
function bandData(s: Series, log: boolean, sx: Scale, sy: Scale): string {
  const xs = arr(s.x);
  const lo = arr(s.band?.lo);
  const hi = arr(s.band?.hi);
  const n = Math.min(xs.length, lo.length, hi.length);
  const polys: string[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length > 1) {
      const top = run.map((i) => `${num(sx.map(xs[i] as number), 1)} ${num(sy.map(hi[i] as number), 1)}`);
      const bottom = run.slice().reverse().map((i) => `${num(sx.map(xs[i] as number), 1)} ${num(sy.map(lo[i] as number), 1)}`);
      polys.push(`M${[...top, ...bottom].join('L')}Z`);
    }
    run = [];
  };
  for (let i = 0; i < n; i++) {
    if (drawable(xs[i], false) && drawable(lo[i], log) && drawable(hi[i], log)) run.push(i);
    else flush();
  }
  flush();
  return polys.join('');
}

/** The values that set the y axis: the series' y and their bands' ends. */
function* yValues(series: readonly Series[]): Generator<unknown> {
  for (const s of series) {
    yield* arr(s.y).slice(0, arr(s.x).length);
    if (s.band) {
      yield* arr(s.band.lo);
      yield* arr(s.band.hi);
    }
  }
}

/** The x values of the points that are drawn. */
function* xValues(series: readonly Series[], log: boolean): Generator<unknown> {
  for (const s of series) {
    const xs = arr(s.x);
    const ys = arr(s.y);
    const lo = arr(s.band?.lo);
    const hi = arr(s.band?.hi);
    for (let i = 0; i < xs.length; i++) if (drawable(ys[i], log) || (drawable(lo[i], log) && drawable(hi[i], log))) yield xs[i];
  }
}

export function lineChartSvg(spec: LineChart, opts?: { width?: number; height?: number }): string {
  const size = chartSize(opts);
  const log = spec.yLog === true;
  const series = arr(spec.series).filter((s): s is Series => typeof s === 'object' && s !== null);
  const text = { title: String(spec.title ?? ''), xLabel: String(spec.xLabel ?? ''), yLabel: String(spec.yLabel ?? '') };
  const colors = assignColors(series.map((s) => ({ label: String(s.label ?? ''), color: s.color })));

  const givenTicks = arr(spec.xTicks).filter((v): v is number => drawable(v, false));
  const xData = extent([...xValues(series, log), ...givenTicks]);
  const yData = extent(yValues(series), log);
  const hasData = xData !== undefined && yData !== undefined;
  const xAxis = linearAxis(xData, undefined, undefined, false, 7);
  const yAxis = log ? logAxis(yData, spec.yMin, spec.yMax) : linearAxis(yData, spec.yMin, spec.yMax, true);
  const yScale0 = log ? logScale(yAxis.lo, yAxis.hi, 0, 1, yAxis.ticks) : linearScale(yAxis.lo, yAxis.hi, 0, 1, yAxis.ticks, yAxis.step);
  const yTickTexts = yAxis.ticks.map((t) => yScale0.format(t));

  const entries: LegendEntry[] = series.map((s, i) => ({ label: String(s.label ?? ''), color: colors[i], kind: 'line', dashed: !!s.dashed, thin: !!s.thin, band: !!s.band }));
  const legendAll = distinctEntries(entries);
  const probe = plotBox(size, text, yTickTexts, FONT.tick + 8, 0);
  const legend = layoutLegend(legendAll, probe.h, size.width * 0.35);
  const plot = plotBox(size, text, yTickTexts, FONT.tick + 8, legend.width);

  const sx = linearScale(xAxis.lo, xAxis.hi, plot.x, plot.x + plot.w, xAxis.ticks, xAxis.step);
  const sy = log ? logScale(yAxis.lo, yAxis.hi, plot.y + plot.h, plot.y, yAxis.ticks) : linearScale(yAxis.lo, yAxis.hi, plot.y + plot.h, plot.y, yAxis.ticks, yAxis.step);
  const xTickValues = givenTicks.length ? [...new Set(givenTicks)].sort((a, b) => a - b) : xAxis.ticks;
  const xTicks: Tick[] = xTickValues.map((t) => ({ at: sx.map(t), text: givenTicks.length ? String(Number(t.toPrecision(6))) : sx.format(t) }));
  const yTicks: Tick[] = yAxis.ticks.map((t) => ({ at: sy.map(t), text: sy.format(t) }));

  const body: string[] = [gridLines(plot, xTicks, yTicks)];
  const data: string[] = [];
  // Bands first, then the thin lines, then the other lines on top.
  series.forEach((s, i) => {
    if (!s.band) return;
    const d = bandData(s, log, sx, sy);
    if (d) data.push(`<path d="${d}" fill="${colors[i]}" fill-opacity="${s.thin ? 0.05 : 0.18}" stroke="none"/>`);
  });
  const thin = series.map((s, i) => [s, i] as const).filter(([s]) => s.thin);
  if (thin.length) {
    const paths = thin.map(([s, i]) => {
      const d = pathData(runs(arr(s.x), arr(s.y), log, sx, sy));
      return d ? `<path d="${d}" stroke="${colors[i]}"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>` : '';
    }).join('');
    if (paths) data.push(`<g fill="none" stroke-width="0.8" stroke-opacity="${thinOpacity(thin.length)}" stroke-linejoin="round">${paths}</g>`);
  }
  series.forEach((s, i) => {
    if (s.thin) return;
    const rs = runs(arr(s.x), arr(s.y), log, sx, sy);
    const d = pathData(rs);
    if (d) data.push(`<path d="${d}" fill="none" stroke="${colors[i]}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    const dots = rs.filter((r) => r.length === 1).map(([[x, y]]) => `<circle cx="${num(x, 1)}" cy="${num(y, 1)}" r="2.5"/>`).join('');
    if (dots) data.push(`<g fill="${colors[i]}">${dots}</g>`);
  });
  body.push(`<g clip-path="url(#${CLIP})">${data.join('')}</g>`);
  if (!hasData) body.push(noData(plot));
  body.push(axes(size, plot, text, xTicks, yTicks));
  body.push(legendSvg(legend, plot.x + plot.w + 16, plot.y));
  return svgDocument(size, plot, text.title, body.join(''));
}
