/**
 * The runs comparison's chart.js curves over training steps, one line per run in the run's colour: loss (log or
 * linear), cell accuracy (batch), exact accuracy (halted slots), exact at one ACT segment, and the held-out exact
 * accuracy of the evaluated checkpoints. Each training curve is smoothed and bucketed as the training dashboard's
 * (training-series.ts); the runs' colours come from the theme's chart colours (runStyle), the 7th run on dashed.
 * Legend: the page's own toggles (one per run, for every chart at once), not chart.js's.
 */
import { Chart, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import type { CompareRun, TrainPoint } from './protocol';
import { css } from './canvas';
import { downsample, smooth } from './training-series';
import { pngButton } from './inspector-export';

Chart.register(LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Tooltip);

/** Points drawn per run and chart at most (the dashboard's bound). */
const MAX_POINTS = 400;

const PALETTE: [string, string][] = [
  ['--vscode-charts-blue', '#4e79a7'], ['--vscode-charts-orange', '#f28e2b'], ['--vscode-charts-green', '#59a14f'],
  ['--vscode-charts-red', '#e15759'], ['--vscode-charts-purple', '#b07aa1'], ['--vscode-charts-yellow', '#edc948'],
];

/** The colour of the run at `index` of the comparison (and whether its line is dashed: past the theme's six colours). */
export function runStyle(index: number): { color: string; dashed: boolean } {
  const [name, fallback] = PALETTE[index % PALETTE.length];
  return { color: css(name, fallback), dashed: Math.floor(index / PALETTE.length) % 2 === 1 };
}

export interface CompareView {
  smoothing: number;
  logLoss: boolean;
  /** ACT segment (1-based) of the per-segment chart. */
  segment: number;
  hidden: ReadonlySet<string>;
}

interface Spec {
  name: string;
  title: (v: CompareView) => string;
  percent?: boolean;
  /** A training curve (smoothed); else the held-out figures of the checkpoints. */
  value?: (p: TrainPoint, v: CompareView) => number | null;
}

const SPECS: Spec[] = [
  { name: 'loss', title: (v) => `loss${v.logLoss ? ' (log scale)' : ''}`, value: (p, v) => (v.logLoss && !(p.loss > 0) ? null : p.loss) },
  { name: 'cell-accuracy', title: () => 'cell accuracy, batch (%)', percent: true, value: (p) => 100 * p.cellAccuracy },
  { name: 'exact-accuracy', title: () => 'exact accuracy, halted (%)', percent: true, value: (p) => (p.exactAccuracy === null ? null : 100 * p.exactAccuracy) },
  { name: 'segment-exact', title: (v) => `exact at segment ${v.segment} (%)`, percent: true, value: (p, v) => {
    const x = p.segmentExact[v.segment - 1];
    return x === null || x === undefined ? null : 100 * x;
  } },
  { name: 'held-out', title: () => 'held-out exact, evaluated checkpoints (%)', percent: true },
];

type Points = { x: number; y: number | null }[];

export class CompareCharts {
  private readonly charts: { chart: Chart<'line', Points>; spec: Spec }[] = [];

  constructor(private readonly root: HTMLElement) {}

  /** (Re)build every chart: a new set of runs, or a theme change. */
  build(runs: readonly CompareRun[]): void {
    for (const c of this.charts) c.chart.destroy();
    this.charts.length = 0;
    this.root.replaceChildren();
    const fg = css('--vscode-foreground', '#888');
    const grid = css('--vscode-editorWidget-border', css('--vscode-panel-border', '#8884'));
    for (const spec of SPECS) {
      const box = document.createElement('div');
      box.className = 'chart';
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      box.append(canvas, pngButton(spec.name));
      this.root.append(box);
      const chart = new Chart<'line', Points>(canvas, {
        type: 'line',
        data: {
          datasets: runs.map((r, i) => {
            const s = runStyle(i);
            return {
              label: r.name, data: [], borderColor: s.color, backgroundColor: s.color, borderDash: s.dashed ? [6, 4] : [], borderWidth: 1.5,
              pointRadius: spec.value ? 0 : 3, spanGaps: true,
            };
          }),
        },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
          plugins: { legend: { display: false }, tooltip: { mode: 'nearest', axis: 'x', intersect: false } },
          scales: {
            x: { type: 'linear', title: { display: true, text: 'step', color: fg }, ticks: { color: fg, maxTicksLimit: 8 }, grid: { color: grid } },
            y: { type: 'linear', title: { display: true, text: '', color: fg }, ticks: { color: fg, maxTicksLimit: 6, callback: (v) => String(Number(Number(v).toPrecision(3))) }, grid: { color: grid },
              ...(spec.percent ? { min: 0, max: 100 } : { beginAtZero: true }) },
          },
        },
      });
      this.charts.push({ chart, spec });
    }
  }

  /** Draw `runs` (in the order they were built with) as `view` says. */
  update(runs: readonly CompareRun[], view: CompareView): void {
    // One step axis for every chart: from 0 to the last step any run logged or evaluated.
    const last = Math.max(1, ...runs.map((r) => Math.max(r.points.at(-1)?.step ?? 0, r.heldOut.at(-1)?.step ?? 0)));
    for (const { chart, spec } of this.charts) {
      const x = chart.options.scales?.x;
      if (x) Object.assign(x, { min: 0, max: last });
      const title = spec.title(view);
      chart.canvas.setAttribute('aria-label', `${title} over training steps, one line per run`);
      const y = chart.options.scales?.y;
      if (y) {
        if (y.title) y.title.text = title;
        if (spec.name === 'loss') {
          y.type = view.logLoss ? 'logarithmic' : 'linear';
          (y as { beginAtZero?: boolean }).beginAtZero = !view.logLoss;
        }
      }
      runs.forEach((r, i) => {
        const ds = chart.data.datasets[i];
        if (!ds) return;
        ds.hidden = view.hidden.has(r.dir);
        if (spec.value) {
          const value = spec.value;
          ds.data = downsample(r.points.map((p) => p.step), smooth(r.points.map((p) => value(p, view)), view.smoothing), MAX_POINTS);
        } else {
          ds.data = r.heldOut.map((h) => ({ x: h.step, y: 100 * h.exact }));
        }
      });
      chart.update('none');
    }
  }

  canvases(): { name: string; canvas: HTMLCanvasElement }[] {
    return this.charts.map(({ chart, spec }) => ({ name: spec.name, canvas: chart.canvas }));
  }
}
