#!/usr/bin/env node
// `npm run bench`: one table, every headline figure side by side in one run. For each TS backend configuration
// (bench/summary-ts.ts, one process each) and for the PyTorch reference at each of its thread configurations
// (bench/reference/torch_bench.py, Debian python3-torch 1.13 + OpenBLAS; bench/torch-anchor.ts threadConfigs):
// training steps/s, inference puzzle-segments/s, inspect latency, the 16-segment capture of a 9×9 puzzle at the 27M
// configuration, ensemble puzzles/s, the 41×41 landscape, peak RSS, and (wasm as installed) the training steps/s of
// each preset (bench/preset-steps.ts). Median (min–max) over the runs; ratio = TS median ÷ PyTorch at its best (per
// row, the fastest thread configuration) and ÷ PyTorch on one thread (higher is better for TS).
// First of all it checks the BLAS PyTorch runs on (bench/reference/blas_check.py) and refuses the reference BLAS
// (exit status 3, the message names the Debian package to install) unless --allow-reference-blas, which labels every
// PyTorch figure; without python3-torch the engine's figures are still measured.
// Writes bench/results/summary.json and bench/results/summary.md.
//   npm run bench -- [--runs 3] [--rounds 1] [--quick] [--preset-steps 10] [--allow-reference-blas]
//   (--quick: 1 run, still every row; run through bench/run.mjs, which loads tsx for bench/torch-anchor.ts)
// TS configurations: wasm as installed (own GEMM kernel on the machine's cores), the same on 1 thread (equal-thread
// comparison), wasm's threaded build (train, infer, inspect), wasm with the fused element-wise kernels off, wasm with tfjs's stock XNNPACK matMul and element-wise kernels on 1 thread (the baseline before this project's kernels), cpu
// (inspect latency only: 17× slower than wasm).
// tensorflow (tfjs-node) and webgpu are listed when installed; bench/gpu-check.sh measures them on a GPU machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOW_REFERENCE_BLAS, EXIT_REFERENCE_BLAS, checkTorchBlas, chooseAnchor, configLabel, describeBlas, threadArgs, threadConfigs, threadEnv } from './torch-anchor.ts';

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

// Which BLAS PyTorch runs on, before anything is measured: on the reference (netlib) BLAS, PyTorch is ~20× slower
// and every ratio against it would be as wrong; the bench refuses such a comparison (unless told to measure anyway,
// then every PyTorch figure says so) rather than spend half an hour on the engine's columns first.
const allowReferenceBlas = process.argv.includes(ALLOW_REFERENCE_BLAS);
const blas = checkTorchBlas({ allowReference: allowReferenceBlas });
if (blas.status === 'refused') {
  console.error(`bench: ${blas.message}`);
  process.exit(EXIT_REFERENCE_BLAS);
}
if (blas.status === 'unavailable') console.error(`bench: the PyTorch columns are not run: ${blas.message}`);
else console.error(`bench: PyTorch runs on ${describeBlas(blas.info)}`);
/** PyTorch's thread configurations (torch / BLAS threads), each measured in a fresh process; the anchor is the
 * fastest per row (bench/torch-anchor.ts threadConfigs: two pools that oversubscribe the cores when both are full). */
const TORCH_CONFIGS = blas.status === 'ok' ? threadConfigs(availableParallelism()) : [];
const torchName = blas.status === 'ok' ? `PyTorch ${blas.info.torch?.replace(/a0$/, '') ?? ''}`.trim() : 'PyTorch';

function torch(args, config) {
  const r = spawnSync('/usr/bin/python3', ['bench/reference/torch_bench.py', 'bench', ...args, ...threadArgs(config, allowReferenceBlas)],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ...threadEnv(config) }, maxBuffer: 1 << 24 });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'torch bench failed').trim().split('\n').slice(-1)[0] };
  return JSON.parse(r.stdout);
}

