/**
 * One TS column of `npm run bench` (bench/summary.mjs runs it once per backend configuration, each in its own
 * process: the backend is chosen once per process). Prints one JSON object: per row, the timed runs (seconds or
 * rates), and the process's peak RSS. Rows:
 *   train      training steps/s: Trainer.trainStep, 9×9, hidden 128, 4 heads, 2+2 layers, 2×2 cycles, RoPE, batch 32
 *   infer      inference puzzle-segments/s: one no-grad segment on a batch of 256 (same model), as evaluation runs it
 *              (runSegmentParallel: on wasm the second half of the rows on the data-parallel helper thread)
 *   inspect    inspect latency: loadModel + inspectPuzzle (what the engine's `inspect` method runs) on a 4×4 puzzle
 *              with the shipped model, cold (first call in the process) and warm
 *   capture27m the 16-segment capture of one 9×9 puzzle at the paper's 27M configuration (random weights)
 *   ensemble   ensemble evaluation: 9 relabelings × 5 checkpoints (random-weight 9×9 h128 models, seeds 1–5) on 8
 *              puzzles, 4 segments each → puzzles/s
 *   landscape  a 41×41 error landscape of a 4×4 puzzle with the shipped model (trace + grid, no basins)
 *   presets    training steps/s of each preset as `hrm-lens train` runs it (bench/preset-steps.ts: its model, batch
 *              and generated puzzles): TRAIN_WARMUP steps, then --runs runs of --preset-steps steps (default 10)
 * Usage: npx tsx bench/summary-ts.ts --backend wasm|cpu [--runs 3] [--rows train,infer,…] [--preset-steps 10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../engine/tf';
import { selectBackend, type BackendChoice } from '../engine/backend';
import { HRM_SUDOKU_27M, configToJson, createModel, disposeCarry, initialCarry, linearWeightNames, makeConfig } from '../engine/model';
import { runSegmentParallel } from '../engine/train/data-parallel-segment';
import { Trainer } from '../engine/train/trainer';
import { getPreset } from '../engine/train/presets';
import { saveCheckpoint, type JsonObject } from '../engine/train/checkpoint';
import { loadModel } from '../engine/train/load-model';
import { inspectPuzzle } from '../engine/analysis/inspect';
import { captureTraces } from '../engine/analysis/capture-trace';
import { computeLandscapeAsync } from '../engine/analysis/landscape';
import { buildPassMatrix } from '../engine/ensemble/checkpoints';
import { perturbationSet } from '../engine/ensemble/perturb';
import { generatePuzzles } from '../engine/sudoku/generator';
import { gridToTokens, parseGrid } from '../engine/sudoku/geometry';
import { gemmThreads, ownGemmInstalled } from '../engine/kernels/wasm-gemm';
import { BENCH_PRESETS, timePresetSteps } from './preset-steps';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const backend = arg('backend', 'wasm') as BackendChoice;
const runs = Number(arg('runs', '3'));
const rows = new Set(arg('rows', 'train,infer,inspect,capture27m,ensemble,landscape').split(','));
const presetSteps = Number(arg('preset-steps', '10'));
const root = path.resolve(__dirname, '..');
const shipped = path.join(root, 'models', 'tiny-4x4.safetensors');
const PUZZLE_4 = '.1.....3..32....';
const BENCH_MODEL = { gridSize: 9 as const, hidden: 128, heads: 4, expansion: 4, interMultiple: 256, H_layers: 2, L_layers: 2, H_cycles: 2, L_cycles: 2, positions: 'rope' as const, haltMaxSteps: 16 };

/** Training steps before the timed ones (the JIT and the data-parallel helper warm up; bench/summary.mjs: the same). */
const TRAIN_WARMUP = 3;

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
};
async function timeAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
}

