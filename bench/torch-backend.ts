/**
 * `npm run bench -- torch-backend`: the PyTorch backend as a user runs it against plain PyTorch on the same model, in
 * the same process configuration (device, torch and BLAS threads, batch, segments).
 *
 *   torch backend   the worker through the engine: TorchWorker + TorchModel (engine/torch/), the traces inspect and
 *                   classify record (captureTracesTorch, latents on) and the ensemble's passes (buildPassMatrixTorch);
 *                   training as `hrm-lens train --backend torch` runs it (startTorchTraining: the engine's data feed,
 *                   torchrun, one process), its rate from the wall time between the trainer's step events
 *   plain PyTorch   reference/torch_backend_plain.py: the reference model (reference/hrm_reference.py) loaded from
 *                   the same checkpoint file, the same work in a plain loop, every segment's outputs copied to host
 *                   memory as the worker sends them; the reference training step (AdamATan2 + sign-SGD)
 *
 * CPU (default): inference puzzle-segments/s on hard-6x6 (the shipped model, 16 segments) and a 9×9 model (easy-9x9's
 * config, initial weights, 8 segments), batch 64; the 27M configuration's 16-segment capture of one puzzle (as inspect
 * records it); training steps/s on tiny-4x4 and hard-6x6 (the presets' batch 64). `--device cuda`
 * (bench/gpu-check.sh): the same 27M capture, and the ensemble of 1,000 puzzles × 9
 * relabelings × 10 checkpoints of the 27M configuration (copies of one checkpoint file, each read and loaded again),
 * 16 segments, when it fits `--budget` seconds; otherwise fewer puzzles and checkpoints, the full figure extrapolated
 * linearly and marked so.
 *
 * Flags: --runs R (3), --threads T (torch and BLAS threads, both sides; 1), --python P (default the interpreter the
 * backend finds), --device cpu|cuda, --rows a,b (infer-6x6, infer-9x9, capture-27m, train-tiny-4x4, train-hard-6x6;
 * on cuda: capture-27m, ensemble-27m), --budget S (cuda: seconds for the ensemble, 300), --big-config NAME (the model
 * of the 27M rows: default the 27M configuration; a preset's name for a quick run of those rows on a CPU), --quick (1
 * run, fewer steps), --allow-reference-blas, --results DIR (where torch-backend[-cuda].json and .md go; default
 * bench/results).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HRM_SUDOKU_27M, type HrmConfig } from '../engine/model/config';
import { getPreset } from '../engine/train/presets';
import { type GridSize, geometry } from '../engine/sudoku/geometry';
import type { Grid } from '../engine/sudoku/geometry';
import { Rng } from '../engine/util/rng';
import { findTorchPythonSync } from '../engine/torch/python-discovery';
import { TorchWorker } from '../engine/torch/worker-client';
import { TorchModel } from '../engine/torch/torch-model';
import { captureTracesTorch } from '../engine/torch/recorder';
import { buildPassMatrixTorch } from '../engine/torch/analyses-torch';
import { perturbationSet } from '../engine/ensemble/perturb';
import { startTorchTraining, writeInitialWeights } from '../engine/torch/torch-train';
import { ALLOW_REFERENCE_BLAS, checkTorchBlas, describeBlas } from './torch-anchor';

const here = path.dirname(fileURLToPath(import.meta.url));
const PLAIN = path.join(here, 'reference', 'torch_backend_plain.py');

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const RESULTS = path.resolve(flag('--results') ?? path.join(here, 'results'));
const quick = argv.includes('--quick');
const allowReference = argv.includes(ALLOW_REFERENCE_BLAS);
const runs = quick ? 1 : Number(flag('--runs') ?? 3);
const threads = Number(flag('--threads') ?? 1);
const device = (flag('--device') ?? 'cpu') as 'cpu' | 'cuda';
const budget = Number(flag('--budget') ?? 300);
const python = flag('--python') ?? findTorchPythonSync();
const bigName = flag('--big-config') ?? '27m';
const BIG: HrmConfig = bigName === '27m' ? HRM_SUDOKU_27M : getPreset(bigName).model;
const bigGrid = BIG.gridSize as GridSize;
const CPU_ROWS = ['infer-6x6', 'infer-9x9', 'capture-27m', 'train-tiny-4x4', 'train-hard-6x6'];
const GPU_ROWS = ['capture-27m', 'ensemble-27m'];
const rows = (flag('--rows') ?? (device === 'cuda' ? GPU_ROWS : CPU_ROWS).join(',')).split(',').filter(Boolean);
if (!['cpu', 'cuda'].includes(device)) throw new Error(`--device must be cpu or cuda, got ${device}`);
if (!(runs >= 1 && threads >= 1 && budget > 0)) throw new Error('--runs, --threads and --budget must be >= 1');

/** The thread variables both sides run with (the worker and torchrun inherit them; the plain script sets both pools again). */
const THREAD_ENV: Record<string, string> = Object.fromEntries(['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'GOTO_NUM_THREADS', 'MKL_NUM_THREADS', 'BLIS_NUM_THREADS'].map((k) => [k, String(threads)]));
Object.assign(process.env, THREAD_ENV);

const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-bench-torch-backend-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface Stat { median: number; min: number; max: number; perRun: number[] }
const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: m, min: s[0], max: s[s.length - 1], perRun: xs };
};

