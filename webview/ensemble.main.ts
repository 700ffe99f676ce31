/**
 * The ensemble report panel's script: the ablation table, accuracy against the number of relabelings and of
 * checkpoints (chart.js, oracle and label-free), the checkpoint overlap and the agreement matrix (hover or arrow keys
 * read a cell out). The report lives in the webview's state (restored after a reload without asking the engine).
 * For the browser test: body[data-puzzles] is the number of puzzles drawn.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Chart, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import type { EnsembleState, EnsembleToHost, EnsembleView, HostToEnsemble } from './protocol';
import { vscodeApi } from './vscode-api';
import { css } from './canvas';
import { CONFIGS, cellAt, drawJaccard, drawMatrix, matrixColors, matrixLayout, type MatrixLayout } from './ensemble-canvases';
import { pngButton, pngOf } from './inspector-export';

Chart.register(LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

const vscode = vscodeApi<EnsembleToHost, EnsembleState>();
let state: EnsembleState = vscode.getState() ?? {};
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);
type Points = { x: number; y: number | null }[];
const charts: { name: string; chart: Chart<'line', Points> }[] = [];
let layout: MatrixLayout | undefined;
let cursor = { row: 0, col: 0 };

const save = () => vscode.setState(state);
const rule = () => state.rule ?? 'oracle';

function renderTable(r: EnsembleView): void {
  const passes: Record<(typeof CONFIGS)[number], number> = { baseline: 1, relabeling: r.perturbations, checkpoints: r.checkpoints, both: r.checkpoints * r.perturbations };
  const labels: Record<(typeof CONFIGS)[number], string> = { baseline: 'baseline (last checkpoint, identity)', relabeling: '+ relabeling', checkpoints: '+ checkpoint ensemble', both: '+ both' };
  const best = (k: 'oracle' | 'labelFree') => Math.max(...CONFIGS.map((c) => r.summary[c][k] ?? -1));
  const body = document.querySelector('#ablation tbody') as HTMLTableSectionElement;
  body.replaceChildren(...CONFIGS.map((c) => {
    const tr = document.createElement('tr');
    const cells: [string, string][] = [[labels[c], ''], [String(passes[c]), '']];
    for (const k of ['oracle', 'labelFree'] as const) cells.push([pct(r.summary[c][k]), r.summary[c][k] !== null && r.summary[c][k] === best(k) ? 'best' : '']);
    cells.forEach(([text, cls], j) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      if (j >= 2) {
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${Math.round(60 * ((j === 2 ? r.summary[c].oracle : r.summary[c].labelFree) ?? 0))}px`;
        td.append(bar);
      }
      tr.append(td);
    });
    return tr;
  }));
}

function renderCharts(r: EnsembleView): void {
  for (const c of charts) c.chart.destroy();
  charts.length = 0;
  const root = $('charts');
  root.replaceChildren();
  const fg = css('--vscode-foreground', '#888');
  const grid = css('--vscode-editorWidget-border', css('--vscode-panel-border', '#8884'));
  const blue = css('--vscode-charts-blue', '#4e79a7');
  const orange = css('--vscode-charts-orange', '#f28e2b');
  const specs = [
    { name: 'vs-relabelings', x: 'relabelings (first k)', one: r.curves.relabelings, all: r.curves.relabelingsAllCheckpoints, oneLabel: 'last checkpoint', allLabel: 'all checkpoints' },
    { name: 'vs-checkpoints', x: 'checkpoints (last k)', one: r.curves.checkpoints, all: r.curves.checkpointsAllRelabelings, oneLabel: 'identity', allLabel: 'all relabelings' },
  ];
  for (const s of specs) {
    const box = document.createElement('div');
    box.className = 'chart';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `accuracy against the number of ${s.x}`);
    box.append(canvas, pngButton(s.name));
    root.append(box);
    // The axis spans the ks drawn (1…n); a single point (one checkpoint) keeps Chart.js's padding around it.
    const kMax = Math.max(1, ...s.one.map((p) => p.k), ...s.all.map((p) => p.k));
    const series = (pts: typeof s.one, k: 'oracle' | 'labelFree') => pts.map((p) => ({ x: p.k, y: p[k] === null ? null : 100 * (p[k] as number) }));
    const chart = new Chart<'line', Points>(canvas, {
      type: 'line',
      data: {
        datasets: [
          { label: `oracle, ${s.oneLabel}`, data: series(s.one, 'oracle'), borderColor: blue, backgroundColor: blue },
          { label: `label-free, ${s.oneLabel}`, data: series(s.one, 'labelFree'), borderColor: orange, backgroundColor: orange },
          { label: `oracle, ${s.allLabel}`, data: series(s.all, 'oracle'), borderColor: blue, backgroundColor: blue, borderDash: [5, 4] },
          { label: `label-free, ${s.allLabel}`, data: series(s.all, 'labelFree'), borderColor: orange, backgroundColor: orange, borderDash: [5, 4] },
        ],
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        plugins: { legend: { labels: { color: fg, boxWidth: 12 } }, tooltip: { mode: 'index', intersect: false } },
        scales: {
          x: { type: 'linear', ...(kMax > 1 ? { min: 1, max: kMax } : {}), title: { display: true, text: s.x, color: fg }, ticks: { color: fg, stepSize: 1, precision: 0 }, grid: { color: grid } },
          y: { min: 0, max: 100, title: { display: true, text: 'exact accuracy (%)', color: fg }, ticks: { color: fg }, grid: { color: grid } },
        },
      },
    });
    charts.push({ name: s.name, chart });
  }
}

function renderMatrix(r: EnsembleView): void {
  layout = matrixLayout(r, state.sort ?? 'input');
  drawMatrix($<HTMLCanvasElement>('matrix'), r, layout, rule(), document.activeElement === $('matrix') ? cursor : undefined);
  drawJaccard($<HTMLCanvasElement>('jaccard'), r, rule());
  const col = matrixColors();
  const legend: [string, string, number][] = [['lg-exact-h', col.right, 0.95], ['lg-exact', col.right, 0.35], ['lg-wrong-h', col.wrong, 0.95], ['lg-wrong', col.wrong, 0.35]];
  for (const [id, colour, alpha] of legend) $(id).style.background = `color-mix(in srgb, ${colour} ${Math.round(alpha * 100)}%, transparent)`;
  document.body.dataset.puzzles = String(r.puzzles);
}

function describe(r: EnsembleView, at: { row: number; col: number }): string {
  if (!layout) return '';
  const i = layout.order[at.row];
  const per = r.checkpoints * r.perturbations;
  const id = r.puzzleIds[i] ?? String(i);
  if (at.col < per) {
    const c = Math.floor(at.col / r.perturbations);
    const p = at.col % r.perturbations;
    const v = Number(r.passes[i * per + at.col]);
    return `puzzle ${id} · ${r.checkpointNames[c]} · ${r.perturbationNames[p]}: ${v & 1 ? 'right' : 'wrong'}, ${v & 2 ? 'halted' : 'not halted'}`;
  }
  const name = CONFIGS[at.col - per];
  const v = Number(r.solved[name][i]);
  return `puzzle ${id} · ${name}: oracle ${v & 1 ? 'solved' : 'not solved'}, label-free ${v & 2 ? 'solved' : 'not solved'}`;
}

function render(r: EnsembleView): void {
  $('empty').hidden = true;
  $('main').hidden = false;
  $('title').textContent = r.title;
  $('figures').textContent = `${r.puzzles} puzzles × ${r.checkpoints} checkpoint${r.checkpoints > 1 ? 's' : ''} × ${r.perturbations} relabelings = ${r.puzzles * r.checkpoints * r.perturbations} passes in ${r.seconds.toFixed(1)} s`
    + ` · baseline: ${r.checkpointNames[r.baselineCheckpoint] ?? '–'}, ${r.perturbationNames[r.identityPerturbation] ?? '–'}`;
  $<HTMLSelectElement>('sort').value = state.sort ?? 'input';
  $<HTMLSelectElement>('rule').value = rule();
  renderTable(r);
  renderCharts(r);
  renderMatrix(r);
}

window.addEventListener('message', (e: MessageEvent<HostToEnsemble>) => {
  const m = e.data;
  if (m?.kind === 'report') {
    state = { ...state, report: m.report };
    save();
    cursor = { row: 0, col: 0 };
    render(m.report);
  } else if (m?.kind === 'exported') {
    $('export-status').textContent = m.message;
  }
});

$<HTMLSelectElement>('sort').addEventListener('change', (e) => {
  state = { ...state, sort: (e.target as HTMLSelectElement).value === 'solved' ? 'solved' : 'input' };
  save();
  if (state.report) renderMatrix(state.report);
});
$<HTMLSelectElement>('rule').addEventListener('change', (e) => {
  state = { ...state, rule: (e.target as HTMLSelectElement).value === 'labelFree' ? 'labelFree' : 'oracle' };
  save();
  if (state.report) renderMatrix(state.report);
});
const matrix = $<HTMLCanvasElement>('matrix');
matrix.addEventListener('mousemove', (e) => {
  const r = state.report;
  if (!r || !layout) return;
  const box = matrix.getBoundingClientRect();
  const at = cellAt(r, layout, e.clientX - box.left, e.clientY - box.top);
  $('matrix-info').textContent = at ? describe(r, at) : '';
});
matrix.addEventListener('keydown', (e) => {
  const r = state.report;
  if (!r) return;
  const cols = r.checkpoints * r.perturbations + CONFIGS.length;
  const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  const d = moves[e.key];
  if (!d) return;
  e.preventDefault();
  cursor = { row: Math.max(0, Math.min(r.puzzles - 1, cursor.row + d[0])), col: Math.max(0, Math.min(cols - 1, cursor.col + d[1])) };
  renderMatrix(r);
  $('matrix-info').textContent = describe(r, cursor);
});
matrix.addEventListener('focus', () => { if (state.report) { renderMatrix(state.report); $('matrix-info').textContent = describe(state.report, cursor); } });
matrix.addEventListener('blur', () => { if (state.report) renderMatrix(state.report); });

for (const id of ['matrix', 'jaccard']) $(`${id}-png`).replaceWith(Object.assign(pngButton(id), { id: `${id}-png` }));
document.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLElement>('[data-png]');
  if (!b) return;
  const name = b.dataset.png ?? '';
  const canvas = charts.find((c) => c.name === name)?.chart.canvas ?? document.getElementById(name);
  if (canvas instanceof HTMLCanvasElement) vscode.postMessage({ kind: 'export-png', name, dataUrl: pngOf(canvas) });
});
$('export-json').addEventListener('click', () => vscode.postMessage({ kind: 'export-json' }));
new MutationObserver(() => { if (state.report) render(state.report); }).observe(document.body, { attributes: true, attributeFilter: ['class'] });

if (state.report) render(state.report);
vscode.postMessage({ kind: 'ready', restored: state.report?.key });
