/**
 * The kick view: the return rate against the kick size ε (log scale; ε relative to ‖z‖), along random directions and
 * along ± the trajectory's principal directions, with the basin radius and the basin level marked; then the grids
 * the escaped kicks ended at, per ε.
 */
import type { KickResult } from './protocol';
import { epsilonText } from './inspector-interventions-model';
import { axis, drawChart, markPlugin, theme, type Mark } from './inspector-interventions-chart';
import { fillTable, outcomeText } from './inspector-interventions-table';

export interface KickElements { summary: HTMLElement; canvas: HTMLCanvasElement; escapes: HTMLTableElement }

const rate = (x: { returned: number; total: number }): number | null => (x.total > 0 ? x.returned / x.total : null);

export function renderKick(el: KickElements, r: KickResult): string {
  const t = theme();
  const marks: Mark[] = [{ axis: 'y', at: r.basinLevel, color: t.fg, label: `basin level ${Math.round(100 * r.basinLevel)}%`, dash: [1, 3] }];
  if (r.basinRadius !== null) marks.push({ axis: 'x', at: r.basinRadius, color: t.accent, label: `basin radius ε = ${epsilonText(r.basinRadius)}` });
  const series = (name: string, pick: (p: KickResult['curve'][number]) => { returned: number; total: number }, color: string) => ({
    label: name, data: r.curve.map((p) => ({ x: p.epsilon, y: rate(pick(p)) })), borderColor: color, backgroundColor: color, pointRadius: 3, spanGaps: true,
  });
  drawChart(el.canvas, {
    type: 'line',
    data: { datasets: [series('random directions', (p) => p.random, t.series[0]), series('principal directions (±)', (p) => p.principal, t.series[1])] },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: {
        legend: { labels: { color: t.fg, boxWidth: 12 } },
        tooltip: { callbacks: { label: (c) => { const p = r.curve[c.dataIndex]; const x = c.datasetIndex === 0 ? p.random : p.principal; return `ε = ${epsilonText(p.epsilon)}: ${x.returned} / ${x.total} came back`; } } },
      },
      scales: {
        // A tick at each ε kicked (a log axis would label every 1…9 of each decade).
        x: axis(t, 'kick size ε (relative to ‖z‖)', {
          type: 'logarithmic', ticks: { color: t.fg, callback: (v: number | string) => epsilonText(Number(v)) },
          afterBuildTicks: (scale: { ticks: { value: number }[] }) => { scale.ticks = r.curve.map((p) => ({ value: p.epsilon })); },
        }),
        y: axis(t, 'came back to the same grid', { type: 'linear', min: 0, max: 1 }),
      },
    },
    plugins: [markPlugin(() => marks)],
  });
  el.canvas.dataset.points = String(r.curve.length);
  el.canvas.dataset.basinRadius = String(r.basinRadius ?? '');
  const rows = r.curve.flatMap((p) => p.escapes.map((e) => [epsilonText(p.epsilon), e.grid, e.count, e.energy, e.exact]));
  fillTable(el.escapes, rows);
  el.escapes.hidden = rows.length === 0;
  const basin = r.basinRadius === null ? 'not even the smallest kick came back' : `basin radius ε = ${epsilonText(r.basinRadius)}`;
  el.summary.textContent = `unkicked: ${outcomeText(r.outcome)} · ‖z‖ = ${r.stateNorm.toPrecision(4)} · ${basin} (at least ${Math.round(100 * r.basinLevel)}% of the kicks came back) · `
    + `${rows.length === 0 ? 'no kick escaped' : `${rows.length} escape grid${rows.length === 1 ? '' : 's'} (below)`} · ${r.seconds.toFixed(1)} s`;
  return basin;
}
