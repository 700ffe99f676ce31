/**
 * `npm run bench -- parallel` (npx tsx bench/parallel-ab.ts): the data-parallel helper and the fused AdamATan2 measured
 * A/B in ONE process, interleaved, on the same trainers and data — the switches (HRM_LENS_DATA_PARALLEL,
 * HRM_LENS_FUSED_ADAM) are read at every call, so this VM's drift between runs does not enter the comparison.
 * Training: h128, batch 32 (9×9, 2+2 layers, 2×2 cycles), 3 warm-up rounds, then 6 rounds × 2 steps of each case,
 * medians; inference: a no-tape segment at batch 256, runSegmentParallel against runSegment, 6 rounds.
 * Writes bench/results/parallel-ab.json.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../engine/tf';
import { selectBackend } from '../engine/backend';
import { createModel, disposeCarry, initialCarry, makeConfig, runSegment } from '../engine/model';
import { Trainer } from '../engine/train/trainer';
import { getPreset } from '../engine/train/presets';
import { generatePuzzles } from '../engine/sudoku/generator';
import { runSegmentParallel } from '../engine/train/data-parallel-segment';
const cfg = makeConfig({ gridSize: 9, hidden: 128, heads: 4, expansion: 4, interMultiple: 256, H_layers: 2, L_layers: 2, H_cycles: 2, L_cycles: 2, positions: 'rope', haltMaxSteps: 16 });
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
(async () => {
  await selectBackend({ backend: 'wasm' });
  const puzzles = generatePuzzles({ n: 9, seed: 1 }, 64).map((p) => ({ puzzle: p.puzzle, solution: p.solution }));
  const preset = getPreset('tiny-4x4');
  const mk = async (micro?: number) => Trainer.create(mkdtempSync(path.join(tmpdir(), 'ab-')), {
    preset: 'bench', model: cfg, train: { ...preset.train, batch: 32, ...(micro ? { microBatch: micro } : {}), lr: 1e-4, lossType: 'stablemax', evalPuzzles: 0, steps: 1000 },
    seed: 0, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
  }, { kind: 'pool', size: 9, puzzles, description: 'p' });
  const a = await mk(), b = await mk(32);
  const env = (k: string, v: string | undefined, f: () => void) => { const old = process.env[k]; if (v === undefined) delete process.env[k]; else process.env[k] = v; try { f(); } finally { if (old === undefined) delete process.env[k]; else process.env[k] = old; } };
  const timeStep = (t: Trainer) => { const t0 = performance.now(); t.trainStep(); return performance.now() - t0; };
  const cases: [string, () => number][] = [
    ['two micro-batches, helper (default)', () => timeStep(a)],
    ['two micro-batches one after the other, products split (HRM_LENS_DATA_PARALLEL=0)', () => { let r = 0; env('HRM_LENS_DATA_PARALLEL', '0', () => { r = timeStep(a); }); return r; }],
    ['one micro-batch, products split (the previous default)', () => { let r = 0; env('HRM_LENS_DATA_PARALLEL', '0', () => { r = timeStep(b); }); return r; }],
    ['default with the AdamATan2 composition (HRM_LENS_FUSED_ADAM=0)', () => { let r = 0; env('HRM_LENS_FUSED_ADAM', '0', () => { r = timeStep(a); }); return r; }],
  ];
  for (let i = 0; i < 3; i++) for (const [, f] of cases) f(); // warm up
  const res = cases.map(() => [] as number[]);
  for (let r = 0; r < 6; r++) for (const [k, [, f]] of cases.entries()) { res[k].push(f()); res[k].push(f()); }
  const out: Record<string, unknown> = { date: new Date().toISOString(), train: {}, infer: {} };
  cases.forEach(([name], k) => {
    (out.train as Record<string, unknown>)[name] = { stepsPerSecond: 1000 / med(res[k]), stepMs: res[k] };
    console.log(`train ${name}: ${(1000 / med(res[k])).toFixed(3)} steps/s (median of ${res[k].length}; ${Math.min(...res[k]).toFixed(0)}–${Math.max(...res[k]).toFixed(0)} ms)`);
  });
  await a.close(); await b.close();
  const m = createModel(cfg, 0);
  const B = 256;
  const tok = tf.tensor2d(new Int32Array(B * 81).map((_, i) => (i * 7) % 10 + 1), [B, 81], 'int32');
  const one = (f: typeof runSegment) => { const c = initialCarry(m, B); const t0 = performance.now(); const o = f(m, c, tok); o.logits.dataSync(); const dt = performance.now() - t0; disposeCarry(c); disposeCarry(o.carry); o.logits.dispose(); o.qHalt.dispose(); o.qContinue.dispose(); return B / dt * 1000; };
  one(runSegmentParallel); one(runSegment);
  const p: number[] = [], s: number[] = [];
  for (let r = 0; r < 6; r++) { p.push(one(runSegmentParallel)); s.push(one(runSegment)); }
  out.infer = { runSegmentParallel: p, runSegment: s };
  writeFileSync(path.join(__dirname, 'results', 'parallel-ab.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`infer runSegmentParallel: ${med(p).toFixed(1)} (${Math.min(...p).toFixed(1)}–${Math.max(...p).toFixed(1)}); runSegment, products split: ${med(s).toFixed(1)} (${Math.min(...s).toFixed(1)}–${Math.max(...s).toFixed(1)}) puzzle-seg/s`);
  process.exit(0);
})();
