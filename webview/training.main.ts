/**
 * The training dashboard's script: the run's history arrives in one 'run' message, live steps in 'points' batches.
 * It draws the status badge and progress, the figures of the latest step, the loss / accuracy / ACT charts
 * (training-charts.ts) and the step × segment exact heatmap, and lists the checkpoints. Stop and Resume ask the host.
 * The webview keeps only the run folder and the smoothing in its state (the host re-reads metrics.jsonl after a
 * reload). For the browser test: body[data-steps] is the number of steps shown, body[data-status] the run's status.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { DashboardCheckpoint, DashboardRun, DashboardState, DashboardToHost, HostToDashboard, TrainPoint } from './protocol';
import { vscodeApi } from './vscode-api';
import { css } from './canvas';
import { TrainingCharts } from './training-charts';
import { segmentMatrix } from './training-series';
import { pngButton, pngOf } from './inspector-export';

const vscode = vscodeApi<DashboardToHost, DashboardState>();
let state: DashboardState = vscode.getState() ?? {};
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const charts = new TrainingCharts($('charts'));

let run: DashboardRun | undefined;
let points: TrainPoint[] = [];
let checkpoints: DashboardCheckpoint[] = [];
let drawQueued = false;

const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);
const fixed = (x: number | null | undefined, d = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

function smoothing(): number {
  return state.smoothing ?? 0.9;
}

function renderHeader(): void {
  if (!run) return;
  $('title').textContent = `${run.name} · ${run.preset}${run.mixing ? ' · data mixing' : ''}`;
  const badge = $('badge');
  badge.textContent = run.status === 'external' ? 'training (another process)' : run.status;
  badge.className = `badge ${run.status}`;
  document.body.dataset.status = run.status;
  const last = points.at(-1)?.step ?? 0;
  const bar = $<HTMLProgressElement>('progress');
  bar.max = Math.max(1, run.totalSteps);
  bar.value = Math.min(last, bar.max);
  $('progress-label').textContent = `step ${last} / ${run.totalSteps}`;
  $('message').textContent = run.message;
  const training = run.status === 'training' || run.status === 'stopping' || run.status === 'external';
  $('stop').toggleAttribute('disabled', run.status !== 'training');
  $('resume').toggleAttribute('disabled', training || checkpoints.length === 0);
}

/** Mean of the last `n` non-null values of a field (the stat cards read as "lately", not one noisy step). */
function recent(f: (p: TrainPoint) => number | null, n = 20): number | null {
  let s = 0;
  let c = 0;
  for (let i = points.length - 1; i >= 0 && c < n; i--) {
    const v = f(points[i]);
    if (v !== null && Number.isFinite(v)) { s += v; c++; }
  }
  return c ? s / c : null;
}

function renderStats(): void {
  if (!run) return;
  const rate = recent((p) => p.stepsPerSecond, 10);
  const last = points.at(-1)?.step ?? 0;
  const left = run.totalSteps - last;
  const eta = rate && left > 0 && (run.status === 'training' || run.status === 'external') ? `${Math.round(left / rate)} s` : '–';
  const cards: [string, string][] = [
    ['loss (last 20)', fixed(recent((p) => p.loss))], ['cell accuracy', pct(recent((p) => p.cellAccuracy))],
    ['exact (halted)', pct(recent((p) => p.exactAccuracy))], ['mean ACT segments', fixed(recent((p) => p.meanSteps), 2)],
    ['steps/s', fixed(rate, 2)], ['time left', eta], ['backend', run.backend ?? '–'], ['checkpoints', String(checkpoints.length)],
  ];
  $('stats').replaceChildren(...cards.map(([k, v]) => {
    const d = document.createElement('div');
    d.className = 'stat';
    d.innerHTML = '<div class="muted"></div><div class="v"></div>';
    (d.firstElementChild as HTMLElement).textContent = k;
    (d.lastElementChild as HTMLElement).textContent = v;
    d.dataset.stat = k;
    return d;
  }));
}

