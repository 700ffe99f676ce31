/**
 * The compute sweep: exact accuracy against compute (updates per puzzle: segments × H × (L + 1), log scale), one line
 * per (H, L) through its segment counts, the trained setting marked (a large diamond, and in the legend); then the
 * same as a table.
 */
import type { InterventionView } from './protocol';
import { sweepLines } from './inspector-interventions-model';
import { axis, drawChart, theme } from './inspector-interventions-chart';
import { fillTable } from './inspector-interventions-table';

type SweepView = Extract<InterventionView, { kind: 'sweep' }>;

export interface SweepElements { summary: HTMLElement; canvas: HTMLCanvasElement; table: HTMLTableElement }

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function renderSweep(el: SweepElements, v: SweepView): string {
  const r = v.result;
  const t = theme();
  const lines = sweepLines(r);
  const trained = r.cells.find((c) => c.trained);
  const datasets = lines.map((l, i) => {
    const color = t.series[i % t.series.length];
    return {
      label: `${l.label}${l.trained ? ' (trained)' : ''}`, data: l.points.map((p) => ({ x: p.compute, y: p.exact })), borderColor: color, backgroundColor: color,
      borderWidth: l.trained ? 2.5 : 1.5, pointRadius: 3, tension: 0,
    };
  });
  if (trained) {
    datasets.push({ label: `trained: H ${trained.hCycles}, L ${trained.lCycles}, ${trained.segments} segments`, data: [{ x: trained.compute, y: trained.exact }],
      borderColor: t.accent, backgroundColor: t.accent, borderWidth: 2, pointRadius: 8, tension: 0, ...{ pointStyle: 'rectRot', showLine: false } });
  }
  drawChart(el.canvas, {
    type: 'line',
    data: { datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: {
        legend: { labels: { color: t.fg, boxWidth: 12 } },
        tooltip: { callbacks: { label: (c) => { const raw = c.raw as { x: number; y: number }; return `${c.dataset.label}: compute ${raw.x}, exact ${pct(raw.y)}`; } } },
      },
      scales: {
        x: axis(t, 'compute: updates per puzzle = segments × H × (L + 1)', { type: 'logarithmic' }),
        y: axis(t, 'exact accuracy', { type: 'linear', min: 0, max: 1, ticks: { color: t.fg, callback: (y: number | string) => pct(Number(y)) } }),
      },
    },
  });
  el.canvas.dataset.lines = String(lines.length);
  el.canvas.dataset.cells = String(r.cells.length);
  fillTable(el.table, [...r.cells].sort((a, b) => a.hCycles - b.hCycles || a.lCycles - b.lCycles || a.segments - b.segments)
    .map((c) => [c.hCycles, c.lCycles, c.segments, c.compute, pct(c.exact), pct(c.cell), c.trained ? 'trained' : '']));
  const on = v.scope === 'dataset' ? `${r.puzzles} puzzles of ${v.dataset ?? 'the dataset'}` : 'the inspected puzzle';
  el.summary.textContent = `${on} · trained: H ${r.trained.hCycles}, L ${r.trained.lCycles}, ${r.trained.segments} segments${trained ? ` (exact ${pct(trained.exact)})` : ''} · `
    + `${lines.length} (H, L) lines, ${r.cells.length} settings · ${r.seconds.toFixed(1)} s`;
  return `${lines.length} lines, ${r.cells.length} settings on ${on}`;
}
