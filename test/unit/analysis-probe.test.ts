// The easy-puzzle probe: puzzle construction from the definitions (cell / row / box / random k, seeded, unique),
// group summaries on hand-built traces, and an end-to-end run of the shipped tiny-4x4 shipped() (two "checkpoints",
// batch-size independence, no leaked tensors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { useShippedModel } from './helpers/shipped-model';
import { geometry } from '../../engine/sudoku/geometry';
import { hasUniqueSolution } from '../../engine/sudoku/solver';
import { logitsFromGrid } from '../../engine/analysis/decode';
import { computeTraceMetrics } from '../../engine/analysis/segment-metrics';
import {
  type ProbePuzzle, makeProbePuzzles, maskName, parseMask, probeCheckpoint, probeMetrics, probeSolutions, runProbe, summarizeProbeGroup,
} from '../../engine/analysis/probe';

const shipped = useShippedModel();

test('parseMask / maskName round-trip; bad masks are rejected', () => {
  for (const t of ['cell', 'row', 'box', 'random:3']) assert.equal(maskName(parseMask(t)), t);
  assert.equal(maskName(parseMask('5')), 'random:5');
  assert.throws(() => parseMask('column'), /cell, row, box or random:k/);
  assert.throws(() => parseMask('random:0'), /random:k/);
});

test('probe puzzles: 1 cell, one whole row, one whole box, k random cells; seeded; unique solutions', () => {
  for (const n of [4, 6, 9] as const) {
    const geo = geometry(n);
    const sols = probeSolutions(n, 5, 7);
    const masks = ['cell', 'row', 'box', 'random:4'].map(parseMask);
    const ps = makeProbePuzzles(sols, n, masks, 11);
    assert.equal(ps.length, 20);
    assert.deepEqual(makeProbePuzzles(sols, n, masks, 11).map((p) => [...p.puzzle]), ps.map((p) => [...p.puzzle]));
    for (const p of ps) {
      const blanks = [...p.puzzle.keys()].filter((c) => p.puzzle[c] === 0);
      for (let c = 0; c < geo.cells; c++) if (p.puzzle[c] !== 0) assert.equal(p.puzzle[c], p.solution[c]);
      assert.equal(p.blanks, blanks.length);
      if (p.mask === 'cell') assert.equal(blanks.length, 1);
      if (p.mask === 'random:4') assert.equal(blanks.length, 4);
      if (p.mask === 'row') assert.ok(geo.units.slice(0, n).some((u) => [...u].join() === blanks.join()));
      if (p.mask === 'box') assert.ok(geo.units.slice(2 * n).some((u) => [...u].sort((a, b) => a - b).join() === blanks.join()));
      assert.equal(p.unique, true);
      assert.ok(hasUniqueSolution(p.puzzle, geo));
    }
    // A different seed changes the blanks.
    const other = makeProbePuzzles(sols, n, masks, 12);
    assert.ok(other.some((p, i) => p.puzzle.join() !== ps[i].puzzle.join()));
  }
});

test('group summary from hand-built traces: stability, corruptions, exact by segment, example', () => {
  const sol = probeSolutions(4, 1, 3)[0];
  const wrong = Int8Array.from(sol);
  wrong[0] = wrong[0] === 1 ? 2 : 1;
  const puzzle = Int8Array.from(sol);
  puzzle[5] = 0;
  const mk = (grids: Int8Array[]) => computeTraceMetrics({ n: 4, puzzle, solution: sol, segments: grids.map((g) => ({ logits: logitsFromGrid(g, 4), qHalt: 0, qContinue: 0 })) });
  const probe: ProbePuzzle[] = [0, 1, 2].map((i) => ({ id: `p${i}`, mask: 'cell', puzzle, solution: sol, blanks: 1, unique: true }));
  const metrics = [mk([sol, sol, sol]), mk([sol, wrong, sol]), mk([wrong, wrong, wrong])];
  const g = summarizeProbeGroup('cell', probe, metrics);
  assert.equal(g.puzzles, 3);
  assert.equal(g.everExact, 2);
  assert.equal(g.stable, 1);
  assert.equal(g.stabilityRate, 0.5);
  assert.equal(g.corruptionEvents, 1);
  assert.equal(g.corruptedPuzzles, 1);
  assert.ok(Math.abs(g.finalAccuracy - 2 / 3) < 1e-12);
  assert.deepEqual(g.exactBySegment.map((x) => Math.round(x * 3)), [2, 1, 2]);
  assert.equal(g.meanFirstExact, 1);
  assert.equal(g.corruptedExample?.id, 'p1');
  assert.deepEqual(g.corruptedExample?.corruptions, [2]);
  assert.ok(Number.isNaN(g.meanLastResidual)); // no latents in hand-built traces
});

test('probe on the shipped model: two checkpoints in one report, batch-size independent, no leaked tensors', async () => {
  const n = 4;
  const puzzles = makeProbePuzzles(probeSolutions(n, 12, 1), n, ['cell', 'row', 'box'].map(parseMask), 1);
  const before = tf.memory().numTensors;
  const a = probeMetrics(shipped(), puzzles, { batch: 5 });
  const b = probeMetrics(shipped(), puzzles, { batch: 64 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(a.map((m) => [...m.exact]), b.map((m) => [...m.exact]));
  assert.deepEqual(a.map((m) => [...m.grids]), b.map((m) => [...m.grids]));
  const rep = await runProbe([{ name: 'A', open: () => shipped() }, { name: 'B', open: () => shipped() }], puzzles, { batch: 16 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(rep.checkpoints.length, 2);
  assert.deepEqual(rep.masks, ['cell', 'row', 'box']);
  assert.equal(rep.segments, shipped().config.haltMaxSteps);
  assert.deepEqual(rep.checkpoints[0].groups, rep.checkpoints[1].groups);
  const one = probeCheckpoint(shipped(), 'A', puzzles);
  for (const g of one.groups) {
    assert.equal(g.puzzles, 12);
    assert.ok(g.finalAccuracy >= 0 && g.finalAccuracy <= 1);
    assert.equal(g.exactBySegment.length, 4);
    assert.ok(Number.isFinite(g.meanLastResidual) && g.meanLastResidual >= 0);
  }
  assert.equal(one.overall.puzzles, 36);
  // The shipped shipped() solves nearly every 1-blank puzzle at segment 1 (a sanity bound, not a benchmark).
  assert.ok(one.groups[0].exactBySegment[0] >= 0.8, `cell exact at segment 1: ${one.groups[0].exactBySegment[0]}`);
});
