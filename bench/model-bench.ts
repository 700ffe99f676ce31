/**
 * Side-by-side speed of the engine's HRM against the PyTorch reference (bench/reference/torch_bench.py) in one run:
 * training steps/s (the full reference step: one segment, one-step gradient, loss with the continue-target forward,
 * AdamATan2 + sign-SGD; the TS side runs Trainer.trainStep on a fixed pool, so no puzzle generation is timed) and
 * inference puzzle-segments/s (one no-grad segment on a batch of 256), 9×9, hidden H, 4 heads, 2+2 layers, 2×2 cycles,
 * RoPE. PyTorch runs at 1 and 2 threads (torch and OpenBLAS threads set together). Several timed steps per config;
 * median, min, max; ratio = TS speed ÷ PyTorch 1-thread speed.
 *   npx tsx bench/model-bench.ts [--hidden 128] [--batch 32] [--runs 3] [--threads 1] [--micro-batch 64]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../engine/tf';
import { selectBackend } from '../engine/backend';
import { createModel, disposeCarry, initialCarry, makeConfig } from '../engine/model';
import { runSegmentParallel } from '../engine/train/data-parallel-segment';
import { Trainer } from '../engine/train/trainer';
import { getPreset } from '../engine/train/presets';
import { generatePuzzles } from '../engine/sudoku/generator';
import { gridToTokens } from '../engine/sudoku/geometry';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const hidden = arg('hidden', 128);
const batch = arg('batch', 32);
const runs = arg('runs', 3);
const threads = arg('threads', 1);
/** Gradient-accumulation micro-batch of the TS side (0 = the whole batch); the wasm heap is 4 GiB (h256 b128 needs 64). */
const microBatch = arg('micro-batch', 0);
const inferBatch = 256;

interface Stat { median: number; min: number; max: number; n: number }
const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], n: s.length };
};

async function tsSide() {
  const info = await selectBackend({ backend: 'wasm', threads });
  const model = makeConfig({ gridSize: 9, hidden, heads: 4, expansion: 4, interMultiple: 256, H_layers: 2, L_layers: 2, H_cycles: 2, L_cycles: 2, positions: 'rope', haltMaxSteps: 16 });
  const puzzles = generatePuzzles({ n: 9, seed: 1 }, 64).map((p) => ({ puzzle: p.puzzle, solution: p.solution }));
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-bench-'));
  const preset = getPreset('tiny-4x4');
  const trainer = await Trainer.create(dir, {
    preset: 'bench', model, train: { ...preset.train, batch, ...(microBatch > 0 ? { microBatch } : {}), lr: 1e-4, lossType: 'stablemax', evalPuzzles: 0, steps: 1000 },
    seed: 0, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
  }, { kind: 'pool', size: 9, puzzles, description: 'bench pool' });
  trainer.trainStep();
  const stepS: number[] = [];
  for (let i = 0; i < runs; i++) { const t0 = performance.now(); trainer.trainStep(); stepS.push((performance.now() - t0) / 1000); }
  await trainer.close();
  rmSync(dir, { recursive: true, force: true });

  const m = createModel(model, 0);
  const tokens = new Int32Array(inferBatch * 81);
  for (let b = 0; b < inferBatch; b++) tokens.set(gridToTokens(puzzles[b % puzzles.length].puzzle), b * 81);
  const tok = tf.tensor2d(tokens, [inferBatch, 81], 'int32');
  const segS: number[] = [];
  for (let i = 0; i <= Math.max(2, runs - 1); i++) {
    const carry = initialCarry(m, inferBatch);
    const t0 = performance.now();
    const out = runSegmentParallel(m, carry, tok);
    out.logits.dataSync();
    const dt = (performance.now() - t0) / 1000;
    if (i > 0) segS.push(dt);
    disposeCarry(carry); disposeCarry(out.carry); out.logits.dispose(); out.qHalt.dispose(); out.qContinue.dispose();
  }
  tok.dispose(); m.dispose();
  return {
    backend: `${info.name} ${info.version}, ${info.threads} thread(s)`, stepSeconds: stat(stepS), stepsPerSecond: stat(stepS.map((s) => 1 / s)),
    segmentsPerSecond: stat(segS.map((s) => inferBatch / s)), peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

function torchSide(th: number): { stepsPerSecond: Stat; segmentsPerSecond: Stat; peakRssMiB: number } | { error: string } {
  const res = spawnSync('/usr/bin/python3', ['bench/reference/torch_bench.py', 'bench', '--hidden', String(hidden), '--batch', String(batch), '--heads', '4',
    '--threads', String(th), '--blas-threads', String(th), '--runs', String(runs), '--warmup', '1', '--infer-batch', String(inferBatch), '--infer-runs', '2'],
  { encoding: 'utf8', cwd: path.resolve(__dirname, '..') });
  if (res.status !== 0) return { error: (res.stderr || res.error?.message || 'torch bench failed').split('\n').slice(-3).join(' ') };
  const j = JSON.parse(res.stdout) as { train: { steps_per_s: Stat }; infer: { puzzle_segments_per_s: Stat }; peak_rss_mib: number };
  return { stepsPerSecond: j.train.steps_per_s, segmentsPerSecond: j.infer.puzzle_segments_per_s, peakRssMiB: j.peak_rss_mib };
}

(async () => {
  const load0 = loadavg()[0];
  const ts = await tsSide();
  const t1 = torchSide(1);
  const t2 = torchSide(2);
  const fmt = (s: Stat) => `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
  const rows = [`| engine | training steps/s | inference puzzle-segments/s | peak RSS |`, `|---|---|---|---|`,
    `| HRM Lens, ${ts.backend} | ${fmt(ts.stepsPerSecond)} | ${fmt(ts.segmentsPerSecond)} | ${ts.peakRssMiB.toFixed(0)} MiB |`];
  for (const [name, t] of [['PyTorch 1.13, 1 thread', t1], ['PyTorch 1.13, 2 threads', t2]] as const) {
    rows.push('error' in t ? `| ${name} | ${t.error} | | |` : `| ${name} | ${fmt(t.stepsPerSecond)} | ${fmt(t.segmentsPerSecond)} | ${t.peakRssMiB.toFixed(0)} MiB |`);
  }
  if (!('error' in t1)) {
    rows.push(`| ratio HRM Lens ÷ PyTorch 1 thread | ${(ts.stepsPerSecond.median / t1.stepsPerSecond.median).toFixed(2)}× | ${(ts.segmentsPerSecond.median / t1.segmentsPerSecond.median).toFixed(2)}× | |`);
  }
  const header = `9×9, hidden ${hidden}, 4 heads, 2+2 layers, 2×2 cycles, RoPE; training batch ${batch}${microBatch > 0 ? ` (TS micro-batch ${microBatch})` : ''}, inference batch ${inferBatch}; ${runs} timed runs; `
    + `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}; load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`;
  console.log(`${header}\n\n${rows.join('\n')}`);
  mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  writeFileSync(path.join(__dirname, 'results', `model-h${hidden}-b${batch}-t${threads}.json`), `${JSON.stringify({ date: new Date().toISOString(), header, ts, torch1: t1, torch2: t2 }, null, 2)}\n`);
})();
