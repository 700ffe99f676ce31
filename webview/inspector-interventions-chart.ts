/**
 * What the Interventions section's charts share (chart.js, as the inspector's other charts): theme colours read when
 * drawn, labelled vertical and horizontal marker lines (a small plugin), the axis style, and one chart per canvas
 * (drawing again replaces the old chart).
 */
import { Chart, CategoryScale, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Tooltip, type ChartConfiguration, type Plugin } from 'chart.js';
import { css } from './canvas';

Chart.register(CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Tooltip);

export interface Theme { fg: string; grid: string; accent: string; good: string; bad: string; series: string[] }

export function theme(): Theme {
  const fg = css('--vscode-foreground', '#888');
  return {
    fg, grid: css('--vscode-editorWidget-border', css('--vscode-panel-border', '#8884')), accent: css('--vscode-focusBorder', fg),
    good: css('--vscode-charts-green', '#59a14f'), bad: css('--vscode-charts-red', '#e15759'),
    series: ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-red']
      .map((v, i) => css(v, ['#4e79a7', '#f28e2b', '#b07aa1', '#59a14f', '#edc948', '#e15759'][i])),
  };
}

/** A marker line at x = `at` (vertical) or y = `at` (horizontal), in data units, with an optional label. */
export interface Mark { axis: 'x' | 'y'; at: number; color: string; label?: string; dash?: number[] }

export const markPlugin = (marks: () => readonly Mark[]): Plugin<'line'> => ({
  id: 'hrmInterventionMarks',
  afterDatasetsDraw(chart) {
    const { left, right, top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    for (const m of marks()) {
      const scale = m.axis === 'x' ? chart.scales.x : chart.scales.y;
      if (!scale) continue;
      const px = scale.getPixelForValue(m.at);
      if (!Number.isFinite(px)) continue;
      ctx.save();
      ctx.strokeStyle = m.color;
      ctx.fillStyle = m.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(m.dash ?? [4, 3]);
      ctx.beginPath();
      if (m.axis === 'x') { ctx.moveTo(px, top); ctx.lineTo(px, bottom); } else { ctx.moveTo(left, px); ctx.lineTo(right, px); }
      ctx.stroke();
      if (m.label) {
        ctx.font = `10px ${css('--vscode-font-family', 'sans-serif')}`;
        if (m.axis === 'x') ctx.fillText(m.label, Math.min(px + 3, right - ctx.measureText(m.label).width), top + 10);
        else ctx.fillText(m.label, left + 4, px - 3);
      }
      ctx.restore();
    }
  },
});

/** A titled axis in the theme's colours. */
export const axis = (t: Theme, title: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  title: { display: true, text: title, color: t.fg }, ticks: { color: t.fg, maxTicksLimit: 8 }, grid: { color: t.grid }, ...extra,
});

const charts = new WeakMap<HTMLCanvasElement, Chart<'line'>>();

/** Draw `config` on `canvas`, replacing the chart drawn there before. */
export function drawChart(canvas: HTMLCanvasElement, config: ChartConfiguration<'line'>): Chart<'line'> {
  charts.get(canvas)?.destroy();
  const chart = new Chart<'line'>(canvas, config);
  charts.set(canvas, chart);
  return chart;
}

/** Remove the chart drawn on `canvas` (if any). */
export function clearChart(canvas: HTMLCanvasElement): void {
  charts.get(canvas)?.destroy();
  charts.delete(canvas);
}