async function main(): Promise<void> {
  const info = await selectBackend({ backend });
  const out: Record<string, unknown> = {
    backend: info.name, detail: info.detail, threads: info.threads,
    gemm: info.name === 'wasm' ? (ownGemmInstalled() ? `own kernel, ${gemmThreads()} thread(s)` : 'XNNPACK (tfjs-backend-wasm)') : null,
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-bench-summary-'));
  try {
    const puzzles9 = generatePuzzles({ n: 9, seed: 1 }, 64).map((p) => ({ puzzle: p.puzzle, solution: p.solution }));
    if (rows.has('train')) {
      const model = makeConfig(BENCH_MODEL);
      const preset = getPreset('tiny-4x4');
      const trainer = await Trainer.create(path.join(dir, 'train'), {
        preset: 'bench', model, train: { ...preset.train, batch: 32, lr: 1e-4, lossType: 'stablemax', evalPuzzles: 0, steps: 1000 },
        seed: 0, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
      }, { kind: 'pool', size: 9, puzzles: puzzles9, description: 'bench pool' });
      for (let i = 0; i < TRAIN_WARMUP; i++) trainer.trainStep(); // as bench/summary.mjs asks PyTorch to
      const s: number[] = [];
      for (let i = 0; i < runs; i++) s.push(time(() => trainer.trainStep())[1]);
      await trainer.close();
      out.train = { stepsPerSecond: s.map((x) => 1 / x) };
    }
    if (rows.has('infer')) {
      const m = createModel(makeConfig(BENCH_MODEL), 0);
      const B = 256;
      const tokens = new Int32Array(B * 81);
      for (let b = 0; b < B; b++) tokens.set(gridToTokens(puzzles9[b % puzzles9.length].puzzle), b * 81);
      const tok = tf.tensor2d(tokens, [B, 81], 'int32');
      const rate: number[] = [];
      for (let i = 0; i <= runs; i++) {
        const carry = initialCarry(m, B);
        const [o, sec] = time(() => { const r = runSegmentParallel(m, carry, tok); r.logits.dataSync(); return r; });
        if (i > 0) rate.push(B / sec);
        disposeCarry(carry); disposeCarry(o.carry); o.logits.dispose(); o.qHalt.dispose(); o.qContinue.dispose();
      }
      tok.dispose(); m.dispose();
      out.infer = { segmentsPerSecond: rate };
    }
    if (rows.has('inspect')) {
      const sec: number[] = [];
      for (let i = 0; i <= runs; i++) {
        const [, s] = await timeAsync(async () => {
          const { model } = await loadModel(shipped);
          try { return inspectPuzzle(model, shipped, PUZZLE_4); } finally { model.dispose(); }
        });
        sec.push(s);
      }
      out.inspect = { coldSeconds: sec[0], warmSeconds: sec.slice(1) };
    }
    if (rows.has('capture27m')) {
      const config = makeConfig(HRM_SUDOKU_27M);
      const model = createModel(config, 3);
      const input = [{ puzzle: puzzles9[0].puzzle, solution: puzzles9[0].solution }];
      captureTraces(model, input, { segments: 2 });
      const sec: number[] = [];
      for (let i = 0; i < runs; i++) sec.push(time(() => captureTraces(model, input, { segments: 16 }))[1]);
      model.dispose();
      out.capture27m = { seconds: sec, params: model.numParams() };
    }
    if (rows.has('ensemble')) {
      const config = makeConfig(BENCH_MODEL);
      const files: string[] = [];
      for (let c = 1; c <= 5; c++) {
        const m = createModel(config, c);
        const saved = await saveCheckpoint(path.join(dir, `ens-${c}`), c, {
          weights: m.weights, transposeNames: new Set(linearWeightNames(config)), config: configToJson(config) as JsonObject, meta: { step: c, seed: c, preset: 'bench' },
        });
        m.dispose();
        files.push(saved.file);
      }
      const puzzles = puzzles9.slice(0, 8).map((p) => ({ puzzle: p.puzzle, solution: p.solution }));
      const shifts = perturbationSet('shifts', 9, 9);
      const rate: number[] = [];
      for (let i = 0; i < Math.min(runs, 2); i++) {
        const [, s] = await timeAsync(() => buildPassMatrix(files, puzzles, shifts, { segments: 4 }));
        rate.push(puzzles.length / s);
      }
      out.ensemble = { puzzlesPerSecond: rate, setup: '8 puzzles × 5 checkpoints × 9 relabelings, 4 segments, 9×9 h128' };
    }
    if (rows.has('landscape')) {
      const { model } = await loadModel(shipped);
      const parsed = parseGrid(PUZZLE_4, 4);
      if ('error' in parsed) throw new Error(parsed.error);
      const sec: number[] = [];
      for (let i = 0; i < Math.min(runs, 2); i++) sec.push((await timeAsync(() => computeLandscapeAsync(model, parsed.grid, { size: 41 })))[1]);
      model.dispose();
      out.landscape = { seconds: sec };
    }
    if (rows.has('presets')) {
      const timings: Record<string, unknown> = {};
      for (const name of BENCH_PRESETS) {
        try {
          timings[name] = await timePresetSteps(name, { steps: presetSteps, warmup: TRAIN_WARMUP, runs });
        } catch (e) {
          timings[name] = { preset: name, error: e instanceof Error ? e.message : String(e) };
        }
      }
      out.presets = timings;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  out.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(out));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
