/**
 * The runs comparison's script: the runs arrive in one 'runs' message (their table row and curves), a run read again
 * in a 'run' message. It draws one toggle per run (its colour, for every chart), the overlaid curves
 * (compare-charts.ts) and the table of settings and held-out accuracy, sortable by any column (a header is a button:
 * click, or Tab to it and press Enter; again reverses). The webview keeps the run folders, the smoothing, the loss
 * scale, the hidden runs, the sort and the segment in its state; the host reads the runs again after a reload.
 * For the browser test: body[data-runs] is the number of runs drawn.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { CompareCell, CompareColumn, CompareRun, CompareState, CompareToHost, HostToCompare } from './protocol';
import { vscodeApi } from './vscode-api';
import { CompareCharts, runStyle } from './compare-charts';
import { pngOf } from './inspector-export';

const vscode = vscodeApi<CompareToHost, CompareState>();
let state: CompareState = vscode.getState() ?? {};
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const charts = new CompareCharts($('charts'));

let columns: CompareColumn[] = [];
let runs: CompareRun[] = [];
let drawQueued = false;

const save = () => vscode.setState(state);
const smoothing = () => state.smoothing ?? 0.9;
const hidden = () => new Set(state.hidden ?? []);
const maxSegments = () => Math.max(1, ...runs.map((r) => r.segments));
const segment = () => Math.min(Math.max(1, state.segment ?? 1), maxSegments());

function formatCell(v: CompareCell, c: CompareColumn): string {
  if (v === null) return '–';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'string') return v;
  if (c.kind === 'percent') return `${(100 * v).toFixed(1)}%`;
  if (c.kind === 'int') return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

/** Table order: the indices of `runs` sorted by the chosen column (empty cells last either way), else as given. */
function rowOrder(): number[] {
  const order = runs.map((_, i) => i);
  const key = state.sort?.key;
  const col = columns.findIndex((c) => c.key === key);
  if (col < 0) return order;
  const sign = state.sort?.descending ? -1 : 1;
  const cmp = (a: CompareCell, b: CompareCell): number => {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
    if (typeof a === 'number' && typeof b === 'number') return sign * (a - b);
    if (typeof a === 'boolean' && typeof b === 'boolean') return sign * (Number(a) - Number(b));
    return sign * String(a).localeCompare(String(b), undefined, { numeric: true });
  };
  return order.sort((i, j) => cmp(runs[i].cells[col] ?? null, runs[j].cells[col] ?? null) || i - j);
}

function swatch(index: number): HTMLElement {
  const s = runStyle(index);
  const el = document.createElement('span');
  el.className = `swatch${s.dashed ? ' dashed' : ''}`;
  el.style.color = s.color;
  el.setAttribute('aria-hidden', 'true');
  return el;
}

function renderLegend(): void {
  const off = hidden();
  $('legend').replaceChildren(...runs.map((r, i) => {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = !off.has(r.dir);
    box.dataset.run = r.dir;
    box.addEventListener('change', () => {
      const now = hidden();
      if (box.checked) now.delete(r.dir);
      else now.add(r.dir);
      state = { ...state, hidden: [...now] };
      save();
      renderTable();
      draw();
    });
    const name = document.createElement('span');
    name.textContent = r.name;
    label.title = r.dir;
    label.append(box, swatch(i), name);
    return label;
  }));
}

function renderTable(): void {
  const head = document.createElement('tr');
  columns.forEach((c) => {
    const th = document.createElement('th');
    th.scope = 'col';
    if (c.kind === 'text') th.className = 'text';
    const sorted = state.sort?.key === c.key;
    th.setAttribute('aria-sort', sorted ? (state.sort?.descending ? 'descending' : 'ascending') : 'none');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${c.label}${sorted ? (state.sort?.descending ? ' ▼' : ' ▲') : ''}`;
    b.title = `${c.title} (sort by it)`;
    b.dataset.sort = c.key;
    b.addEventListener('click', () => {
      state = { ...state, sort: { key: c.key, descending: state.sort?.key === c.key ? !state.sort.descending : false } };
      save();
      renderTable();
      (document.querySelector(`#runs-table th button[data-sort="${CSS.escape(c.key)}"]`) as HTMLElement | null)?.focus();
    });
    th.append(b);
    head.append(th);
  });
  document.querySelector('#runs-table thead')?.replaceChildren(head);
  const off = hidden();
  const rows = rowOrder().map((i) => {
    const r = runs[i];
    const tr = document.createElement('tr');
    tr.dataset.run = r.dir;
    if (off.has(r.dir)) tr.className = 'off';
    columns.forEach((c, j) => {
      const td = document.createElement(j === 0 ? 'th' : 'td');
      if (j === 0) {
        td.setAttribute('scope', 'row');
        td.append(swatch(i), ' ');
        td.title = r.dir;
      }
      if (c.kind === 'text') td.className = 'text';
      td.append(formatCell(r.cells[j] ?? null, c));
      tr.append(td);
    });
    return tr;
  });
  document.querySelector('#runs-table tbody')?.replaceChildren(...rows);
}

