import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Geometry, type GridSize, geometry, isValidSolution } from '../../engine/sudoku/geometry';
import { solve } from '../../engine/sudoku/solver';
import { generatePuzzles, randomSolvedGrid } from '../../engine/sudoku/generator';
import {
  type SudokuTransform, applyTransform, bandPermutation, colsWithinStack, composeTransforms, cyclicShift,
  identityTransform, invertTransform, isValidTransform, makeTransform, mapBack, randomTransform, relabeling,
  rowsWithinBand, stackPermutation, transformsEqual, transposeTransform,
} from '../../engine/sudoku/symmetry';
import { Rng } from '../../engine/util/rng';

const RUNS = { numRuns: 200, seed: 1234 };
const sizeArb = fc.constantFrom<GridSize>(4, 6, 9);

/** A random grid of digits 0..n (not a Sudoku: transforms act on any board). */
function randomBoard(n: number, rng: Rng): Int8Array {
  const g = new Int8Array(n * n);
  for (let i = 0; i < g.length; i++) g[i] = rng.int(n + 1);
  return g;
}

/** Any permutations (not necessarily band-preserving): the algebra must hold for these too. */
function arbitraryTransform(n: GridSize, rng: Rng): SudokuTransform {
  const p = rng.permutation(n);
  const digitMap = Int8Array.from([0, ...Array.from(p, (v) => v + 1)]);
  const transpose = n !== 6 && rng.float() < 0.5;
  return makeTransform(n, { digitMap, transpose, rowPerm: rng.permutation(n), colPerm: rng.permutation(n) });
}

function anyTransform(geo: Geometry, rng: Rng): SudokuTransform {
  return rng.float() < 0.5 ? randomTransform(geo, rng) : arbitraryTransform(geo.n, rng);
}

/** The definition, written out with 2-D indexing. */
function naiveApply(grid: ArrayLike<number>, t: SudokuTransform): number[] {
  const n = t.n;
  const at = (r: number, c: number) => (t.transpose ? grid[c * n + r] : grid[r * n + c]);
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out.push(t.digitMap[at(t.rowPerm[i], t.colPerm[j])]);
  return out;
}

test('symmetry: applyTransform follows new[i][j] = digitMap[T(old)[rowPerm[i]][colPerm[j]]]', () => {
  fc.assert(fc.property(fc.integer(), sizeArb, (seed, n) => {
    const rng = new Rng(seed);
    const geo = geometry(n);
    const t = anyTransform(geo, rng);
    const g = randomBoard(n, rng);
    assert.deepEqual([...applyTransform(g, t)], naiveApply(g, t));
    assert.deepEqual([...applyTransform(g, identityTransform(n))], [...g]);
  }), RUNS);
});

test('symmetry: transform then inverse is the identity (both ways); double inverse is the transform', () => {
  fc.assert(fc.property(fc.integer(), sizeArb, (seed, n) => {
    const rng = new Rng(seed);
    const geo = geometry(n);
    const t = anyTransform(geo, rng);
    const g = randomBoard(n, rng);
    const inv = invertTransform(t);
    assert.deepEqual([...applyTransform(applyTransform(g, t), inv)], [...g]);
    assert.deepEqual([...applyTransform(applyTransform(g, inv), t)], [...g]);
    assert.deepEqual([...mapBack(applyTransform(g, t), t)], [...g]);
    assert.ok(transformsEqual(invertTransform(inv), t));
    assert.ok(transformsEqual(composeTransforms(t, inv), identityTransform(n)));
    assert.ok(transformsEqual(composeTransforms(inv, t), identityTransform(n)));
  }), RUNS);
});

test('symmetry: composition law apply(compose(a, b), g) = apply(b, apply(a, g)), and associativity', () => {
  fc.assert(fc.property(fc.integer(), sizeArb, (seed, n) => {
    const rng = new Rng(seed);
    const geo = geometry(n);
    const a = anyTransform(geo, rng);
    const b = anyTransform(geo, rng);
    const c = anyTransform(geo, rng);
    const g = randomBoard(n, rng);
    assert.deepEqual([...applyTransform(g, composeTransforms(a, b))], [...applyTransform(applyTransform(g, a), b)]);
    assert.ok(transformsEqual(composeTransforms(composeTransforms(a, b), c), composeTransforms(a, composeTransforms(b, c))));
    assert.ok(transformsEqual(invertTransform(composeTransforms(a, b)), composeTransforms(invertTransform(b), invertTransform(a))));
    if (isValidTransform(a, geo) && isValidTransform(b, geo)) assert.ok(isValidTransform(composeTransforms(a, b), geo));
  }), RUNS);
});

