/**
 * Per-segment charts (chart.js): loss (log scale), wrong cells and energy E, σ(q_halt) / σ(q_continue), latent
 * residual. A small plugin draws the first-exact and critical segments as labelled dashed lines and the current
 * segment as a solid line; scrubbing only redraws (no new chart), so the scrubber stays cheap.
 */
import { Chart, CategoryScale, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Tooltip, type Plugin } from 'chart.js';
import type { InspectorTrace } from './protocol';
import { css } from './canvas';
import { pngButton } from './inspector-export';

Chart.register(CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Tooltip);


interface Marks { current: number; firstExact: number | null; critical: number | null; fg: string; accent: string; good: string; bad: string }

/** Vertical lines at segment indices (0-based on the category axis), read from `marks()` at every draw. */
const markerPlugin = (marks: () => Marks | undefined): Plugin<'line'> => ({
  id: 'hrmMarkers',
  afterDatasetsDraw(chart) {
    const m = marks();
    if (!m) return;
    const x = chart.scales.x;
    const { top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    const line = (k: number | null, color: string, dash: number[], label?: string) => {
      if (k === null || k < 0) return;
      const px = x.getPixelForValue(k);
      ctx.save();
      ctx.strokeStyle = color;
      ctx.lineWidth = dash.length ? 1.5 : 2;
      ctx.setLineDash(dash);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      if (label) {
        ctx.fillStyle = color;
        ctx.font = `10px ${css('--vscode-font-family', 'sans-serif')}`;
        ctx.fillText(label, px + 3, top + 10);
      }
      ctx.restore();
    };
    line(m.firstExact, m.good, [4, 3], 'first exact');
    line(m.critical, m.bad, [2, 3], m.critical === m.firstExact ? undefined : 'critical');
    line(m.current, m.accent, []);
  },
});

export class SegmentCharts {
  private readonly charts: { chart: Chart<'line'>; name: string }[] = [];
  private marks: Marks | undefined;
  private readonly plugin = markerPlugin(() => this.marks);

  constructor(private readonly root: HTMLElement) {}

  render(trace: InspectorTrace, current: number): void {
    for (const c of this.charts) c.chart.destroy();
    this.charts.length = 0;
    this.root.replaceChildren();
    const labels = trace.segments.map((s) => String(s.segment));
    const fg = css('--vscode-foreground', '#888');
    const grid = css('--vscode-editorWidget-border', css('--vscode-panel-border', '#8884'));
    const colors = [css('--vscode-charts-blue', '#4e79a7'), css('--vscode-charts-red', '#e15759'), css('--vscode-charts-green', '#59a14f'), css('--vscode-charts-orange', '#f28e2b')];
    this.marks = {
      current, firstExact: trace.firstExact === null ? null : trace.firstExact - 1, critical: trace.criticalSegment === null ? null : trace.criticalSegment - 1,
      fg, accent: css('--vscode-focusBorder', fg), good: css('--vscode-charts-green', '#59a14f'), bad: css('--vscode-charts-red', '#e15759'),
    };
    const specs: { name: string; title: string; log?: boolean; series: { label: string; data: (number | null)[] }[] }[] = [
      { name: 'loss', title: 'loss', log: true, series: [{ label: 'loss', data: trace.segments.map((s) => (s.loss !== null && s.loss > 0 ? s.loss : null)) }] },
      { name: 'wrong-energy', title: 'wrong cells · energy E', series: [{ label: 'wrong', data: trace.segments.map((s) => s.wrong) }, { label: 'E', data: trace.segments.map((s) => s.energy) }] },
      { name: 'halting', title: 'halting', series: [{ label: 'σ(q_halt)', data: trace.segments.map((s) => s.qHalt) }, { label: 'σ(q_continue)', data: trace.segments.map((s) => s.qContinue) }] },
      { name: 'residual', title: 'residual ‖Δz_H‖/‖z_H‖', log: true, series: [{ label: 'residual', data: trace.segments.map((s) => (s.residualH !== null && s.residualH > 0 ? s.residualH : null)) }] },
    ];
    for (const spec of specs) {
      const box = document.createElement('div');
      box.className = 'chart';
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${spec.title} per segment`);
      box.append(canvas, pngButton(spec.name));
      this.root.append(box);
      const chart = new Chart<'line'>(canvas, {
        type: 'line',
        data: { labels, datasets: spec.series.map((s, i) => ({ label: s.label, data: s.data, borderColor: colors[i], backgroundColor: colors[i], pointRadius: 2.5, spanGaps: true })) },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { legend: { labels: { color: fg, boxWidth: 12 } }, tooltip: { enabled: true } },
          scales: {
            x: { title: { display: true, text: 'segment', color: fg }, ticks: { color: fg }, grid: { color: grid } },
            y: { type: spec.log ? 'logarithmic' : 'linear', title: { display: true, text: spec.title, color: fg }, ticks: { color: fg, maxTicksLimit: 6 }, grid: { color: grid } },
          },
        },
        plugins: [this.plugin],
      });
      this.charts.push({ chart, name: spec.name });
    }
  }

  /** Move the current-segment line (a redraw, not a rebuild). */
  setCurrent(current: number): void {
    if (this.marks) this.marks.current = current;
    for (const { chart } of this.charts) chart.draw();
  }

  /** Name and canvas of every chart, for the PNG export. */
  canvases(): { name: string; canvas: HTMLCanvasElement }[] {
    return this.charts.map(({ chart, name }) => ({ name, canvas: chart.canvas }));
  }
}
