// The logit lens inside a segment on the shipped models: one read per update in the segment's order, the z_H read at
// the end of each segment is the segment's own decoded grid, the jump of a late-solving hard-6x6 puzzle lies in the
// segment where it is solved, puzzles without a unique solution, progress, cancellation and no leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import type { HrmModel } from '../../engine/model';
import { computeLens, computeLensAsync, lensJump } from '../../engine/intervene/lens';
import { hrmMap } from '../../engine/intervene/recurrent-map';
import { gridAt, runTrajectories } from '../../engine/intervene/trajectory';
import { interventionOutcome, uniqueSolution } from '../../engine/intervene/outcome';
import type { LensStep } from '../../engine/intervene/intervene-protocol';
import { type Grid, gridToString } from '../../engine/sudoku/geometry';
import { useShippedModels } from './helpers/shipped-model';
import { grid } from './helpers/grids';

const [tinyModel, hardModel] = useShippedModels('tiny-4x4', 'hard-6x6');

/** Every segment's last z_H read equals the trajectory's decoded grid at that segment; the reads come in update order. */
function checkAgainstTrajectory(model: HrmModel, puzzle: Grid, S: number): void {
  const r = computeLens(model, puzzle, { segments: S });
  const { H_cycles: H, L_cycles: L } = model.config;
  assert.equal(r.segments, S);
  assert.equal(r.steps.length, S * H * (L + 1));
  let i = 0;
  for (let k = 1; k <= S; k++) {
    for (let h = 1; h <= H; h++) {
      for (let l = 1; l <= L; l++) assert.deepEqual([r.steps[i].segment, r.steps[i].h, r.steps[i].l, r.steps[i++].state], [k, h, l, 'zL']);
      assert.deepEqual([r.steps[i].segment, r.steps[i].h, r.steps[i].l, r.steps[i++].state], [k, h, null, 'zH']);
    }
  }
  const t = runTrajectories(hrmMap(model), [puzzle], { segments: S });
  for (let k = 1; k <= S; k++) {
    const end = r.steps.filter((s) => s.segment === k && s.state === 'zH' && s.h === H)[0];
    assert.equal(end.grid, gridToString(gridAt(t, 0, k)), `segment ${k}`);
  }
  for (const s of r.steps) {
    assert.ok(s.confidence > 0 && s.confidence <= 1 + 1e-12);
    assert.ok(s.energy >= 0);
    assert.ok(!s.grid.includes('.') && !s.grid.includes('0'), 'every cell decodes to a digit');
  }
}

test('lens on tiny-4x4: updates in order, the last z_H read of each segment is the segment\'s decoded grid', () => {
  checkAgainstTrajectory(tinyModel(), grid('.1.....3..32....', 4), 6);
});

test('lens on hard-6x6: a puzzle solved at segment 12 has its jump inside segment 12', { timeout: 300_000 }, () => {
  const puzzle = grid('1...56...1..643.........5..41.......', 6);
  checkAgainstTrajectory(hardModel(), puzzle, 16);
  const t = runTrajectories(hrmMap(hardModel()), [puzzle], { segments: 16 });
  const outcome = interventionOutcome(6, puzzle, uniqueSolution(puzzle, 6), t.grids[0]);
  assert.equal(outcome.segmentsToExact, 12, 'the shipped hard-6x6 solves this puzzle at segment 12');
  const r = computeLens(hardModel(), puzzle);
  assert.notEqual(r.jump, null);
  const jump = r.steps[r.jump as number];
  assert.equal(jump.state, 'zH');
  assert.equal(jump.segment, 12);
  assert.ok((jump.wrongCells as number) < (r.steps.filter((s, i) => s.state === 'zH' && i < (r.jump as number)).pop()?.wrongCells as number));
  const last = r.steps[r.steps.length - 1];
  assert.equal(last.wrongCells, 0);
  assert.match(r.text, /jump: segment 12/);
});

test('lens jump: the largest fall between z_H reads after segment 1; the energy without a solution; none when nothing falls', () => {
  const read = (segment: number, h: number, wrong: number | null, energy: number, state: 'zH' | 'zL' = 'zH'): LensStep => ({
    segment, h, l: state === 'zH' ? null : 1, state, grid: '', wrongCells: wrong, energy, confidence: 1,
  });
  // Segment 1 falls the most (10 → 2), but it starts from the initial state: the jump is segment 3's fall 5 → 1.
  assert.equal(lensJump([read(1, 1, 10, 9), read(1, 2, 2, 3), read(2, 1, 5, 4), read(2, 1, 0, 0, 'zL'), read(2, 2, 5, 4), read(3, 1, 1, 1)]), 5);
  assert.equal(lensJump([read(1, 1, null, 9), read(2, 1, null, 6), read(3, 1, null, 1)]), 2);
  assert.equal(lensJump([read(1, 1, 3, 3), read(2, 1, 3, 3), read(3, 1, 4, 4)]), null);
  // A puzzle with many solutions: no wrong cells to count.
  const r = computeLens(tinyModel(), grid('................', 4), { segments: 2 });
  assert.ok(r.steps.every((s) => s.wrongCells === null));
  assert.match(r.text, /solution \(not unique\)/);
});

test('lens: progress per segment, cancellation, and no tensors left over 100 calls', async () => {
  const p = grid('.1.....3..32....', 4);
  const seen: [number, number][] = [];
  computeLens(tinyModel(), p, { segments: 3, onProgress: (d, t) => seen.push([d, t]) });
  assert.deepEqual(seen, [[1, 3], [2, 3], [3, 3]]);
  const before = tf.memory().numTensors;
  const ctl = new AbortController();
  assert.throws(() => computeLens(tinyModel(), p, { segments: 5, signal: ctl.signal, onProgress: (d) => { if (d === 2) ctl.abort(); } }),
    (e: Error) => e.name === 'AbortError');
  const ctl2 = new AbortController();
  await assert.rejects(computeLensAsync(tinyModel(), p, { segments: 5, signal: ctl2.signal, onProgress: (d) => { if (d === 1) ctl2.abort(); } }),
    (e: Error) => e.name === 'AbortError');
  assert.throws(() => computeLens(tinyModel(), p, { segments: 0 }), /segments/);
  assert.throws(() => computeLens(tinyModel(), grid('1...56...1..643.........5..41.......', 6)), /cells/);
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < 100; i++) computeLens(tinyModel(), p, { segments: 1 + (i % 2) });
  assert.equal(tf.memory().numTensors, before);
});
