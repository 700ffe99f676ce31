// Votes: the oracle (label-dependent) majority-of-halted rule with OR across checkpoints, and the label-free plurality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logitsFromGrid } from '../../engine/analysis/decode';
import { geometry } from '../../engine/sudoku/geometry';
import { conflictEnergy } from '../../engine/sudoku/energy';
import { applyTransform, cyclicShift } from '../../engine/sudoku/symmetry';
import {
  type Pass, labelFreeCellVote, labelFreeSolved, labelFreeVote, makePass, oracleCheckpointVote, oracleSolved, passFromTrace,
} from '../../engine/ensemble/votes';

const S = Int8Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]);
const W1 = Int8Array.from(S, (d, i) => (i === 0 ? 2 : i === 2 ? 4 : d)); // E = 6
const W2 = Int8Array.from(S, (d, i) => (i === 15 ? 4 : d)); // E = 3
const geo = geometry(4);

function pass(answer: Int8Array, halted = true, qHalt = 1, energy?: number): Pass {
  return { answer, halted, qHalt, energy: energy ?? conflictEnergy(answer, geo) };
}

test('votes (oracle): a checkpoint solves iff 2·#(halted ∧ exact) > #halted', () => {
  assert.deepEqual(oracleCheckpointVote([pass(S), pass(S), pass(W1)], S), { solved: true, passes: 3, halted: 3, haltedExact: 2 });
  assert.equal(oracleCheckpointVote([pass(S), pass(W1)], S).solved, false); // tie → unsolved
  assert.equal(oracleCheckpointVote([pass(S, false), pass(S, false)], S).solved, false); // none halted → unsolved
  assert.equal(oracleCheckpointVote([], S).solved, false);
  // non-halted passes are discarded, right or wrong
  assert.equal(oracleCheckpointVote([pass(S), pass(W1, false), pass(W1, false), pass(W2, false)], S).solved, true);
  assert.equal(oracleCheckpointVote([pass(W1), pass(S, false), pass(S, false)], S).solved, false);
  assert.equal(oracleCheckpointVote([pass(S), pass(S), pass(W1), pass(W2)], S).solved, false); // 4 > 4 fails
});

test('votes (oracle): OR across checkpoints', () => {
  assert.equal(oracleSolved([[pass(W1)], [pass(S)]], S), true);
  assert.equal(oracleSolved([[pass(W1)], [pass(S, false)]], S), false);
  assert.equal(oracleSolved([], S), false);
});

test('votes (label-free): plurality over halted passes; all passes when none halted; none → null', () => {
  const v = labelFreeVote([pass(W1), pass(S), pass(W1), pass(S, false), pass(S, false)]);
  assert.deepEqual([...(v.answer ?? [])], [...W1]);
  assert.equal(v.votes, 2);
  assert.equal(v.pool, 'halted');
  assert.equal(v.poolSize, 3);
  assert.equal(v.distinctAnswers, 2);
  const all = labelFreeVote([pass(W1, false), pass(S, false), pass(S, false)]);
  assert.equal(all.pool, 'all');
  assert.deepEqual([...(all.answer ?? [])], [...S]);
  const none = labelFreeVote([]);
  assert.equal(none.answer, null);
  assert.equal(none.votes, 0);
  assert.equal(labelFreeSolved([pass(S, false)], S), true);
  assert.equal(labelFreeSolved([], S), false);
});

test('votes (label-free): ties → lower E, then higher q_halt, then the smaller answer string', () => {
  // E decides: W2 (E 3) beats W1 (E 6) whatever the order
  assert.deepEqual([...(labelFreeVote([pass(W1), pass(W2)]).answer ?? [])], [...W2]);
  assert.deepEqual([...(labelFreeVote([pass(W2), pass(W1)]).answer ?? [])], [...W2]);
  // same E: q_halt decides (the group's maximum)
  assert.deepEqual([...(labelFreeVote([pass(W1, true, 1, 5), pass(W2, true, 2, 5), pass(W1, true, 3, 5), pass(W2, true, 0, 5)]).answer ?? [])], [...W1]);
  // same E and q_halt: lexicographic order of the digit strings ("1234…" < "2244…")
  assert.deepEqual([...(labelFreeVote([pass(W1, true, 1, 0), pass(S, true, 1, 0)]).answer ?? [])], [...S]);
  assert.deepEqual([...(labelFreeVote([pass(S, true, 1, 0), pass(W1, true, 1, 0)]).answer ?? [])], [...S]);
  // a blank (0) sorts before digits
  const blank = Int8Array.from(S, (d, i) => (i === 1 ? 0 : d));
  assert.deepEqual([...(labelFreeVote([pass(S, true, 1, 0), pass(blank, true, 1, 0)]).answer ?? [])], [...blank]);
});

test('votes (label-free, per cell): each cell takes its most frequent digit; ties by pass rank', () => {
  const a = Int8Array.from(S, (d, i) => (i === 0 ? 4 : d));
  const b = Int8Array.from(S, (d, i) => (i === 5 ? 1 : d));
  // cell 0: S,b say 1, a says 4 → 1; cell 5: S,a say 4, b says 1 → 4 → the cell vote recovers S
  const v = labelFreeCellVote([pass(a), pass(b), pass(S), pass(W1, false)]);
  assert.deepEqual([...(v.answer ?? [])], [...S]);
  assert.equal(v.pool, 'halted');
  assert.equal(v.poolSize, 3);
  assert.equal(v.votesPerCell[0], 2);
  assert.equal(v.votesPerCell[3], 3);
  // tie on every differing cell: pass rank decides (lower E first; then higher q_halt; then pass order)
  const t1 = labelFreeCellVote([pass(W1, true, 1, 6), pass(W2, true, 1, 3)]);
  assert.deepEqual([...(t1.answer ?? [])], [...W2]);
  const t2 = labelFreeCellVote([pass(W1, true, 1, 0), pass(W2, true, 5, 0)]);
  assert.deepEqual([...(t2.answer ?? [])], [...W2]);
  const t3 = labelFreeCellVote([pass(W1, true, 1, 0), pass(W2, true, 1, 0)]);
  assert.deepEqual([...(t3.answer ?? [])], [...W1]);
  assert.equal(labelFreeCellVote([]).answer, null);
});

test('votes: makePass maps a relabelled prediction back and reads the halt flag at the last segment', () => {
  const t = cyclicShift(4, 3);
  const predicted = applyTransform(S, t); // the model answered the shifted puzzle correctly
  const p = makePass({ logits: logitsFromGrid(predicted, 4), qHalt: 2, qContinue: 1 }, 4, t);
  assert.deepEqual([...p.answer], [...S]);
  assert.equal(p.halted, true);
  assert.equal(p.energy, 0);
  assert.equal(p.qHalt, 2);
  const q = makePass({ logits: logitsFromGrid(W1, 4), qHalt: 1, qContinue: 1 }, 4);
  assert.equal(q.halted, false);
  assert.equal(q.energy, 6);
  const fromTrace = passFromTrace({
    n: 4, puzzle: new Int8Array(16),
    segments: [{ logits: logitsFromGrid(W1, 4), qHalt: 0, qContinue: 1 }, { logits: logitsFromGrid(predicted, 4), qHalt: 3, qContinue: 0 }],
  }, t);
  assert.deepEqual([...fromTrace.answer], [...S]);
  assert.equal(fromTrace.halted, true);
  assert.throws(() => passFromTrace({ n: 4, puzzle: new Int8Array(16), segments: [] }), /no segments/);
});
