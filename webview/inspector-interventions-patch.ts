/**
 * The patch view: the patching curve (the state replaced by the donor's at the end of segment k, on x; where the
 * patched run ends, on y: at the donor's final grid, at the receiver's own, or elsewhere; a filled green dot when it
 * ends exact, a red triangle when not) with "rescued up to" and "inescapable from" marked, and the same as a table.
 */
import type { InterventionView } from './protocol';
import { PATCH_END_TEXT, patchEnd, patchRows } from './inspector-interventions-model';
import { axis, drawChart, markPlugin, theme, type Mark } from './inspector-interventions-chart';
import { fillTable, outcomeText } from './inspector-interventions-table';

type PatchView = Extract<InterventionView, { kind: 'patch' }>;

export interface PatchElements { summary: HTMLElement; canvas: HTMLCanvasElement; table: HTMLTableElement }

/** Draws `v`; answers the summary the section shows. */
export function renderPatch(el: PatchElements, v: PatchView): string {
  const r = v.result;
  const t = theme();
  const rows = patchRows(r.curve);
  const exactColor = (e: boolean | null) => (e === null ? t.fg : e ? t.good : t.bad);
  const marks: Mark[] = [];
  if (r.rescuedUpTo !== null) marks.push({ axis: 'x', at: r.rescuedUpTo, color: t.good, label: `rescued up to k = ${r.rescuedUpTo}` });
  if (r.inescapableFrom !== null) marks.push({ axis: 'x', at: r.inescapableFrom, color: t.bad, label: `inescapable from k = ${r.inescapableFrom}`, dash: [2, 3] });
  const ks = r.curve.map((p) => p.atSegment);
  drawChart(el.canvas, {
    type: 'line',
    data: {
      datasets: [{
        label: 'patched run ends at', data: r.curve.map((p) => ({ x: p.atSegment, y: rows.indexOf(patchEnd(p)) })),
        borderColor: t.series[0], backgroundColor: t.series[0], borderWidth: 1, tension: 0, stepped: 'middle',
        pointRadius: 5, pointHoverRadius: 7,
        pointStyle: r.curve.map((p) => (p.exact ? 'circle' : 'triangle')),
        pointBackgroundColor: r.curve.map((p) => exactColor(p.exact)), pointBorderColor: r.curve.map((p) => exactColor(p.exact)),
      }],
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => { const p = r.curve[c.dataIndex]; return `k = ${p.atSegment}: ends at ${PATCH_END_TEXT[patchEnd(p)]}, ${outcomeText(p)}`; } } },
      },
      scales: {
        // One tick per k and per row (the axes reach half a step beyond them, so chart.js's own ticks would fall between).
        x: axis(t, 'patched after segment k', {
          type: 'linear', min: Math.min(...ks, 1) - 0.5, max: Math.max(...ks, 1) + 0.5,
          afterBuildTicks: (scale: { ticks: { value: number }[] }) => { scale.ticks = ks.map((k) => ({ value: k })); },
        }),
        y: axis(t, 'ends at', {
          type: 'linear', min: -0.5, max: rows.length - 0.5, ticks: { color: t.fg, callback: (y: number | string) => PATCH_END_TEXT[rows[Number(y)]] ?? '' },
          afterBuildTicks: (scale: { ticks: { value: number }[] }) => { scale.ticks = rows.map((_, i) => ({ value: i })); },
        }),
      },
    },
    plugins: [markPlugin(() => marks)],
  });
  el.canvas.dataset.points = String(r.curve.length);
  el.canvas.dataset.rescuedUpTo = String(r.rescuedUpTo ?? '');
  el.canvas.dataset.inescapableFrom = String(r.inescapableFrom ?? '');
  fillTable(el.table, r.curve.map((p) => [p.atSegment, PATCH_END_TEXT[patchEnd(p)], p.exact, p.wrongCells, p.energy, p.mode.replace(/-/g, ' '), p.segmentsToExact]));
  const summary = `donor: ${v.donor.label} · part ${r.part === 'both' ? 'z_H and z_L' : r.part === 'zH' ? 'z_H' : 'z_L'} · ${r.cells === null ? 'all positions' : `${r.cells.length} cells`} · `
    + `receiver alone: ${outcomeText(r.receiver)} · donor alone: ${outcomeText(r.donor)} · `
    + `rescued up to k = ${r.rescuedUpTo ?? '–'} · inescapable from k = ${r.inescapableFrom ?? '–'} · ${r.seconds.toFixed(1)} s`;
  el.summary.textContent = summary;
  return `${r.curve.length} points; rescued up to ${r.rescuedUpTo ?? '–'}; inescapable from ${r.inescapableFrom ?? '–'}`;
}