test('symmetry: random transforms are valid, map solutions to solutions, and are deterministic per seed', () => {
  fc.assert(fc.property(fc.integer(), sizeArb, (seed, n) => {
    const geo = geometry(n);
    const t = randomTransform(geo, new Rng(seed));
    assert.ok(isValidTransform(t, geo));
    assert.ok(isValidTransform(invertTransform(t), geo));
    assert.ok(transformsEqual(t, randomTransform(geo, new Rng(seed))));
    const sol = randomSolvedGrid(geo, new Rng(seed ^ 0x55));
    assert.ok(isValidSolution(applyTransform(sol, t), geo));
  }), RUNS);
});

test('symmetry: the solver solves a transformed puzzle to the transformed solution', () => {
  fc.assert(fc.property(fc.integer(), sizeArb, (seed, n) => {
    const geo = geometry(n);
    const [p] = generatePuzzles({ n, seed }, 1);
    const t = randomTransform(geo, new Rng(seed + 1));
    const r = solve(applyTransform(p.puzzle, t), geo);
    assert.equal(r.solutions, 1);
    assert.deepEqual([...r.solution ?? []], [...applyTransform(p.solution, t)]);
    assert.deepEqual([...mapBack(r.solution ?? [], t)], [...p.solution]);
  }), { numRuns: 60, seed: 4321 });
});

test('symmetry: cyclic shift p = 0..n-1 and its inverse', () => {
  for (const n of [4, 6, 9] as const) {
    const geo = geometry(n);
    const g = randomBoard(n, new Rng(n));
    for (let p = 0; p < n; p++) {
      const t = cyclicShift(n, p);
      assert.ok(isValidTransform(t, geo));
      for (let d = 1; d <= n; d++) assert.equal(t.digitMap[d], ((d - 1 + p) % n) + 1);
      assert.equal(t.digitMap[0], 0);
      // Token form from the reference code: t -> ((t-2+p) mod n) + 2 for digit tokens, blank token unchanged.
      const shifted = applyTransform(g, t);
      for (let i = 0; i < g.length; i++) {
        const tok = g[i] + 1;
        assert.equal(shifted[i] + 1, tok >= 2 ? ((tok - 2 + p) % n) + 2 : tok);
      }
      assert.ok(transformsEqual(invertTransform(t), cyclicShift(n, (n - p) % n)));
      assert.ok(transformsEqual(invertTransform(t), cyclicShift(n, -p)));
      assert.deepEqual([...mapBack(shifted, t)], [...g]);
      for (let q = 0; q < n; q++) assert.ok(transformsEqual(composeTransforms(t, cyclicShift(n, q)), cyclicShift(n, p + q)));
    }
    assert.ok(transformsEqual(cyclicShift(n, 0), identityTransform(n)));
    assert.ok(transformsEqual(cyclicShift(n, n), identityTransform(n)));
  }
});

test('symmetry: transpose is rejected for 6×6 and drawn with p ≈ 0.5 for 4×4 / 9×9', () => {
  const g6 = geometry(6);
  assert.throws(() => transposeTransform(6), /not a symmetry of 6×6/);
  assert.throws(() => makeTransform(6, { transpose: true }), /not a symmetry of 6×6/);
  assert.throws(() => randomTransform(g6, new Rng(1), { transpose: true }), /not a symmetry of 6×6/);
  const forged: SudokuTransform = { ...identityTransform(6), transpose: true };
  assert.throws(() => applyTransform(new Int8Array(36), forged), /not a symmetry of 6×6/);
  assert.equal(isValidTransform(forged, g6), false);
  const rng = new Rng(2);
  for (let i = 0; i < 100; i++) assert.equal(randomTransform(g6, rng).transpose, false);
  for (const n of [4, 9] as const) {
    const t = transposeTransform(n);
    assert.ok(isValidTransform(t, geometry(n)));
    const g = randomBoard(n, rng);
    const tg = applyTransform(g, t);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) assert.equal(tg[r * n + c], g[c * n + r]);
    let k = 0;
    for (let i = 0; i < 400; i++) if (randomTransform(geometry(n), rng).transpose) k++;
    assert.ok(k > 140 && k < 260, `transposed ${k}/400`);
    assert.equal(randomTransform(geometry(n), rng, { transpose: false }).transpose, false);
  }
});

