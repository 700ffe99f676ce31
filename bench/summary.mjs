#!/usr/bin/env node
// `npm run bench`: one table, every headline figure side by side in one run. For each TS backend configuration
// (bench/summary-ts.ts, one process each) and for the PyTorch reference at 1 and 2 threads (bench/reference/
// torch_bench.py, Debian python3-torch 1.13 + OpenBLAS): training steps/s, inference puzzle-segments/s, inspect
// latency, the 16-segment capture of a 9×9 puzzle at the 27M configuration, ensemble puzzles/s, the 41×41 landscape,
// peak RSS, and (wasm as installed) the training steps/s of each preset (bench/preset-steps.ts). Median (min–max)
// over the runs; ratio = TS median ÷ PyTorch 1-thread median (higher is better for TS).
// Writes bench/results/summary.json and bench/results/summary.md.
//   node bench/summary.mjs [--runs 3] [--rounds 1] [--quick] [--preset-steps 10]   (--quick: 1 run, still every row)
// TS configurations: wasm as installed (own GEMM kernel on the machine's cores), the same on 1 thread (equal-thread
// comparison), wasm's threaded build (train, infer, inspect), wasm with the fused element-wise kernels off, wasm with tfjs's stock XNNPACK matMul and element-wise kernels on 1 thread (the baseline before this project's kernels), cpu
// (inspect latency only: 17× slower than wasm).
// tensorflow (tfjs-node) and webgpu are listed when installed; bench/gpu-check.sh measures them on a GPU machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const quick = process.argv.includes('--quick');
const runsArg = process.argv.indexOf('--runs');
/** Training steps run before the timed ones, on both sides: the engine's JIT and its helper thread warm up over the
 * first steps (a step of a long run is what a user waits for), PyTorch's first step allocates. */
const TRAIN_WARMUP = 3;
const runs = quick ? 1 : runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 3;
const presetStepsArg = process.argv.indexOf('--preset-steps');
/** Timed steps per run of each preset's row (after TRAIN_WARMUP steps). */
const presetSteps = presetStepsArg >= 0 ? Number(process.argv[presetStepsArg + 1]) : 10;
/** The presets of the `presets` rows (bench/preset-steps.ts BENCH_PRESETS). */
const PRESETS = ['tiny-4x4', 'small-6x6', 'hard-6x6', 'easy-9x9'];
/** Grid, width and batch of each timed preset, from the column that timed it (the rows' labels). */
const presetInfo = {};
// --rounds R repeats the whole sequence of columns R times. This VM's speed drifts by up to 1.5× over minutes, and the
// columns run one after the other, so a ratio between two columns of one sequence mixes in the drift; with rounds,
// each ratio is taken within a round (TS and PyTorch minutes apart, not ten) and reported as median (min–max).
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Math.max(1, Number(process.argv[roundsArg + 1])) : 1;
const load0 = loadavg()[0];
const t0 = Date.now();

const stat = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1], n: s.length } : null;
};