function torchColumn(config) {
  const t = Date.now();
  const l0 = loadavg()[0];
  const main = torch(['--hidden', '128', '--batch', '32', '--heads', '4', '--runs', String(runs), '--warmup', String(TRAIN_WARMUP), '--infer-batch', '256', '--infer-runs', String(runs)], config);
  const big = torch(['--hidden', '512', '--heads', '8', '--h-layers', '4', '--l-layers', '4', '--runs', '0', '--infer-batch', '1', '--infer-runs', String(Math.max(3, runs)), '--infer-warmup', '1', '--gemm-probe', '0'], config);
  console.error(`bench: PyTorch ${configLabel(config)}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  if (main.error) return { name: `${torchName}, ${configLabel(config)}`, config, error: main.error };
  const seg = big.error ? null : big.infer.puzzle_segments_per_s;
  return {
    name: `${torchName} + ${main.blas.label}, ${configLabel(config)}`,
    // Beside every figure: the BLAS this process ran on (with its GEMM probe at these threads) and the threads.
    config, blas: main.blas, threads: { ...main.threads, env: threadEnv(config) },
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
  const torchCols = blas.status === 'ok' ? TORCH_CONFIGS.map(torchColumn) : [{ name: 'PyTorch', error: blas.message }];
  return { columns, torch: torchCols };
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
const torchCols = byRound[0].torch.map((_, i) => mergeColumn(byRound.map((r) => r.torch[i])));
// The anchor: per row, the thread configuration whose figure (median over the rounds) is best. Not "N threads":
// torch's pool and OpenBLAS's oversubscribe the cores when both are full (bench/torch-anchor.ts threadConfigs), so the
// fastest mix is measured, and every configuration stays in the table and the JSON beside the one that won.
const anchor = chooseAnchor(torchCols.filter((c) => c.config));
const ANCHOR_KEYS = Object.keys(anchor);
const anchorIndex = (key) => torchCols.findIndex((c) => c.config?.id === anchor[key]?.config);
const referenceBlas = torchCols.some((c) => c.blas?.kind === 'reference');
const anchorCol = ANCHOR_KEYS.some((k) => anchor[k])
  ? { name: `${torchName} at its best${referenceBlas ? ' (reference BLAS: not an anchor)' : ''}: per row the fastest of ${torchCols.length} thread configurations`, isAnchor: true, ...Object.fromEntries(ANCHOR_KEYS.map((k) => [k, anchor[k]?.stat ?? null])) }
  : null;
const oneThread = torchCols.findIndex((c) => c.config?.torch === 1 && c.config?.blas === 1);
/** The ratio TS ÷ reference taken within each round: median (min–max) over the rounds; `ti` picks the reference
 * column (the index into each round's PyTorch configurations). */
const roundRatio = (i, key, ti, higherBetter = true) => {
  const xs = ti < 0 ? [] : byRound.map((r) => {
    const ts = r.columns[i][key];
    const rf = r.torch[ti]?.[key];
    return ts && rf && !r.torch[ti].error ? (higherBetter ? ts.median / rf.median : rf.median / ts.median) : NaN;
  }).filter(Number.isFinite).sort((a, b) => a - b);
  if (!xs.length) return '–';
  const med = xs[Math.floor((xs.length - 1) / 2)];
  return xs.length > 1 ? `${med.toFixed(2)}× (${xs[0].toFixed(2)}–${xs[xs.length - 1].toFixed(2)})` : `${med.toFixed(2)}×`;
};
const fmt = (s, d = 2) => (s ? `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})` : '–');
const all = [...columns, ...torchCols, ...(anchorCol ? [anchorCol] : [])];
const head = `| | ${all.map((c) => c.name).join(' | ')} |`;
const sep = `|---|${all.map(() => '---').join('|')}|`;
/** A row; in the anchor column each figure names the configuration it comes from. */
const row = (label, f, key) => `| ${label} | ${all.map((c) => (c.error ? (label.startsWith('training') ? `not run: ${c.error}` : '')
  : c.isAnchor ? (key && anchor[key] ? `${f(c)}, ${anchor[key].label}` : '') : f(c))).join(' | ')} |`;
const lines = [head, sep,
  row('training steps/s (9×9, h128, batch 32)', (c) => fmt(c.train, 3), 'train'),
  row('inference puzzle-segments/s (batch 256)', (c) => fmt(c.infer, 1), 'infer'),
  row('inspect latency, ms (4×4, shipped model; warm / cold)', (c) => (c.inspect ? `${fmt(c.inspect, 0)} / ${c.inspectCold.toFixed(0)}` : '–')),
  row('27M model: 16-segment capture of one 9×9 puzzle, s', (c) => fmt(c.capture27m, 2), 'capture27m'),
  row('ensemble puzzles/s (9 relabelings × 5 checkpoints, 4 segments, 9×9 h128)', (c) => fmt(c.ensemble, 3)),
  row('41×41 landscape, s (4×4, shipped model)', (c) => fmt(c.landscape, 2)),
  ...PRESETS.map((p) => row(`training steps/s, preset ${p} (${presetInfo[p] ?? 'not timed'}; generated puzzles, ${presetSteps} steps a run)`, (c) => fmt(c[`preset:${p}`], 2))),
  row('peak RSS, MiB', (c) => (c.peakRssMiB ? c.peakRssMiB.toFixed(0) : '–')),
];
const ratios = columns.map((c, i) => [c, i]).filter(([c]) => !c.error && c.train).map(([c, i]) => `| ${c.name} | training ${roundRatio(i, 'train', anchorIndex('train'))} · inference ${roundRatio(i, 'infer', anchorIndex('infer'))} · 27M capture ${roundRatio(i, 'capture27m', anchorIndex('capture27m'), false)} |`
  + ` training ${roundRatio(i, 'train', oneThread)} · inference ${roundRatio(i, 'infer', oneThread)} · 27M capture ${roundRatio(i, 'capture27m', oneThread, false)} |`);
const header = `\`npm run bench\` (bench/summary.mjs${quick ? ' --quick' : ` --runs ${runs}`}${rounds > 1 ? ` --rounds ${rounds}` : ''}${allowReferenceBlas ? ` ${ALLOW_REFERENCE_BLAS}` : ''}), ${new Date().toISOString().slice(0, 16)}Z; `
  + `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}; load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}; ${((Date.now() - t0) / 60000).toFixed(1)} min. `
  + (rounds > 1 ? `Median (min–max) over ${rounds} rounds of every column (each a median of ${runs} run${runs > 1 ? 's' : ''}); ratios taken within each round.` : 'Median (min–max) over the runs.');