test('symmetry: options switch parts off; all off is the identity', () => {
  const geo = geometry(9);
  const rng = new Rng(3);
  const off = { digits: false, transpose: false, bands: false, rowsInBands: false, stacks: false, colsInStacks: false };
  assert.ok(transformsEqual(randomTransform(geo, rng, off), identityTransform(9)));
  const onlyDigits = randomTransform(geo, rng, { ...off, digits: true });
  assert.deepEqual([...onlyDigits.rowPerm], [...identityTransform(9).rowPerm]);
  assert.deepEqual([...onlyDigits.colPerm], [...identityTransform(9).colPerm]);
  assert.equal(onlyDigits.transpose, false);
  const onlyBands = randomTransform(geo, rng, { ...off, bands: true });
  for (let i = 0; i < 9; i++) assert.equal(onlyBands.rowPerm[i] % 3, i % 3); // rows keep their place in the band
  assert.deepEqual([...onlyBands.digitMap], [...identityTransform(9).digitMap]);
  const onlyRows = randomTransform(geo, rng, { ...off, rowsInBands: true });
  for (let i = 0; i < 9; i++) assert.equal(Math.floor(onlyRows.rowPerm[i] / 3), Math.floor(i / 3)); // bands stay
  const g6 = geometry(6);
  const cols6 = randomTransform(g6, rng, { ...off, colsInStacks: true });
  for (let j = 0; j < 6; j++) assert.equal(Math.floor(cols6.colPerm[j] / 3), Math.floor(j / 3));
});

test('symmetry: band / stack / within-band / within-stack helpers and validity checks', () => {
  const g9 = geometry(9);
  assert.deepEqual([...bandPermutation(g9, [1, 0, 2]).rowPerm], [3, 4, 5, 0, 1, 2, 6, 7, 8]);
  assert.deepEqual([...stackPermutation(g9, [2, 0, 1]).colPerm], [6, 7, 8, 0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...rowsWithinBand(g9, 1, [2, 0, 1]).rowPerm], [0, 1, 2, 5, 3, 4, 6, 7, 8]);
  assert.deepEqual([...colsWithinStack(g9, 2, [1, 0, 2]).colPerm], [0, 1, 2, 3, 4, 5, 7, 6, 8]);
  const g6 = geometry(6); // 3 bands of 2 rows, 2 stacks of 3 columns
  assert.deepEqual([...bandPermutation(g6, [2, 0, 1]).rowPerm], [4, 5, 0, 1, 2, 3]);
  assert.deepEqual([...stackPermutation(g6, [1, 0]).colPerm], [3, 4, 5, 0, 1, 2]);
  assert.deepEqual([...rowsWithinBand(g6, 2, [1, 0]).rowPerm], [0, 1, 2, 3, 5, 4]);
  assert.deepEqual([...colsWithinStack(g6, 0, [2, 1, 0]).colPerm], [2, 1, 0, 3, 4, 5]);
  for (const t of [bandPermutation(g6, [2, 0, 1]), stackPermutation(g6, [1, 0]), rowsWithinBand(g6, 2, [1, 0])]) {
    assert.ok(isValidTransform(t, g6));
  }
  assert.throws(() => bandPermutation(g9, [0, 0, 1]), /permutation/);
  assert.throws(() => rowsWithinBand(g9, 3, [0, 1, 2]), /band/);
  // Invalid: rows crossing bands; stacks of 6×6 split; wrong size; digit map touching blank.
  const cross = makeTransform(9, { rowPerm: [0, 1, 3, 2, 4, 5, 6, 7, 8] });
  assert.equal(isValidTransform(cross, g9), false);
  assert.equal(isValidSolution(applyTransform(randomSolvedGrid(g9, new Rng(1)), cross), g9), false);
  assert.equal(isValidTransform(makeTransform(6, { colPerm: [0, 1, 3, 2, 4, 5] }), g6), false);
  assert.equal(isValidTransform(makeTransform(6, { rowPerm: [2, 3, 0, 1, 4, 5] }), g6), true);
  assert.equal(isValidTransform(makeTransform(6, { rowPerm: [1, 2, 0, 3, 4, 5] }), g6), false);
  assert.equal(isValidTransform(identityTransform(4), g9), false);
  const badDigits: SudokuTransform = { ...identityTransform(4), digitMap: Int8Array.of(1, 0, 2, 3, 4) };
  assert.equal(isValidTransform(badDigits, geometry(4)), false);
  assert.throws(() => makeTransform(4, { digitMap: [1, 0, 2, 3, 4] }), /digitMap/);
  assert.throws(() => relabeling(4, [1, 1, 2, 3]), /permutation of 1..4/);
  assert.deepEqual([...relabeling(4, [2, 3, 4, 1]).digitMap], [0, 2, 3, 4, 1]);
  assert.throws(() => applyTransform(new Int8Array(80), identityTransform(9)), /expected 81 cells/);
  assert.throws(() => applyTransform(Int8Array.of(5, ...new Array<number>(15).fill(0)), identityTransform(4)), /holds 5/);
  assert.throws(() => composeTransforms(identityTransform(4), identityTransform(9)), /sizes differ/);
});
