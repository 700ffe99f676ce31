/**
 * Side-by-side speed of the engine's HRM against the PyTorch reference (bench/reference/torch_bench.py) in one run:
 * training steps/s (the full reference step: one segment, one-step gradient, loss with the continue-target forward,
 * AdamATan2 + sign-SGD; the TS side runs Trainer.trainStep on a fixed pool, so no puzzle generation is timed) and
 * inference puzzle-segments/s (one no-grad segment on a batch of 256), 9×9, hidden H, 4 heads, 2+2 layers, 2×2 cycles,
 * RoPE. PyTorch runs at each thread configuration (torch / BLAS threads 1/1, N/1, 1/N, N/N; bench/torch-anchor.ts
 * threadConfigs), each in a fresh process, after a check of the BLAS it runs on (refused when it is the reference
 * BLAS, unless --allow-reference-blas). Several timed steps per config; median, min, max; ratio = TS speed ÷ PyTorch
 * at its best (per row the fastest configuration) and ÷ PyTorch on one thread.
 *   npx tsx bench/model-bench.ts [--hidden 128] [--batch 32] [--runs 3] [--threads 1] [--micro-batch 64] [--allow-reference-blas]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../engine/tf';
import { selectBackend } from '../engine/backend';
import { createModel, disposeCarry, initialCarry, makeConfig } from '../engine/model';
import { runSegmentParallel } from '../engine/train/data-parallel-segment';
import { Trainer } from '../engine/train/trainer';
import { getPreset } from '../engine/train/presets';
import { generatePuzzles } from '../engine/sudoku/generator';
import { gridToTokens } from '../engine/sudoku/geometry';
import { ALLOW_REFERENCE_BLAS, EXIT_REFERENCE_BLAS, checkTorchBlas, chooseAnchor, configLabel, describeBlas, threadArgs, threadConfigs, threadEnv, type BlasInfo, type ThreadConfig } from './torch-anchor';

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
const allowReferenceBlas = process.argv.includes(ALLOW_REFERENCE_BLAS);

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

type TorchSide = { config: ThreadConfig; train: Stat; infer: Stat; peakRssMiB: number; blas: BlasInfo; env: Record<string, string> } | { config: ThreadConfig; error: string };

function torchSide(config: ThreadConfig): TorchSide {
  const res = spawnSync('/usr/bin/python3', ['bench/reference/torch_bench.py', 'bench', '--hidden', String(hidden), '--batch', String(batch), '--heads', '4',
    ...threadArgs(config, allowReferenceBlas), '--runs', String(runs), '--warmup', '1', '--infer-batch', String(inferBatch), '--infer-runs', '2'],
  { encoding: 'utf8', cwd: path.resolve(__dirname, '..'), env: { ...process.env, ...threadEnv(config) } });
  if (res.status !== 0) return { config, error: (res.stderr || res.error?.message || 'torch bench failed').split('\n').slice(-3).join(' ') };
  const j = JSON.parse(res.stdout) as { train: { steps_per_s: Stat }; infer: { puzzle_segments_per_s: Stat }; peak_rss_mib: number; blas: BlasInfo };
  return { config, train: j.train.steps_per_s, infer: j.infer.puzzle_segments_per_s, peakRssMiB: j.peak_rss_mib, blas: j.blas, env: threadEnv(config) };
}

(async () => {
  const load0 = loadavg()[0];
  const blas = checkTorchBlas({ allowReference: allowReferenceBlas });
  if (blas.status === 'refused') {
    console.error(`model-bench: ${blas.message}`);
    process.exit(EXIT_REFERENCE_BLAS);
  }
  if (blas.status === 'unavailable') console.error(`model-bench: PyTorch not measured: ${blas.message}`);
  const ts = await tsSide();
  const torch = blas.status === 'ok' ? threadConfigs(availableParallelism()).map(torchSide) : [];
  // PyTorch at its best: per row the fastest configuration (torch-anchor.ts threadConfigs: the two thread pools
  // oversubscribe the cores when both are full, so the best mix is measured, not assumed).
  const anchor = chooseAnchor(torch, { train: true, infer: true });
  const single = torch.find((t) => t.config.torch === 1 && t.config.blas === 1);
  const fmt = (s: Stat) => `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
  const rows = [`| engine | training steps/s | inference puzzle-segments/s | peak RSS |`, `|---|---|---|---|`,
    `| HRM Lens, ${ts.backend} | ${fmt(ts.stepsPerSecond)} | ${fmt(ts.segmentsPerSecond)} | ${ts.peakRssMiB.toFixed(0)} MiB |`];
  for (const t of torch) {
    const name = `PyTorch 1.13${'blas' in t ? ` + ${t.blas.label}` : ''}, ${configLabel(t.config)}`;
    rows.push('error' in t ? `| ${name} | ${t.error} | | |` : `| ${name} | ${fmt(t.train)} | ${fmt(t.infer)} | ${t.peakRssMiB.toFixed(0)} MiB |`);
  }
  const ratio = (a: Stat, b: Stat | undefined) => (b ? `${(a.median / b.median).toFixed(2)}×` : '–');
  if (anchor.train || anchor.infer) {
    rows.push(`| ratio HRM Lens ÷ PyTorch at its best (training ${anchor.train?.label ?? '–'}, inference ${anchor.infer?.label ?? '–'}) | ${ratio(ts.stepsPerSecond, anchor.train?.stat)} | ${ratio(ts.segmentsPerSecond, anchor.infer?.stat)} | |`);
  }
  if (single && !('error' in single)) {
    rows.push(`| ratio HRM Lens ÷ PyTorch, ${configLabel(single.config)} | ${ratio(ts.stepsPerSecond, single.train)} | ${ratio(ts.segmentsPerSecond, single.infer)} | |`);
  }
  const header = `9×9, hidden ${hidden}, 4 heads, 2+2 layers, 2×2 cycles, RoPE; training batch ${batch}${microBatch > 0 ? ` (TS micro-batch ${microBatch})` : ''}, inference batch ${inferBatch}; ${runs} timed runs; `
    + `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}; load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`
    + (blas.status === 'ok' ? `; PyTorch's BLAS: ${describeBlas(blas.info)}` : '');
  console.log(`${header}\n\n${rows.join('\n')}`);
  mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  writeFileSync(path.join(__dirname, 'results', `model-h${hidden}-b${batch}-t${threads}.json`), `${JSON.stringify({
    date: new Date().toISOString(), header, ts,
    torch: { blas: blas.status === 'unavailable' ? { unavailable: blas.message } : blas.info, allowReferenceBlas, configs: torch, anchor },
  }, null, 2)}\n`);
})();