function tsColumn(name, env, rows) {
  const t = Date.now();
  const l0 = loadavg()[0];
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'summary-ts.ts'), '--backend', env.HRM_LENS_BACKEND ?? 'wasm', '--runs', String(runs), '--rows', rows, '--preset-steps', String(presetSteps)],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  console.error(`bench: ${name}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  if (r.status !== 0) return { name, error: (r.stderr || 'failed').trim().split('\n').slice(-2).join(' ') };
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  const presets = {};
  for (const [preset, t] of Object.entries(j.presets ?? {})) {
    if (t.error) { presets[`preset:${preset}`] = null; continue; }
    presetInfo[preset] ??= `${t.gridSize}×${t.gridSize}, h${t.hidden}, batch ${t.batch}`;
    presets[`preset:${preset}`] = stat(t.stepsPerSecond);
  }
  return {
    ...presets,
    name, detail: j.detail, gemm: j.gemm, load: [l0, loadavg()[0]],
    train: j.train && stat(j.train.stepsPerSecond), infer: j.infer && stat(j.infer.segmentsPerSecond),
    inspect: j.inspect && stat(j.inspect.warmSeconds.map((s) => s * 1000)), inspectCold: j.inspect && j.inspect.coldSeconds * 1000,
    capture27m: j.capture27m && stat(j.capture27m.seconds), ensemble: j.ensemble && stat(j.ensemble.puzzlesPerSecond),
    landscape: j.landscape && stat(j.landscape.seconds), peakRssMiB: j.peakRssMiB,
  };
}

function torch(args, threads) {
  const r = spawnSync('/usr/bin/python3', ['bench/reference/torch_bench.py', 'bench', ...args, '--threads', String(threads), '--blas-threads', String(threads)],
    { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'torch bench failed').trim().split('\n').slice(-1)[0] };
  return JSON.parse(r.stdout);
}

function torchColumn(threads) {
  const t = Date.now();
  const l0 = loadavg()[0];
  if (!existsSync('/usr/bin/python3')) return { name: `PyTorch, ${threads} thread(s)`, error: 'no /usr/bin/python3' };
  const main = torch(['--hidden', '128', '--batch', '32', '--heads', '4', '--runs', String(runs), '--warmup', String(TRAIN_WARMUP), '--infer-batch', '256', '--infer-runs', String(runs)], threads);
  const big = torch(['--hidden', '512', '--heads', '8', '--h-layers', '4', '--l-layers', '4', '--runs', '0', '--infer-batch', '1', '--infer-runs', String(Math.max(3, runs)), '--infer-warmup', '1'], threads);
  console.error(`bench: PyTorch ${threads} thread(s): ${((Date.now() - t) / 1000).toFixed(0)} s`);
  if (main.error) return { name: `PyTorch 1.13, ${threads} thread(s)`, error: main.error };
  const seg = big.error ? null : big.infer.puzzle_segments_per_s;
  return {
    name: `PyTorch 1.13 + OpenBLAS, ${threads} thread${threads > 1 ? 's' : ''}`,
    train: main.train.steps_per_s, infer: main.infer.puzzle_segments_per_s,
    // 16 segments of one puzzle at batch 1, from the per-segment rate (no state capture on this side).
    capture27m: seg ? { median: 16 / seg.median, min: 16 / seg.max, max: 16 / seg.min, n: seg.n } : null,
    peakRssMiB: Math.max(main.peak_rss_mib ?? 0, big.peak_rss_mib ?? 0), load: [l0, loadavg()[0]],
  };
}

function round() {
  const columns = [
    tsColumn('HRM Lens, wasm as installed', {}, 'train,infer,inspect,capture27m,ensemble,landscape,presets'),
    tsColumn('HRM Lens, wasm, own GEMM on 1 thread', { HRM_LENS_GEMM_THREADS: '1' }, 'train,infer,capture27m'),
    // The fused element-wise kernels (engine/kernels/wasm-ops.ts) off: what they gain, in the same run.
    tsColumn('HRM Lens, wasm as installed, fused kernels off', { HRM_LENS_FUSED: '0' }, 'train,infer'),
    tsColumn('HRM Lens, wasm as installed, data-parallel helper off (products split over both cores)', { HRM_LENS_DATA_PARALLEL: '0' }, 'train,infer'),
    // tfjs-backend-wasm's threaded-SIMD build (docs/architecture.md §The threaded wasm build) on the machine's cores,
    // own GEMM on as many: not the default (~1 s more start-up, ~130 MiB more RSS, a slower cold inspect, and one of
    // two `bench/agreement.ts --threads 2` runs went wrong from free-running segment 3), shown so that the choice is
    // visible.
    tsColumn(`HRM Lens, wasm threaded build, ${Math.min(4, availableParallelism())} threads`, { HRM_LENS_THREADS: String(Math.min(4, availableParallelism())) }, 'train,infer,inspect'),
    tsColumn('HRM Lens, wasm with tfjs kernels only (XNNPACK matMul), 1 thread', { HRM_LENS_GEMM: 'xnnpack', HRM_LENS_FUSED: '0', HRM_LENS_THREADS: '1', HRM_LENS_GEMM_THREADS: '1' }, 'train,infer,inspect,capture27m,ensemble,landscape'),
    tsColumn('HRM Lens, cpu backend', { HRM_LENS_BACKEND: 'cpu' }, 'inspect'),
  ];
  for (const [pkg, backend] of [['@tensorflow/tfjs-node-gpu', 'tensorflow'], ['@tensorflow/tfjs-node', 'tensorflow'], ['webgpu', 'webgpu']]) {
    if (existsSync(path.join(root, 'node_modules', pkg))) columns.push(tsColumn(`HRM Lens, ${backend} (${pkg})`, { HRM_LENS_BACKEND: backend }, 'train,infer,inspect,capture27m'));
  }
  const t1 = torchColumn(1);
  const t2 = torchColumn(2);
  return { columns, t1, t2 };
}


const byRound = Array.from({ length: rounds }, (_, r) => {
  if (rounds > 1) console.error(`bench: round ${r + 1} of ${rounds}`);
  return round();
});
/** Stats of several rounds as one: median of the medians, min of the mins, max of the maxes. */
const mergeStat = (list) => {
  const ok = list.filter(Boolean);
  if (!ok.length) return null;
  const meds = ok.map((x) => x.median).sort((a, b) => a - b);
  return { median: meds[Math.floor((meds.length - 1) / 2)], min: Math.min(...ok.map((x) => x.min)), max: Math.max(...ok.map((x) => x.max)), n: ok.reduce((n, x) => n + x.n, 0) };
};
const KEYS = ['train', 'infer', 'inspect', 'capture27m', 'ensemble', 'landscape', ...PRESETS.map((p) => `preset:${p}`)];
const mergeColumn = (list) => {
  const first = list.find((c) => !c.error) ?? list[0];
  if (first.error) return first;
  const out = { ...first, rounds: list };
  for (const k of KEYS) out[k] = mergeStat(list.map((c) => c[k]));
  out.peakRssMiB = Math.max(...list.map((c) => c.peakRssMiB ?? 0));
  out.load = [list[0].load?.[0] ?? 0, list[list.length - 1].load?.[1] ?? 0];
  return out;
};
const columns = byRound[0].columns.map((_, i) => mergeColumn(byRound.map((r) => r.columns[i])));
const t1 = mergeColumn(byRound.map((r) => r.t1));
const t2 = mergeColumn(byRound.map((r) => r.t2));
/** The ratio TS ÷ reference taken within each round: median (min–max) over the rounds. */
const roundRatio = (i, key, ref, higherBetter = true) => {
  const xs = byRound.map((r) => {
    const ts = r.columns[i][key];
    const rf = r[ref]?.[key];
    return ts && rf && !r[ref].error ? (higherBetter ? ts.median / rf.median : rf.median / ts.median) : NaN;
  }).filter(Number.isFinite).sort((a, b) => a - b);
  if (!xs.length) return '–';
  const med = xs[Math.floor((xs.length - 1) / 2)];
  return xs.length > 1 ? `${med.toFixed(2)}× (${xs[0].toFixed(2)}–${xs[xs.length - 1].toFixed(2)})` : `${med.toFixed(2)}×`;
};
const fmt = (s, d = 2) => (s ? `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})` : '–');
const all = [...columns, t1, t2];
const head = `| | ${all.map((c) => c.name).join(' | ')} |`;
const sep = `|---|${all.map(() => '---').join('|')}|`;
const row = (label, f) => `| ${label} | ${all.map((c) => (c.error ? (label.startsWith('training') ? `not run: ${c.error}` : '') : f(c))).join(' | ')} |`;
const lines = [head, sep,
  row('training steps/s (9×9, h128, batch 32)', (c) => fmt(c.train, 3)),
  row('inference puzzle-segments/s (batch 256)', (c) => fmt(c.infer, 1)),
  row('inspect latency, ms (4×4, shipped model; warm / cold)', (c) => (c.inspect ? `${fmt(c.inspect, 0)} / ${c.inspectCold.toFixed(0)}` : '–')),
  row('27M model: 16-segment capture of one 9×9 puzzle, s', (c) => fmt(c.capture27m, 2)),
  row('ensemble puzzles/s (9 relabelings × 5 checkpoints, 4 segments, 9×9 h128)', (c) => fmt(c.ensemble, 3)),
  row('41×41 landscape, s (4×4, shipped model)', (c) => fmt(c.landscape, 2)),
  ...PRESETS.map((p) => row(`training steps/s, preset ${p} (${presetInfo[p] ?? 'not timed'}; generated puzzles, ${presetSteps} steps a run)`, (c) => fmt(c[`preset:${p}`], 2))),
  row('peak RSS, MiB', (c) => (c.peakRssMiB ? c.peakRssMiB.toFixed(0) : '–')),
];
const ratios = columns.map((c, i) => [c, i]).filter(([c]) => !c.error && c.train).map(([c, i]) => `| ${c.name} | training ${roundRatio(i, 'train', 't1')} · inference ${roundRatio(i, 'infer', 't1')} · 27M capture ${roundRatio(i, 'capture27m', 't1', false)} |`
  + ` training ${roundRatio(i, 'train', 't2')} · inference ${roundRatio(i, 'infer', 't2')} |`);
const header = `\`npm run bench\` (bench/summary.mjs${quick ? ' --quick' : ` --runs ${runs}`}${rounds > 1 ? ` --rounds ${rounds}` : ''}), ${new Date().toISOString().slice(0, 16)}Z; `
  + `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}; load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}; ${((Date.now() - t0) / 60000).toFixed(1)} min. `
  + (rounds > 1 ? `Median (min–max) over ${rounds} rounds of every column (each a median of ${runs} run${runs > 1 ? 's' : ''}); ratios taken within each round.` : 'Median (min–max) over the runs.');
const md = `${header}\n\n${lines.join('\n')}\n\n| ratio | ÷ PyTorch 1 thread | ÷ PyTorch 2 threads |\n|---|---|---|\n${ratios.join('\n')}\n\n`
  + columns.filter((c) => c.detail).map((c) => `- ${c.name}: ${c.detail}${c.gemm ? `; matMul: ${c.gemm}` : ''}`).join('\n') + '\n'
  + `\nLoad average (1 min) at the start → end of each column: ${[...columns, t1, t2].filter((c) => c.load).map((c) => `${c.name} ${c.load[0].toFixed(1)} → ${c.load[1].toFixed(1)}`).join('; ')}.\n`;
console.log(`\n${md}`);
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'summary.json'), `${JSON.stringify({ date: new Date().toISOString(), runs, rounds, loadavg: [load0, loadavg()[0]], columns, torch1: t1, torch2: t2 }, null, 2)}\n`);
writeFileSync(path.join(here, 'results', 'summary.md'), md);