function renderNotes(): void {
  $('notes').replaceChildren(...runs.filter((r) => r.note).map((r) => {
    const li = document.createElement('li');
    li.textContent = `${r.name}: ${r.note}`;
    return li;
  }));
}

function renderControls(): void {
  const sel = $<HTMLSelectElement>('segment');
  const S = maxSegments();
  if (sel.options.length !== S) sel.replaceChildren(...Array.from({ length: S }, (_, k) => new Option(String(k + 1), String(k + 1))));
  sel.value = String(segment());
  const range = $<HTMLInputElement>('smoothing');
  range.value = String(smoothing());
  $('smoothing-value').textContent = smoothing().toFixed(2);
  $<HTMLInputElement>('log-loss').checked = state.logLoss ?? true;
}

/** Redraw the charts, at most once per frame. */
function draw(): void {
  if (drawQueued) return;
  drawQueued = true;
  const go = () => {
    drawQueued = false;
    document.body.dataset.runs = String(runs.length);
    charts.update(runs, { smoothing: smoothing(), logLoss: state.logLoss ?? true, segment: segment(), hidden: hidden() });
  };
  if (document.visibilityState === 'hidden') go();
  else requestAnimationFrame(go);
}

function renderAll(rebuild: boolean): void {
  $('empty').hidden = true;
  $('main').hidden = false;
  $('title').textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} side by side`;
  if (rebuild) charts.build(runs);
  renderControls();
  renderLegend();
  renderTable();
  renderNotes();
  draw();
}

window.addEventListener('message', (e: MessageEvent<HostToCompare>) => {
  const m = e.data;
  if (m?.kind === 'runs') {
    const dirs = m.runs.map((r) => r.dir);
    const fresh = dirs.join('\n') !== runs.map((r) => r.dir).join('\n');
    columns = m.columns;
    runs = m.runs;
    // Hidden runs and the sort are kept while they still apply.
    state = { ...state, runs: dirs, hidden: (state.hidden ?? []).filter((d) => dirs.includes(d)), sort: columns.some((c) => c.key === state.sort?.key) ? state.sort : undefined };
    save();
    renderAll(fresh);
  } else if (m?.kind === 'run') {
    const i = runs.findIndex((r) => r.dir === m.run.dir);
    if (i < 0) return;
    runs = runs.map((r, j) => (j === i ? m.run : r));
    renderControls();
    renderTable();
    renderNotes();
    draw();
  } else if (m?.kind === 'exported') {
    $('export-status').textContent = m.message;
  }
});

$<HTMLInputElement>('smoothing').addEventListener('input', (e) => {
  state = { ...state, smoothing: Math.min(0.99, Math.max(0, Number((e.target as HTMLInputElement).value) || 0)) };
  save();
  $('smoothing-value').textContent = smoothing().toFixed(2);
  draw();
});
$<HTMLInputElement>('log-loss').addEventListener('change', (e) => {
  state = { ...state, logLoss: (e.target as HTMLInputElement).checked };
  save();
  draw();
});
$<HTMLSelectElement>('segment').addEventListener('change', (e) => {
  state = { ...state, segment: Number((e.target as HTMLSelectElement).value) || 1 };
  save();
  draw();
});
$('export-csv').addEventListener('click', () => vscode.postMessage({ kind: 'export-csv', order: rowOrder() }));
document.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLElement>('[data-png]');
  if (!b) return;
  const name = b.dataset.png ?? '';
  const canvas = charts.canvases().find((c) => c.name === name)?.canvas;
  if (canvas) vscode.postMessage({ kind: 'export-png', name, dataUrl: pngOf(canvas) });
});
// A theme change switches the body's class: colours are read when drawn, so build again.
new MutationObserver(() => { if (runs.length) renderAll(true); }).observe(document.body, { attributes: true, attributeFilter: ['class'] });

vscode.postMessage({ kind: 'ready' });