const anchorLine = anchorCol
  ? `PyTorch's anchor, per row the fastest thread configuration: ${ANCHOR_KEYS.map((k) => `${k} ${anchor[k]?.label ?? '–'}`).join(', ')}.${referenceBlas ? ` PyTorch ran on the reference BLAS (${ALLOW_REFERENCE_BLAS}): its figures are no anchor.` : ''}\n`
  : `PyTorch: not measured (${blas.status === 'ok' ? 'every configuration failed' : blas.message}).\n`;
const md = `${header}\n\n${lines.join('\n')}\n\n| ratio | ÷ PyTorch at its best (per row) | ÷ PyTorch, torch 1 / BLAS 1 thread |\n|---|---|---|\n${ratios.join('\n')}\n\n${anchorLine}\n`
  + columns.filter((c) => c.detail).map((c) => `- ${c.name}: ${c.detail}${c.gemm ? `; matMul: ${c.gemm}` : ''}`).join('\n') + '\n'
  + torchCols.filter((c) => c.blas).map((c) => `- ${c.name}: ${describeBlas(c.blas)}; environment ${Object.entries(c.threads?.env ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`).join('\n') + '\n'
  + `\nLoad average (1 min) at the start → end of each column: ${[...columns, ...torchCols].filter((c) => c.load).map((c) => `${c.name} ${c.load[0].toFixed(1)} → ${c.load[1].toFixed(1)}`).join('; ')}.\n`;
console.log(`\n${md}`);
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'summary.json'), `${JSON.stringify({
  date: new Date().toISOString(), runs, rounds, loadavg: [load0, loadavg()[0]], columns,
  // Every PyTorch configuration with its BLAS and threads beside its figures, and which one won each row.
  torch: { blas: blas.status === 'unavailable' ? { unavailable: blas.message } : blas.info, allowReferenceBlas, configs: torchCols, anchor },
}, null, 2)}\n`);
writeFileSync(path.join(here, 'results', 'summary.md'), md);
