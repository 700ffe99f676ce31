// Trajectories of the one-segment map on the shipped tiny-4x4 model: hrmMap's step reproduces the recorded trace
// (runSegment) bit for bit, runs of different lengths and start states share one batch without changing any row, and
// the outcome of a run is what the trace metrics say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { hrmMap } from '../../engine/intervene/recurrent-map';
import { finalGrid, gridAt, runTrajectories, stateAt } from '../../engine/intervene/trajectory';
import { interventionOutcome, uniqueSolution } from '../../engine/intervene/outcome';
import { captureTraces } from '../../engine/analysis/capture-trace';
import { gridToString } from '../../engine/sudoku/geometry';
import { useShippedModel } from './helpers/shipped-model';
import { grid } from './helpers/grids';

const model = useShippedModel();

const PUZZLES = ['.1.....3..32....', '1..4....2..1...3', '..3.4.....1..2..'].map((t) => grid(t));

/** Argmax over the digit tokens 2..n+1 of row-major [cell][vocab] logits, as digits 1..n. */
function digitArgmax(logits: Float32Array, n: number): Int8Array {
  const V = n + 2;
  const out = new Int8Array(logits.length / V);
  for (let c = 0; c < out.length; c++) {
    let best = 2;
    for (let v = 3; v < V; v++) if (logits[c * V + v] > logits[c * V + best]) best = v;
    out[c] = best - 1;
  }
  return out;
}

test('trajectory: hrmMap step reproduces runSegment bit for bit (states, logits, decoded grids)', () => {
  const m = model();
  const map = hrmMap(m);
  const S = m.config.haltMaxSteps + 2;
  const before = tf.memory().numTensors;
  const t = runTrajectories(map, PUZZLES, { segments: S, keep: 'all' });
  assert.equal(tf.memory().numTensors, before);
  const traces = captureTraces(m, PUZZLES.map((puzzle) => ({ puzzle })), { segments: S });
  for (let r = 0; r < PUZZLES.length; r++) {
    for (let k = 1; k <= S; k++) {
      const rec = traces[r].segments[k - 1];
      const st = stateAt(t, r, k);
      assert.deepEqual(st.zH, rec.zH, `z_H row ${r} segment ${k}`);
      assert.deepEqual(st.zL, rec.zL, `z_L row ${r} segment ${k}`);
      const logits = tf.tidy(() => map.readout(tf.tensor3d(st.zH, [1, map.positions, map.hidden])).dataSync() as Float32Array);
      let worst = 0;
      for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - rec.logits[i]));
      assert.ok(worst <= 1e-6, `logits row ${r} segment ${k}: max difference ${worst}`);
      assert.deepEqual(gridAt(t, r, k), digitArgmax(rec.logits, 4));
    }
  }
});

test('trajectory: rows of different lengths, start states and batch sizes do not change a row', () => {
  const map = hrmMap(model());
  const before = tf.memory().numTensors;
  const full = runTrajectories(map, PUZZLES, { segments: 6, keep: [2, 6] });
  // Restarting from the state after segment 2 for 4 more segments ends where the full run ends.
  const from = {
    rows: 3,
    zH: Float32Array.from(PUZZLES.flatMap((_, r) => [...stateAt(full, r, 2).zH])),
    zL: Float32Array.from(PUZZLES.flatMap((_, r) => [...stateAt(full, r, 2).zL])),
  };
  const rest = runTrajectories(map, PUZZLES, { segments: 4, from, keep: [4], batch: 2 });
  for (let r = 0; r < 3; r++) {
    assert.deepEqual(stateAt(rest, r, 4).zH, stateAt(full, r, 6).zH);
    assert.deepEqual(finalGrid(rest, r), finalGrid(full, r));
  }
  // Different lengths in one batch: each row equals its prefix of the full run.
  const mixed = runTrajectories(map, PUZZLES, { segments: [3, 6, 1], keep: 'all', batch: 2 });
  assert.deepEqual(mixed.segments, [3, 6, 1]);
  for (const [r, S] of [[0, 3], [1, 6], [2, 1]]) {
    assert.deepEqual(mixed.grids[r], full.grids[r].subarray(0, S * 16));
    assert.equal(mixed.states[r].size, S);
  }
  assert.deepEqual(stateAt(mixed, 1, 6).zH, stateAt(full, 1, 6).zH);
  assert.equal(tf.memory().numTensors, before);
});

test('trajectory: the outcome of a run follows the trace metrics', () => {
  const map = hrmMap(model());
  const puzzle = PUZZLES[0];
  const solution = uniqueSolution(puzzle, 4);
  assert.ok(solution);
  assert.equal(gridToString(solution), '3124421314322341');
  const t = runTrajectories(map, [puzzle], { segments: 4 });
  const o = interventionOutcome(4, puzzle, solution, t.grids[0]);
  assert.equal(o.grid, gridToString(finalGrid(t, 0)));
  assert.equal(o.exactBySegment.length, 4);
  assert.equal(o.exact, o.grid === '3124421314322341');
  assert.equal(o.wrongCells, [...o.grid].filter((d, i) => d !== '3124421314322341'[i]).length);
  if (o.exact) {
    assert.equal(o.energy, 0);
    assert.ok(o.segmentsToExact !== null && o.exactBySegment.slice(o.segmentsToExact - 1).every((e) => e === true));
    assert.ok(o.mode === 'trivial-success' || o.mode === 'non-trivial-success');
  }
  // Without a solution: exact and wrong cells are unknown, the mode is still given.
  const none = interventionOutcome(4, puzzle, undefined, t.grids[0]);
  assert.equal(none.exact, null);
  assert.equal(none.wrongCells, null);
  assert.ok(none.exactBySegment.every((e) => e === null));
  assert.equal(none.mode, o.mode);
});
