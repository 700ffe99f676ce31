// Compute sweeps on the shipped models: the trained setting's cell is what the evaluation and the classifier give for
// the same puzzles (also at a smaller segment count read from the longer run), less compute changes the figures on
// hard-6x6, the default settings, puzzles given as text, progress, cancellation and no leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { evaluate } from '../../engine/train/evaluate';
import { classifyPuzzles } from '../../engine/analysis/classify';
import { computeSweep, computeSweepAsync, cycleVariants, segmentVariants, sweepPuzzles, sweepSettings, type SweepPuzzle } from '../../engine/intervene/sweep';
import { PuzzleGenerator } from '../../engine/sudoku/generator';
import { gridToString } from '../../engine/sudoku/geometry';
import { useShippedModels } from './helpers/shipped-model';

const [tinyModel, hardModel] = useShippedModels('tiny-4x4', 'hard-6x6');

function generated(n: 4 | 6, count: number, seed: number): SweepPuzzle[] {
  const gen = new PuzzleGenerator({ n, seed });
  return Array.from({ length: count }, () => {
    const g = gen.next();
    return { puzzle: g.puzzle, solution: g.solution };
  });
}

test('sweep: the trained cell (and a shorter one read from the same run) is what eval and classify give', () => {
  const puzzles = generated(4, 24, 77);
  const S = tinyModel().config.haltMaxSteps;
  const r = computeSweep(tinyModel(), puzzles, { hCycles: [1, 2], lCycles: [2], segments: [2, S] });
  assert.equal(r.puzzles, 24);
  assert.deepEqual(r.trained, { hCycles: 2, lCycles: 2, segments: S });
  assert.deepEqual(r.cells.map((c) => [c.hCycles, c.lCycles, c.segments, c.compute, c.trained]),
    [[1, 2, 2, 6, false], [1, 2, S, 12, false], [2, 2, 2, 12, false], [2, 2, S, 24, true]]);
  for (const s of [2, S]) {
    const cell = r.cells.find((c) => c.hCycles === 2 && c.segments === s);
    assert.ok(cell);
    const ev = evaluate(tinyModel(), puzzles, { segments: s });
    assert.equal(cell.exact, ev.exact, `exact at ${s} segments`);
    assert.ok(Math.abs(cell.cell - ev.cell) < 1e-12, `cell at ${s} segments: ${cell.cell} vs ${ev.cell}`);
    const cls = classifyPuzzles(tinyModel(), puzzles, { segments: s });
    assert.deepEqual(cell.modes, cls.counts, `modes at ${s} segments`);
  }
  // Segments pass the state on unchanged, so H = 1 over 2S segments runs the same updates as H = 2 over S segments.
  const once = r.cells.find((c) => c.hCycles === 1 && c.segments === S);
  const twice = r.cells.find((c) => c.hCycles === 2 && c.segments === 2);
  assert.ok(once && twice);
  assert.deepEqual([once.exact, once.cell], [twice.exact, twice.cell]);
  assert.match(r.text, /\* {2}2 {3}2 {5}4 {7}24/);
});

test('sweep on hard-6x6: less compute than trained changes the figures', { timeout: 600_000 }, () => {
  const puzzles = generated(6, 8, 424242);
  const r = computeSweep(hardModel(), puzzles, { hCycles: [1, 2], lCycles: [2], segments: [4, 16] });
  const at = (h: number, s: number) => r.cells.find((c) => c.hCycles === h && c.segments === s);
  const trained = at(2, 16);
  const least = at(1, 4);
  assert.ok(trained?.trained && least);
  assert.ok(trained.exact > least.exact, `trained ${trained.exact} vs H 1 × 4 segments ${least.exact}`);
  assert.ok(trained.cell > least.cell);
  assert.notDeepEqual(least.modes, trained.modes);
  for (const c of r.cells) assert.equal(Object.values(c.modes).reduce((a, b) => a + b, 0), 8);
});

test('sweep settings: defaults around the trained counts, lists checked; puzzles as text with or without answers', () => {
  assert.deepEqual(cycleVariants(2, 64), [1, 2, 3, 4]);
  assert.deepEqual(cycleVariants(1, 64), [1, 2]);
  assert.deepEqual(cycleVariants(40, 64), [39, 40, 41]);
  assert.deepEqual(segmentVariants(16, 256), [4, 8, 16, 32]);
  assert.deepEqual(segmentVariants(1, 256), [1, 2]);
  assert.deepEqual(sweepSettings(tinyModel(), {}), { hCycles: [1, 2, 3, 4], lCycles: [1, 2, 3, 4], segments: [1, 2, 4, 8] });
  assert.deepEqual(sweepSettings(tinyModel(), { hCycles: [3, 1, 3] }).hCycles, [1, 3]);
  assert.throws(() => sweepSettings(tinyModel(), { hCycles: [0] }), /hCycles must hold integers in 1…64/);
  assert.throws(() => sweepSettings(tinyModel(), { segments: [] }), /segments must list at least one/);
  assert.throws(() => sweepSettings(tinyModel(), { lCycles: Array.from({ length: 17 }, (_, i) => i + 1) }), /at most 16/);
  const [a, b] = sweepPuzzles(['.1.....3..32....', '.1.....3..32....,3124421314322341'], 4);
  assert.equal(gridToString(a.solution), '3124421314322341');
  assert.deepEqual(b, a);
  assert.throws(() => sweepPuzzles(['................'], 4), /puzzle 1: it has no unique solution/);
  assert.throws(() => sweepPuzzles(['.1.....3..32....', '.1.....3..32....,1111222233334444'], 4), /puzzle 2: the answer is not a valid grid/);
  assert.throws(() => sweepPuzzles(['.1.....3..32'], 4), /puzzle 1:/);
});

test('sweep: progress over settings × puzzles, cancellation, and no tensors left over 100 calls', async () => {
  const puzzles = generated(4, 3, 5);
  const seen: [number, number][] = [];
  computeSweep(tinyModel(), puzzles, { hCycles: [1, 2], lCycles: [1], segments: [1], batch: 2, onProgress: (d, t) => seen.push([d, t]) });
  assert.deepEqual(seen, [[2, 6], [3, 6], [5, 6], [6, 6]]);
  const before = tf.memory().numTensors;
  const ctl = new AbortController();
  assert.throws(() => computeSweep(tinyModel(), puzzles, { hCycles: [1, 2], lCycles: [1], segments: [2], batch: 1, signal: ctl.signal, onProgress: (d) => { if (d === 2) ctl.abort(); } }),
    (e: Error) => e.name === 'AbortError');
  const ctl2 = new AbortController();
  await assert.rejects(computeSweepAsync(tinyModel(), puzzles, { hCycles: [3], lCycles: [1], segments: [2], batch: 1, signal: ctl2.signal, onProgress: () => ctl2.abort() }),
    (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 100; i++) computeSweep(tinyModel(), puzzles.slice(0, 2), { hCycles: [i % 2 ? 1 : 2], lCycles: [2], segments: [1] });
  assert.equal(tf.memory().numTensors, before);
});
