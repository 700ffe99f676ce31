/**
 * The inspector panel's script: one segment scrubber (slider, ←/→ and Home/End keys, play) drives the grid, the
 * "segments since the last change" grid, the per-segment table row, the chart markers, the stability heatmap, the
 * PCA trajectory and the landscape; the class badge shows the trajectory's mode with its evidence. The landscape is
 * drawn in one of two styles chosen by a radio pair ("Normalized arrows" | "Paper style"; webview/inspector-canvases.ts
 * and webview/landscape-paper-canvas.ts), and its PNG export is the style shown. State (trace, segment, solution
 * toggle, landscape, landscape style, the Interventions section's settings and results: webview/inspector-interventions.ts)
 * survives reloads through vscode.setState. Nothing is posted to the webview
 * before it says 'ready'. For the browser test: body[data-segment] is the current segment (1-based) and
 * body[data-render-ms] the time from the trace's arrival to the first painted frame.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { renderGrid, renderSinceChange } from './inspector-grid';
import { pngButton, pngOf } from './inspector-export';
import { SegmentCharts } from './inspector-charts';
import { drawLandscape, drawPca, drawStability } from './inspector-canvases';
import { drawLandscapePaper } from './landscape-paper-canvas';
import { PAPER_ARROW_PERCENT, PAPER_E_CLIP } from './landscape-paper';
import { InterventionsSection, interventionsForNewTrace } from './inspector-interventions';
import type { HostToInspector, InspectorState, InspectorToHost, InspectorTrace, LandscapeStyle } from './protocol';
import { vscodeApi } from './vscode-api';

const vscode = vscodeApi<InspectorToHost, InspectorState>();
let state: InspectorState = vscode.getState() ?? { segment: 0, showSolution: false };
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const charts = new SegmentCharts($('charts'));
let timer: number | undefined;
const interventions = new InterventionsSection({
  state: () => state.interventions,
  save: (iv) => { state = { ...state, interventions: iv }; save(); },
  trace: () => state.trace,
  segment: () => state.segment,
  post: (m) => vscode.postMessage(m),
});

const fmt = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

function save(): void {
  vscode.setState(state);
}

function renderSegment(trace: InspectorTrace): void {
  const k = Math.max(0, Math.min(trace.segments.length - 1, state.segment));
  const s = trace.segments[k];
  const slider = $<HTMLInputElement>('scrubber');
  slider.value = String(k);
  $('segment-label').textContent = `segment ${s.segment} / ${trace.segments.length}`;
  document.body.dataset.segment = String(s.segment);
  renderGrid($('grid'), trace, k, state.showSolution);
  renderSinceChange($('since'), trace, k);
  charts.setCurrent(k);
  drawStability($<HTMLCanvasElement>('stability'), trace, k);
  drawPca($<HTMLCanvasElement>('pca'), trace, k);
  drawLandscapeView(trace, k);
  $('figures').textContent = `${s.exact ? 'exact' : `${s.wrong ?? '?'} wrong`} · E ${s.energy} · loss ${fmt(s.loss)} · changed ${s.changed} · σ(q_halt) ${fmt(s.qHalt)} · σ(q_continue) ${fmt(s.qContinue)} · residual ${fmt(s.residualH)}`;
  for (const row of Array.from(document.querySelectorAll<HTMLTableRowElement>('#table tbody tr'))) row.classList.toggle('current', row.dataset.k === String(k));
  interventions.setSegment();
}

/** The landscape (if computed) in the chosen style; the canvas says which in data-style. */
function drawLandscapeView(trace: InspectorTrace, k: number): void {
  const canvas = $<HTMLCanvasElement>('landscape');
  if (!state.landscape) return;
  if (state.landscapeStyle === 'paper') {
    drawLandscapePaper(canvas, state.landscape, trace, k);
    return;
  }
  drawLandscape(canvas, state.landscape, trace, k);
  canvas.dataset.style = 'normalized';
  for (const key of ['clip', 'arrows', 'arrowSample']) delete canvas.dataset[key];
  canvas.setAttribute('aria-label', 'error landscape');
}

const styleInputs = Array.from(document.querySelectorAll<HTMLInputElement>('input[name="landscape-style"]'));

/** The radio pair and its note follow the saved style. */
function showLandscapeStyle(): void {
  const style: LandscapeStyle = state.landscapeStyle ?? 'normalized';
  for (const r of styleInputs) r.checked = r.value === style;
  $('landscape-style-note').textContent = style === 'paper'
    ? `colour scale clipped at E = ${PAPER_E_CLIP}; a fixed random ${PAPER_ARROW_PERCENT}% of the arrows at full length`
    : 'arrows on a lattice, each shortened to at most one spacing; colour scaled to the largest E';
}

