/** Per-segment charts (chart.js): loss (log scale), wrong cells, energy E, σ(q_halt) / σ(q_continue). */
import { Chart, CategoryScale, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import type { InspectorTrace } from './protocol';

Chart.register(CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Tooltip);

const css = (name: string, fallback: string): string => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

export class SegmentCharts {
  private readonly charts: Chart[] = [];

  constructor(private readonly root: HTMLElement) {}

  render(trace: InspectorTrace, current: number): void {
    for (const c of this.charts) c.destroy();
    this.charts.length = 0;
    this.root.replaceChildren();
    const labels = trace.segments.map((s) => String(s.segment));
    const fg = css('--vscode-foreground', '#888');
    const grid = css('--vscode-editorWidget-border', css('--vscode-panel-border', '#8884'));
    const colors = [css('--vscode-charts-blue', '#4e79a7'), css('--vscode-charts-red', '#e15759'), css('--vscode-charts-green', '#59a14f'), css('--vscode-charts-orange', '#f28e2b')];
    const mark = (k: number) => (k === current ? 6 : trace.criticalSegment === k + 1 || trace.firstExact === k + 1 ? 4 : 2);
    const specs: { title: string; log?: boolean; series: { label: string; data: (number | null)[] }[] }[] = [
      { title: 'loss', log: true, series: [{ label: 'loss', data: trace.segments.map((s) => (s.loss !== null && s.loss > 0 ? s.loss : null)) }] },
      { title: 'wrong cells · energy E', series: [{ label: 'wrong', data: trace.segments.map((s) => s.wrong) }, { label: 'E', data: trace.segments.map((s) => s.energy) }] },
      { title: 'halting', series: [{ label: 'σ(q_halt)', data: trace.segments.map((s) => s.qHalt) }, { label: 'σ(q_continue)', data: trace.segments.map((s) => s.qContinue) }] },
    ];
    for (const spec of specs) {
      const box = document.createElement('div');
      box.className = 'chart';
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${spec.title} per segment`);
      box.append(canvas);
      this.root.append(box);
      this.charts.push(new Chart(canvas, {
        type: 'line',
        data: { labels, datasets: spec.series.map((s, i) => ({ label: s.label, data: s.data, borderColor: colors[i], backgroundColor: colors[i], pointRadius: s.data.map((_, k) => mark(k)), spanGaps: true })) },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { legend: { labels: { color: fg } }, tooltip: { enabled: true } },
          scales: {
            x: { title: { display: true, text: 'segment', color: fg }, ticks: { color: fg }, grid: { color: grid } },
            y: { type: spec.log ? 'logarithmic' : 'linear', title: { display: true, text: spec.title, color: fg }, ticks: { color: fg }, grid: { color: grid } },
          },
        },
      }));
    }
  }
}
