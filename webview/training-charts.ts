/**
 * The dashboard's chart.js curves over training steps: loss (log scale), cell and exact accuracy, mean ACT steps,
 * each smoothed and bucketed to at most MAX_POINTS points, with the checkpoints drawn as dashed vertical lines (a
 * small plugin). New steps update the data in place (no new chart), so a live run stays cheap.
 */
import { Chart, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Tooltip, type Plugin } from 'chart.js';
import type { DashboardCheckpoint, TrainPoint } from './protocol';
import { css } from './canvas';
import { downsample, smooth } from './training-series';
import { pngButton } from './inspector-export';

Chart.register(LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Tooltip);

const MAX_POINTS = 400;

interface Spec {
  name: string;
  title: string;
  log?: boolean;
  percent?: boolean;
  series: { label: string; value: (p: TrainPoint) => number | null }[];
}

const SPECS: Spec[] = [
  { name: 'loss', title: 'loss', log: true, series: [{ label: 'loss', value: (p) => (p.loss > 0 ? p.loss : null) }] },
  { name: 'accuracy', title: 'accuracy (%)', percent: true, series: [
    { label: 'cell (batch)', value: (p) => 100 * p.cellAccuracy },
    { label: 'exact (halted)', value: (p) => (p.exactAccuracy === null ? null : 100 * p.exactAccuracy) }] },
  { name: 'act-steps', title: 'mean ACT segments (halted)', series: [{ label: 'ACT segments', value: (p) => p.meanSteps }] },
];

export class TrainingCharts {
  private readonly charts: { chart: Chart<'line', { x: number; y: number | null }[]>; spec: Spec }[] = [];
  private checkpoints: readonly DashboardCheckpoint[] = [];

  private readonly plugin: Plugin<'line'> = {
    id: 'hrmCheckpoints',
    afterDatasetsDraw: (chart) => {
      const x = chart.scales.x;
      const { top, bottom, left, right } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = css('--vscode-charts-purple', css('--vscode-focusBorder', '#888'));
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = 1;
      for (const c of this.checkpoints) {
        const px = x.getPixelForValue(c.step);
        if (px < left - 0.5 || px > right + 0.5) continue;
        ctx.beginPath();
        ctx.moveTo(px, top);
        ctx.lineTo(px, bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };

  constructor(private readonly root: HTMLElement) {}

  /** (Re)build every chart (a new run or a theme change). */
  build(): void {
    for (const c of this.charts) c.chart.destroy();
    this.charts.length = 0;
    this.root.replaceChildren();
    const fg = css('--vscode-foreground', '#888');
    const grid = css('--vscode-editorWidget-border', css('--vscode-panel-border', '#8884'));
    const colors = [css('--vscode-charts-blue', '#4e79a7'), css('--vscode-charts-orange', '#f28e2b'), css('--vscode-charts-green', '#59a14f')];
    for (const spec of SPECS) {
      const box = document.createElement('div');
      box.className = 'chart';
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${spec.title} over training steps`);
      box.append(canvas, pngButton(spec.name));
      this.root.append(box);
      const chart = new Chart<'line', { x: number; y: number | null }[]>(canvas, {
        type: 'line',
        data: { datasets: spec.series.map((s, i) => ({ label: s.label, data: [], borderColor: colors[i], backgroundColor: colors[i], pointRadius: 0, borderWidth: 1.5, spanGaps: true })) },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
          plugins: { legend: { labels: { color: fg, boxWidth: 12 } }, tooltip: { mode: 'index', intersect: false } },
          scales: {
            x: { type: 'linear', title: { display: true, text: 'step', color: fg }, ticks: { color: fg, maxTicksLimit: 8 }, grid: { color: grid } },
            y: { type: spec.log ? 'logarithmic' : 'linear', title: { display: true, text: spec.title, color: fg }, ticks: { color: fg, maxTicksLimit: 6, callback: (v) => String(Number(Number(v).toPrecision(3))) }, grid: { color: grid },
              ...(spec.percent ? { min: 0, max: 100 } : spec.log ? {} : { beginAtZero: true }) },
          },
        },
        plugins: [this.plugin],
      });
      this.charts.push({ chart, spec });
    }
  }

  /** Show `points` (all of the run's steps) smoothed with weight `w`, and the checkpoint lines. */
  update(points: readonly TrainPoint[], checkpoints: readonly DashboardCheckpoint[], w: number): void {
    this.checkpoints = checkpoints;
    const steps = points.map((p) => p.step);
    for (const { chart, spec } of this.charts) {
      spec.series.forEach((s, i) => {
        chart.data.datasets[i].data = downsample(steps, smooth(points.map(s.value), w), MAX_POINTS);
      });
      chart.update('none');
    }
  }

  canvases(): { name: string; canvas: HTMLCanvasElement }[] {
    return this.charts.map(({ chart, spec }) => ({ name: spec.name, canvas: chart.canvas }));
  }
}