function renderTrace(trace: InspectorTrace, t0 = performance.now()): void {
  $('empty').hidden = true;
  $('main').hidden = false;
  $('title').textContent = `${trace.puzzle} · ${trace.checkpoint.split(/[\\/]/).pop() ?? trace.checkpoint}`;
  const badge = $('badge');
  badge.textContent = trace.mode;
  badge.className = `badge ${trace.success ? 'success' : 'failure'}`;
  $('evidence').textContent = trace.evidence.map(([k, v]) => `${k}: ${v}`).join(' · ');
  const marks = [`first exact: ${trace.firstExact ?? '–'}`, `critical segment: ${trace.criticalSegment ?? '–'}`, `stable from: ${trace.stableFrom ?? '–'}`,
    `corruptions: ${trace.corruptions.length ? trace.corruptions.join(', ') : 'none'}`];
  $('marks').textContent = marks.join(' · ');
  renderStrip(trace);
  const slider = $<HTMLInputElement>('scrubber');
  slider.max = String(trace.segments.length - 1);
  const body = document.querySelector('#table tbody') as HTMLTableSectionElement;
  body.replaceChildren(...trace.segments.map((s, k) => {
    const tr = document.createElement('tr');
    tr.dataset.k = String(k);
    for (const v of [s.segment, s.exact ? '✓' : '', s.wrong ?? '–', s.energy, fmt(s.loss), s.changed, fmt(s.qHalt), fmt(s.qContinue), fmt(s.residualH)]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    tr.addEventListener('click', () => go(k));
    return tr;
  }));
  charts.render(trace, state.segment);
  renderSegment(trace);
  interventions.render();
  // Done when the frame with all of it is painted: the callback of the next frame's rAF runs after that paint.
  const done = () => {
    const ms = performance.now() - t0;
    document.body.dataset.renderMs = ms.toFixed(1);
    vscode.postMessage({ kind: 'rendered', ms });
  };
  // A hidden document gets no frames: report the synchronous render then.
  if (document.visibilityState === 'hidden') done();
  else requestAnimationFrame(() => requestAnimationFrame(done));
}

/** The perturbation strip: one chip per digit relabeling (✓ exact, ✗ wrong, ? no unique solution; H = halted), then the vote. */
function renderStrip(trace: InspectorTrace): void {
  if (trace.stripPending || trace.stripError) {
    const note = document.createElement('span');
    note.className = 'chip pending';
    note.textContent = trace.stripError ? `relabelings: ${trace.stripError}` : 'relabelings: computing…';
    $('strip').replaceChildren(note);
    return;
  }
  const mark = (exact: boolean | null) => (exact === null ? '?' : exact ? '✓' : '✗');
  const chips = trace.perturbations.map((p) => {
    const chip = document.createElement('span');
    chip.className = `chip ${p.exact === true ? 'ok' : p.exact === false ? 'bad' : ''}`;
    chip.textContent = `${p.name.replace('shift ', '')} ${mark(p.exact)}${p.halted ? ' H' : ''}`;
    chip.title = `${p.name}: answer mapped back ${p.answer}${p.halted ? ' (halted)' : ''}`;
    return chip;
  });
  const v = document.createElement('span');
  v.className = `chip vote ${trace.vote.exact === true ? 'ok' : trace.vote.exact === false ? 'bad' : ''}`;
  v.textContent = `vote ${mark(trace.vote.exact)} (${trace.vote.votes}/${trace.vote.poolSize} ${trace.vote.pool})`;
  v.title = `label-free plurality: ${trace.vote.answer ?? 'no answer'}`;
  $('strip').replaceChildren(...chips, v);
}

function go(k: number): void {
  const trace = state.trace;
  if (!trace) return;
  state = { ...state, segment: Math.max(0, Math.min(trace.segments.length - 1, k)) };
  save();
  renderSegment(trace);
}

function play(): void {
  const button = $('play');
  if (timer !== undefined) {
    window.clearInterval(timer);
    timer = undefined;
    button.textContent = 'Play';
    return;
  }
  button.textContent = 'Pause';
  if (state.trace && state.segment >= state.trace.segments.length - 1) go(0);
  timer = window.setInterval(() => {
    const t = state.trace;
    if (!t || state.segment >= t.segments.length - 1) { play(); return; }
    go(state.segment + 1);
  }, 600);
}

$<HTMLInputElement>('scrubber').addEventListener('input', (e) => go(Number((e.target as HTMLInputElement).value)));
$('play').addEventListener('click', play);
$('solution').addEventListener('change', (e) => {
  state = { ...state, showSolution: Boolean((e.target as HTMLInputElement & { checked: boolean }).checked) };
  save();
  if (state.trace) renderSegment(state.trace);
});
window.addEventListener('keydown', (e) => {
  // Text boxes, the landscape style's radios and the Interventions section's controls keep their own arrow keys.
  if (!state.trace || (e.target instanceof HTMLInputElement && (e.target.type === 'text' || e.target.type === 'radio'))) return;
  if (e.target instanceof Element && e.target.closest('#interventions')) return;
  if (e.key === 'ArrowRight') go(state.segment + 1);
  else if (e.key === 'ArrowLeft') go(state.segment - 1);
  else if (e.key === 'Home') go(0);
  else if (e.key === 'End') go(state.trace.segments.length - 1);
  else return;
  e.preventDefault();
});
function landscapeBusy(busy: boolean, text: string): void {
  $('landscape-compute').toggleAttribute('disabled', busy);
  $('landscape-cancel').hidden = !busy;
  $('landscape-status').textContent = text;
}

$('landscape-compute').addEventListener('click', () => {
  const size = Number($<HTMLSelectElement>('landscape-size').value) || 41;
  const basins = Boolean(($('landscape-basins') as HTMLElement & { checked?: boolean }).checked);
  landscapeBusy(true, 'computing…');
  vscode.postMessage({ kind: 'compute-landscape', size, basins });
});
$('landscape-cancel').addEventListener('click', () => vscode.postMessage({ kind: 'cancel-landscape' }));
for (const r of styleInputs) {
  r.addEventListener('change', () => {
    if (!r.checked) return;
    state = { ...state, landscapeStyle: r.value === 'paper' ? 'paper' : 'normalized' };
    save();
    showLandscapeStyle();
    if (state.trace) renderSegment(state.trace);
  });
}

window.addEventListener('message', (e: MessageEvent<HostToInspector>) => {
  const m = e.data;
  if (m && interventions.onMessage(m)) return;
  if (m?.kind === 'trace') {
    const t0 = performance.now();
    state = { trace: m.trace, segment: m.trace.segments.length - 1, showSolution: false, landscapeStyle: state.landscapeStyle, interventions: interventionsForNewTrace(state.interventions) };
    save();
    // A new trace: the old landscape (computed for the old one) goes.
    const old = $<HTMLCanvasElement>('landscape');
    old.width = old.height = 0;
    old.style.width = old.style.height = '0px';
    for (const key of ['style', 'clip', 'arrows', 'arrowSample']) delete old.dataset[key];
    landscapeBusy(false, '');
    renderTrace(m.trace, t0);
  } else if (m?.kind === 'landscape-progress') {
    landscapeBusy(true, `${m.done} / ${m.total} points`);
  } else if (m?.kind === 'landscape') {
    state = { ...state, landscape: m.landscape };
    save();
    const b = m.landscape.basins;
    const basinText = b ? ` · basins: ${b.attractors.map((a) => `${a.kind === 'solution' ? 'solution' : `spurious #${a.label} (E ${a.energy})`} ${a.points}`).join(', ') || 'none'}; moving ${b.moving}` : '';
    landscapeBusy(false, `${m.landscape.size}×${m.landscape.size} points in ${m.landscape.seconds.toFixed(1)} s · PC1 ${(100 * (m.landscape.explained[0] ?? 0)).toFixed(0)}% · PC2 ${(100 * (m.landscape.explained[1] ?? 0)).toFixed(0)}%${basinText}`);
    if (state.trace) renderSegment(state.trace);
  } else if (m?.kind === 'strip' || m?.kind === 'strip-error') {
    if (!state.trace) return;
    const trace: InspectorTrace = m.kind === 'strip'
      ? { ...state.trace, perturbations: m.perturbations, vote: m.vote, stripPending: false, stripError: undefined }
      : { ...state.trace, stripPending: false, stripError: m.message };
    state = { ...state, trace };
    save();
    renderStrip(trace);
  } else if (m?.kind === 'landscape-error') {
    landscapeBusy(false, m.message);
  } else if (m?.kind === 'exported') {
    $('export-status').textContent = m.message;
  }
});

// Exports: PNG of any chart or canvas (buttons carry data-png = its name), JSON / CSV of the trace (formatted by the host).
for (const id of ['stability', 'pca', 'landscape']) $(`${id}-png`).replaceWith(Object.assign(pngButton(id), { id: `${id}-png` }));
document.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLElement>('[data-png]');
  if (!b) return;
  const name = b.dataset.png ?? '';
  const canvas = charts.canvases().find((c) => c.name === name)?.canvas ?? document.getElementById(name);
  if (!(canvas instanceof HTMLCanvasElement) || (name === 'landscape' && !state.landscape)) { $('export-status').textContent = `nothing drawn in ${name} yet`; return; }
  // The landscape's PNG is the style shown, and its file name says which.
  const file = name === 'landscape' && state.landscapeStyle === 'paper' ? 'landscape-paper' : name;
  vscode.postMessage({ kind: 'export-png', name: file, dataUrl: pngOf(canvas) });
});
$('export-json').addEventListener('click', () => vscode.postMessage({ kind: 'export-trace', format: 'json' }));
$('export-csv').addEventListener('click', () => vscode.postMessage({ kind: 'export-trace', format: 'csv' }));

// VS Code switches the body's theme class (vscode-light / vscode-dark / vscode-high-contrast) on a theme change:
// charts and canvases resolve colours when drawn, so draw them again.
new MutationObserver(() => {
  if (!state.trace) return;
  charts.render(state.trace, state.segment);
  renderSegment(state.trace);
  interventions.redraw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

showLandscapeStyle();
if (state.trace) renderTrace(state.trace);
if (state.landscape && state.trace) landscapeBusy(false, `${state.landscape.size}×${state.landscape.size} points (restored)`);
const restored = state.trace ? { checkpoint: state.trace.checkpoint, puzzle: state.trace.puzzle, segments: state.trace.segments.length } : undefined;
vscode.postMessage({ kind: 'ready', restored });
