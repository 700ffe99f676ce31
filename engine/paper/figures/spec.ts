/**
 * What a chart of the paper report is made of: line charts (curves over steps or segments, optionally with an interval
 * band, on a linear or log y axis) and grouped bar charts (with optional error bars). Types only.
 */

/** One curve. `x` and `y` pair up index by index; a non-finite or null value leaves a gap in the line. */
export interface Series {
  label: string;
  x: number[];
  y: number[];
  /** A CSS colour (`#rgb`, `#rrggbb`, `#rrggbbaa` or a colour name); by default one of the palette's, one per label. */
  color?: string;
  dashed?: boolean;
  /** One of many faint lines (one per puzzle, say): drawn thin and translucent, beneath the other series. */
  thin?: boolean;
  /** An interval around the curve: lower and upper ends, index by index like `y`. */
  band?: { lo: number[]; hi: number[] };
}

export interface LineChart {
  kind: 'line';
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  yLog?: boolean;
  yMin?: number;
  yMax?: number;
  /** Tick positions on the x axis instead of the automatic ones. */
  xTicks?: number[];
}

export interface BarChart {
  kind: 'bar';
  title: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  /** One bar per category for each group, side by side; `lo`/`hi` are the ends of an error bar (values, not offsets). */
  groups: { label: string; values: number[]; lo?: number[]; hi?: number[]; color?: string }[];
  yMin?: number;
  yMax?: number;
}

export type ChartSpec = LineChart | BarChart;

/** Size of a chart in SVG user units (CSS pixels). */
export interface ChartSize {
  width?: number;
  height?: number;
}