interface Row { row: string; what: string; unit: string; backend: Stat; plain: Stat; ratio: number; note?: string }
const results: Row[] = [];

/** An engine checkpoint of `config`'s initial weights for `seed` (what a new run starts from). */
const written = new Set<string>();
function checkpointOf(name: string, config: HrmConfig, seed = 0): string {
  const file = path.join(tmp, `${name}-s${seed}.safetensors`);
  if (!written.has(file)) writeInitialWeights(file, { model: config, seed });
  written.add(file);
  return file;
}

/** `count` valid n×n grids with 60 % of the cells blank (the pattern grid, digits relabelled): timing only. */
function puzzles(n: GridSize, count: number, seed: number): { puzzle: Grid; solution: Grid }[] {
  const g = geometry(n);
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const digits = Array.from(rng.permutation(n), (d) => d + 1);
    const solution = new Int8Array(n * n);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) solution[r * n + c] = digits[(g.boxCols * (r % g.boxRows) + Math.floor(r / g.boxRows) + c) % n];
    const puzzle = solution.map((d) => (rng.float() < 0.6 ? 0 : d));
    return { puzzle: puzzle as unknown as Grid, solution: solution as unknown as Grid };
  });
}

/** reference/torch_backend_plain.py with the thread variables set; its JSON. */
function plain(args: string[], timeoutS = 1800): Record<string, unknown> {
  const r = spawnSync(python, [PLAIN, ...args, '--device', device, '--threads', String(threads), ...(allowReference ? [ALLOW_REFERENCE_BLAS] : [])],
    { encoding: 'utf8', env: { ...process.env, ...THREAD_ENV }, timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`reference/torch_backend_plain.py ${args[0]} failed (status ${String(r.status)}${r.signal ? `, ${r.signal}` : ''}): ${(r.stderr ?? '').trim().slice(-1500)}`);
  }
}

const rateOf = (j: Record<string, unknown>, key: string): Stat => {
  const x = j[key] as { per_run: number[] };
  return stat(x.per_run);
};

let worker: TorchWorker | undefined;
async function theWorker(fresh = false): Promise<TorchWorker> {
  if (fresh && worker) {
    await worker.dispose();
    worker = undefined;
  }
  if (!worker) {
    worker = new TorchWorker({ python, device, threads, env: THREAD_ENV, log: () => {} });
    const info = await worker.start();
    console.log(`worker: torch ${info.torch} on ${info.device} (${info.dtype}), Python ${info.python}`);
  }
  return worker;
}

const now = (): number => performance.now() / 1000;

/**
 * Inference: `runs` timed runs of `segments` segments on `batch` puzzles, as inspect / classify record traces. The two
 * sides take turns, one run each, and each run is a new process on both sides (a new worker, the model loaded, one
 * warm-up; the plain script with its own warm-up): a load that comes and goes weighs on both sides alike, and so does
 * the speed a process happens to get for its life (on the 2-core bench machine the same script runs ~40 % slower in
 * about one process in five, on either core), which the median of the runs then leaves out.
 */
async function inferRow(row: string, what: string, file: string, n: GridSize, batch: number, segments: number, latents = true): Promise<void> {
  console.log(`\n${row}: ${what}`);
  const inputs = puzzles(n, batch, 1);
  const once = async (model: TorchModel): Promise<number> => {
    const t0 = now();
    await captureTracesTorch(model, inputs, { segments, latents });
    return now() - t0;
  };
  const times: number[] = [];
  const plainRates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const model = await TorchModel.fromCheckpoint(file, await theWorker(true));
    await once(model);
    times.push(await once(model));
    const p = plain(['infer', '--weights', file, '--batch', String(batch), '--segments', String(segments), '--runs', '1', ...(latents ? ['--latents'] : [])]);
    plainRates.push(...rateOf(p, 'puzzle_segments_per_s').perRun);
  }
  const backend = stat(times.map((t) => (batch * segments) / t));
  console.log(`  torch backend: ${fmt(backend)} puzzle-segments/s`);
  const plainRate = stat(plainRates);
  console.log(`  plain PyTorch: ${fmt(plainRate)} puzzle-segments/s`);
  results.push({ row, what, unit: 'puzzle-segments/s', backend, plain: plainRate, ratio: backend.median / plainRate.median });
}