function drawHeatmap(): void {
  const canvas = $<HTMLCanvasElement>('heatmap');
  const w = Math.max(200, canvas.clientWidth || 600);
  const S = run?.segments ?? 0;
  const h = Math.max(60, Math.min(260, 14 * S + 34));
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const fg = css('--vscode-foreground', '#888');
  const hot = css('--vscode-charts-green', '#59a14f');
  const left = 34;
  const bottom = 18;
  ctx.font = `10px ${css('--vscode-font-family', 'sans-serif')}`;
  ctx.fillStyle = fg;
  if (!S || !points.length) {
    ctx.fillText('no per-segment figures logged yet', left, 16);
    return;
  }
  const m = segmentMatrix(points, S, Math.floor((w - left) / 2));
  const cw = (w - left) / m.columns;
  const ch = (h - bottom) / S;
  ctx.textBaseline = 'middle';
  for (let s = 0; s < S; s++) {
    ctx.globalAlpha = 1;
    ctx.fillStyle = fg;
    if (S <= 16 || s % 2 === 0) ctx.fillText(String(s + 1), 4, s * ch + ch / 2);
  }
  ctx.fillStyle = hot;
  for (let c = 0; c < m.columns; c++) {
    for (let s = 0; s < S; s++) {
      const v = m.values[c * S + s];
      if (v === null) continue;
      ctx.globalAlpha = 0.08 + 0.92 * v;
      ctx.fillRect(left + c * cw, s * ch, Math.ceil(cw), Math.max(1, ch - 1));
    }
  }
  ctx.globalAlpha = 1;
  // Step axis: first and last step, and the checkpoints as ticks.
  const first = m.steps[0][0];
  const lastStep = m.steps[m.columns - 1][1];
  const xOf = (step: number) => left + ((step - first) / Math.max(1, lastStep - first)) * (w - left);
  ctx.fillStyle = fg;
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(`step ${first}`, left, h - 4);
  const tail = `step ${lastStep}`;
  ctx.fillText(tail, w - ctx.measureText(tail).width - 2, h - 4);
  ctx.strokeStyle = css('--vscode-charts-purple', fg);
  for (const c of checkpoints) {
    if (c.step < first || c.step > lastStep) continue;
    const x = xOf(c.step);
    ctx.beginPath();
    ctx.moveTo(x, h - bottom);
    ctx.lineTo(x, h - bottom + 5);
    ctx.stroke();
  }
}

function renderCheckpoints(): void {
  $('checkpoints').replaceChildren(...checkpoints.map((c) => {
    const b = document.createElement('button');
    b.textContent = `step ${c.step}${c.exact === null ? '' : ` · ${pct(c.exact)}`}`;
    b.title = `${c.file}\nclick: inspect a puzzle with this checkpoint`;
    b.addEventListener('click', () => vscode.postMessage({ kind: 'inspect-checkpoint', file: c.file }));
    return b;
  }));
}

/** Redraw what depends on the points, at most once per frame. */
function draw(): void {
  if (drawQueued) return;
  drawQueued = true;
  const go = () => {
    drawQueued = false;
    document.body.dataset.steps = String(points.length);
    renderHeader();
    renderStats();
    charts.update(points, checkpoints, smoothing());
    drawHeatmap();
  };
  if (document.visibilityState === 'hidden') go();
  else requestAnimationFrame(go);
}

function mergePoints(more: readonly TrainPoint[]): void {
  // Steps arrive in order; a resumed run may repeat steps after its checkpoint: the newer point replaces the older.
  for (const p of more) {
    while (points.length && points[points.length - 1].step >= p.step) points.pop();
    points.push(p);
  }
}

window.addEventListener('message', (e: MessageEvent<HostToDashboard>) => {
  const m = e.data;
  if (m?.kind === 'run') {
    const fresh = run?.dir !== m.run.dir;
    run = m.run;
    points = m.points;
    checkpoints = m.checkpoints;
    state = { ...state, run: m.run.dir };
    vscode.setState(state);
    $('empty').hidden = true;
    $('main').hidden = false;
    if (fresh) charts.build();
    renderCheckpoints();
    draw();
  } else if (m?.kind === 'points' && run) {
    mergePoints(m.points);
    if (m.backend) run.backend = m.backend;
    draw();
  } else if (m?.kind === 'checkpoint' && run) {
    checkpoints = [...checkpoints.filter((c) => c.step !== m.checkpoint.step), m.checkpoint].sort((a, b) => a.step - b.step);
    renderCheckpoints();
    draw();
  } else if (m?.kind === 'status' && run) {
    run.status = m.status;
    run.message = m.message;
    renderHeader();
  } else if (m?.kind === 'exported') {
    $('export-status').textContent = m.message;
  }
});

$('stop').addEventListener('click', () => vscode.postMessage({ kind: 'stop' }));
$('resume').addEventListener('click', () => vscode.postMessage({ kind: 'resume' }));
const select = $<HTMLSelectElement>('smoothing');
select.value = String(smoothing());
select.addEventListener('change', () => {
  state = { ...state, smoothing: Number(select.value) };
  vscode.setState(state);
  draw();
});
$('heatmap-png').replaceWith(Object.assign(pngButton('heatmap'), { id: 'heatmap-png' }));
document.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLElement>('[data-png]');
  if (!b) return;
  const name = b.dataset.png ?? '';
  const canvas = charts.canvases().find((c) => c.name === name)?.canvas ?? document.getElementById(name);
  if (canvas instanceof HTMLCanvasElement) vscode.postMessage({ kind: 'export-png', name, dataUrl: pngOf(canvas) });
});
window.addEventListener('resize', () => { if (run) drawHeatmap(); });
// A theme change switches the body's class: colours are read when drawn, so draw again.
new MutationObserver(() => {
  if (!run) return;
  charts.build();
  draw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

vscode.postMessage({ kind: 'ready' });
