/**
 * Charts of the paper report (`hrm-lens reproduce`): a chart spec becomes a self-contained SVG (deterministic: the
 * same spec gives the same bytes) and a PNG of it.
 */
import { barChartSvg } from './bar-chart';
import { lineChartSvg } from './line-chart';
import type { ChartSpec } from './spec';
import { writeSvgAndPng } from './write';

export type { BarChart, ChartSpec, LineChart, Series } from './spec';
export { svgToPng } from './png';

/** The chart as an SVG document (default 720 × 440; sizes are clamped to 160…4000). */
export function chartSvg(spec: ChartSpec, opts?: { width?: number; height?: number }): string {
  return spec.kind === 'bar' ? barChartSvg(spec, opts) : lineChartSvg(spec, opts);
}

/** Writes <dir>/<name>.svg and <dir>/<name>.png (at twice the SVG's size), each to a temp file then renamed. */
export function writeFigure(dir: string, name: string, spec: ChartSpec): Promise<{ svg: string; png: string }> {
  return writeSvgAndPng(dir, name, chartSvg(spec));
}