/** Training: each run a new run folder, `warmup` untimed steps, then `steps` timed ones (wall time between step events). */
async function trainRow(row: string, preset: string, steps: number, warmup: number): Promise<void> {
  const { selectBackend } = await import('../engine/backend');
  await selectBackend({ backend: 'wasm' }); // the held-out evaluation of one puzzle at the end (not timed)
  const p = getPreset(preset);
  console.log(`\n${row}: ${preset}, batch ${p.train.batch}, ${steps} steps per run after ${warmup}`);
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const stamps: number[] = [];
    const training = await startTorchTraining({
      preset, out: path.join(tmp, `${row}-${i}`), steps: warmup + steps, seed: 0, overrides: { evalPuzzles: 1, checkpointEvery: warmup + steps },
      tensorboard: false, python, device, threads, nprocPerNode: 1, onStep: () => stamps.push(now()),
    });
    await training.done;
    rates.push(steps / (stamps[warmup + steps - 1] - stamps[warmup - 1]));
  }
  const backend = stat(rates);
  console.log(`  torch backend: ${fmt(backend)} steps/s`);
  const init = checkpointOf(`${preset}-init`, p.model, 0);
  const pl = plain(['train', '--weights', init, '--batch', String(p.train.batch), '--steps', String(steps), '--warmup', String(warmup), '--runs', String(runs),
    '--loss', p.train.lossType, '--lr', String(p.train.lr), '--wd', String(p.train.weightDecay), ...(p.train.actContinue === false ? ['--no-act-continue'] : [])]);
  const plainRate = rateOf(pl, 'steps_per_s');
  console.log(`  plain PyTorch: ${fmt(plainRate)} steps/s`);
  results.push({ row, what: `${preset} training, batch ${p.train.batch}, 1 process`, unit: 'steps/s', backend, plain: plainRate, ratio: backend.median / plainRate.median,
    note: 'torch backend: torchrun + DistributedDataParallel (gloo) with one process, the engine\'s data feed' });
}

/** The ensemble of the 27M configuration: P puzzles × 9 relabelings × C checkpoints, 16 segments; scaled to fit the budget. */
async function ensembleRow(): Promise<void> {
  const FULL = { puzzles: 1000, checkpoints: 10 };
  const K = 9;
  const S = 16;
  const rowsPerBatch = 256;
  const per = Math.floor(rowsPerBatch / K);
  const files = [checkpointOf(bigName, BIG)];
  const perturbations = perturbationSet('relabel', bigGrid, K, 1);
  const w = await theWorker();
  const pass = async (fs: string[], count: number): Promise<number> => {
    const t0 = now();
    await buildPassMatrixTorch(fs, puzzles(bigGrid, count, 2), perturbations, { segments: S, maxRows: rowsPerBatch }, w);
    return now() - t0;
  };
  // Calibration (also the warm-up): one checkpoint, one batch.
  const one = await pass(files, per);
  const fullEstimate = one * (FULL.puzzles / per) * FULL.checkpoints;
  // Each side gets at most a third of the budget (the plain side is about as fast).
  const side = budget / 3;
  let { puzzles: P, checkpoints: C } = FULL;
  if (fullEstimate > side) {
    C = 2;
    P = Math.max(per, Math.min(FULL.puzzles, Math.floor(side / (one * C)) * per));
  }
  // Copies of one checkpoint under their own names (each is read and loaded again; the speed does not depend on the weights).
  for (let c = files.length; c < C; c++) {
    const copy = path.join(tmp, `ens-${c + 1}.safetensors`);
    copyFileSync(files[0], copy);
    files.push(copy);
  }
  const scaled = P !== FULL.puzzles || C !== FULL.checkpoints;
  console.log(`\nensemble-27m (${bigName}): ${P} puzzles × ${K} relabelings × ${C} checkpoints, ${S} segments${scaled ? ` (scaled down: the full ${FULL.puzzles} × ${K} × ${FULL.checkpoints} would take ~${fullEstimate.toFixed(0)} s per side)` : ''}`);
  const t = await pass(files.slice(0, C), P);
  const work = P * K * C * S;
  const backend = stat([work / t]);
  const pl = plain(['ensemble', '--weights', files.slice(0, C).join(','), '--puzzles', String(P), '--relabelings', String(K), '--segments', String(S), '--rows', String(rowsPerBatch), '--runs', '1', '--warmup', '0'], Math.ceil(budget * 2));
  const plainRate = rateOf(pl, 'puzzle_segments_per_s');
  const extrapolate = (r: number) => (FULL.puzzles * K * FULL.checkpoints * S) / r;
  const note = `${P} × ${K} × ${C} measured (${t.toFixed(1)} s through the backend)`
    + `${scaled ? `; 1,000 × 9 × 10 extrapolated: torch backend ~${extrapolate(backend.median).toFixed(0)} s, plain ~${extrapolate(plainRate.median).toFixed(0)} s` : ''}`;
  console.log(`  torch backend: ${fmt(backend)} puzzle-segments/s; plain PyTorch: ${fmt(plainRate)}; ${note}`);
  results.push({ row: 'ensemble-27m', what: `${bigName} ensemble, ${K} relabelings, ${S} segments, ${per * K} rows per batch`, unit: 'puzzle-segments/s', backend, plain: plainRate,
    ratio: backend.median / plainRate.median, note });
}

