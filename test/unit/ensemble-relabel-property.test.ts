// Property: for every cyclic-shift relabeling p (and random Sudoku symmetries composed with it), mapping back the
// solver's solution of the transformed puzzle gives the original solution — the invariant the ensemble relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type GridSize, geometry } from '../../engine/sudoku/geometry';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { solve } from '../../engine/sudoku/solver';
import { applyTransform, composeTransforms, cyclicShift, mapBack, randomTransform } from '../../engine/sudoku/symmetry';
import { Rng } from '../../engine/util/rng';
import { logitsFromGrid } from '../../engine/analysis/decode';
import { labelFreeVote, makePass, oracleCheckpointVote } from '../../engine/ensemble/votes';

const PUZZLES = {
  4: generatePuzzles({ n: 4, seed: 1 }, 3),
  6: generatePuzzles({ n: 6, seed: 2 }, 3),
  9: generatePuzzles({ n: 9, seed: 3 }, 3),
} as const;

test('relabel property: mapBack(solve(t(puzzle))) = solution for every cyclic shift p and random symmetries', () => {
  fc.assert(fc.property(
    fc.constantFrom<GridSize>(4, 6, 9), fc.nat(2), fc.integer(), fc.boolean(),
    (n, which, seed, withSymmetry) => {
      const geo = geometry(n);
      const { puzzle, solution } = PUZZLES[n][which];
      const sym = randomTransform(geo, new Rng(seed));
      for (let p = 0; p < n; p++) { // every cyclic shift of 1..n (p = 0..8 for 9×9)
        const shift = cyclicShift(n, p);
        const t = withSymmetry ? composeTransforms(sym, shift) : shift;
        const r = solve(applyTransform(puzzle, t), geo);
        assert.equal(r.solutions, 1);
        assert.ok(r.solution);
        assert.deepEqual([...mapBack(r.solution, t)], [...solution]);
      }
    },
  ), { numRuns: 40, seed: 4242 });
});

test('relabel property: 9 passes that each solve their relabelled puzzle vote for the original solution', () => {
  fc.assert(fc.property(fc.nat(2), fc.integer(), (which, seed) => {
    const geo = geometry(9);
    const { puzzle, solution } = PUZZLES[9][which];
    const sym = randomTransform(geo, new Rng(seed));
    const passes = Array.from({ length: 9 }, (_, p) => {
      const t = composeTransforms(sym, cyclicShift(9, p));
      const answer = solve(applyTransform(puzzle, t), geo).solution;
      assert.ok(answer);
      return makePass({ logits: logitsFromGrid(answer, 9), qHalt: 1, qContinue: 0 }, 9, t);
    });
    assert.equal(oracleCheckpointVote(passes, solution).solved, true);
    assert.deepEqual([...(labelFreeVote(passes).answer ?? [])], [...solution]);
    assert.equal(labelFreeVote(passes).votes, 9);
  }), { numRuns: 20, seed: 99 });
});