function fmt(s: Stat): string {
  const d = s.median >= 100 ? 0 : s.median >= 10 ? 1 : 2;
  return s.perRun.length > 1 ? `${s.median.toFixed(d)} [${s.min.toFixed(d)}–${s.max.toFixed(d)}]` : s.median.toFixed(d);
}

async function main(): Promise<void> {
  const load0 = loadavg();
  console.log(`torch-backend bench: device ${device}, ${threads} thread${threads === 1 ? '' : 's'} (torch and BLAS, both sides), ${runs} run${runs === 1 ? '' : 's'}, Python ${python}`);
  let blas = 'not checked (GPU)';
  if (device === 'cpu') {
    const check = checkTorchBlas({ python, allowReference, probeSize: 256 });
    if (check.status === 'unavailable') throw new Error(check.message);
    if (check.status === 'refused') { console.error(check.message); process.exit(3); }
    blas = describeBlas(check.info);
    console.log(`BLAS: ${blas}`);
  }
  try {
    for (const row of rows) {
      if (row === 'infer-6x6') await inferRow(row, 'hard-6x6 (shipped), batch 64, 16 segments, latents (classify)', path.resolve(here, '..', 'models', 'hard-6x6.safetensors'), 6, 64, 16);
      else if (row === 'infer-9x9') await inferRow(row, 'easy-9x9 config (initial weights), batch 64, 8 segments, latents', checkpointOf('easy-9x9', getPreset('easy-9x9').model), 9, 64, 8);
      else if (row === 'capture-27m') await inferRow(row, `${bigName} config (initial weights), one puzzle, 16 segments, latents (inspect's capture)`, checkpointOf(bigName, BIG), bigGrid, 1, 16);
      else if (row === 'train-tiny-4x4') await trainRow(row, 'tiny-4x4', quick ? 4 : 40, 2);
      else if (row === 'train-hard-6x6') await trainRow(row, 'hard-6x6', quick ? 3 : 30, 2);
      else if (row === 'ensemble-27m') await ensembleRow();
      else throw new Error(`unknown row ${row} (${[...CPU_ROWS, ...GPU_ROWS].join(', ')})`);
    }
  } finally {
    await worker?.dispose();
  }
  const table = ['| row | torch backend | plain PyTorch | backend / plain |', '|---|---|---|---|',
    ...results.map((r) => `| ${r.what} | ${fmt(r.backend)} ${r.unit} | ${fmt(r.plain)} | ${r.ratio.toFixed(2)} |`)];
  const notes = results.filter((r) => r.note).map((r) => `- ${r.row}: ${r.note}`);
  const header = `torch backend vs plain PyTorch, ${device}, ${threads} thread(s), ${runs} run(s) (median [min–max]); load average ${load0.map((x) => x.toFixed(2)).join(' ')} at the start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`;
  console.log(`\n${header}\n${table.join('\n')}\n${notes.join('\n')}`);
  mkdirSync(RESULTS, { recursive: true });
  const stem = device === 'cuda' ? 'torch-backend-cuda' : 'torch-backend';
  writeFileSync(path.join(RESULTS, `${stem}.json`), `${JSON.stringify({ device, threads, runs, python, blas, loadavg: { start: load0, end: loadavg() }, date: new Date().toISOString(), results }, null, 2)}\n`);
  writeFileSync(path.join(RESULTS, `${stem}.md`), `${header}\n\n${table.join('\n')}\n\n${notes.join('\n')}\n`);
  // One JSON line last, for bench/gpu-check.sh.
  console.log(JSON.stringify({ device, results: results.map((r) => ({ row: r.row, unit: r.unit, backend: r.backend.median, plain: r.plain.median, ratio: r.ratio, note: r.note })) }));
}

main().catch((e: unknown) => {
  // The stack, then the message alone on the last line (bench/gpu-check.sh reports that line).
  if (e instanceof Error && e.stack) console.error(e.stack);
  console.error(`torch-backend bench failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  process.exit(1);
});
