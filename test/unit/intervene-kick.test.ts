// Kicks on maps whose dynamics are known in closed form (test/unit/helpers/linear-maps.ts): every kick's return or
// escape is predicted from A and compared with the engine's count per ε, escape grids included; a contraction comes
// back from every kick below the size at which its deviation can no longer flip an argmax; an expansion escapes.
// Then the shipped tiny-4x4 model: deterministic, batched, progress and cancellation, no leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { type LinearMap, linearMap } from './helpers/linear-maps';
import { BASIN_LEVEL, kickSteps, principalDirections, randomDirections } from '../../engine/intervene/kick';
import { runTrajectories, stateAt } from '../../engine/intervene/trajectory';
import { hrmMap } from '../../engine/intervene/recurrent-map';
import { gridToString } from '../../engine/sudoku/geometry';
import { runSteps, runStepsAsync } from '../../engine/util/steps';
import type { KickResult } from '../../engine/intervene/intervene-protocol';
import { useShippedModel } from './helpers/shipped-model';
import { grid } from './helpers/grids';

const model = useShippedModel();

const SOLUTION = grid('1234341221434321');
const PUZZLE = grid('1.3.3..2.1.3.32.');
const D = 6;
const P = 16;

/** A^m (row-major 6×6, float64). */
function power(a: Float32Array, m: number): Float64Array {
  let out = new Float64Array(D * D);
  for (let i = 0; i < D; i++) out[i * D + i] = 1;
  for (let s = 0; s < m; s++) {
    const next = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) { let v = 0; for (let k = 0; k < D; k++) v += out[i * D + k] * a[k * D + j]; next[i * D + j] = v; }
    out = next;
  }
  return out;
}

/**
 * The decoded grid after m segments from z_H = z (float64 closed form: z_m = T + (z − T)(Aᵀ)^m per position), and the
 * smallest gap between a cell's best and second-best digit logit (how far the prediction is from a tie).
 */
function predict(lm: LinearMap, am: Float64Array, z: ArrayLike<number>): { grid: string; gap: number } {
  let g = '';
  let gap = Infinity;
  for (let p = 0; p < P; p++) {
    const logits: number[] = [];
    for (let i = 0; i < D; i++) {
      let v = lm.target[p * D + i];
      for (let j = 0; j < D; j++) v += am[i * D + j] * (z[p * D + j] - lm.target[p * D + j]);
      logits.push(v);
    }
    const digits = logits.slice(2).map((v, d) => ({ v, d: d + 1 })).sort((x, y) => y.v - x.v || x.d - y.d);
    g += String(digits[0].d);
    gap = Math.min(gap, digits[0].v - digits[1].v);
  }
  return { grid: g, gap };
}

/** Runs the kicks and predicts every kick in closed form; returns both, checked to be far from argmax ties. */
function kickAndPredict(lm: LinearMap, o: { segments: number; runOn: number; epsilons: number[]; directions: number; pcs: number; seed: number }) {
  const r = runSteps(kickSteps(lm.map, PUZZLE, { ...o, part: 'zH', solution: SOLUTION }));
  const own = runTrajectories(lm.map, [PUZZLE], { segments: o.segments, keep: 'all' });
  const z = stateAt(own, 0, o.segments).zH;
  const norm = Math.hypot(...z);
  assert.ok(Math.abs(r.stateNorm - norm) < 1e-9 * norm);
  const dirs = [...randomDirections(z.length, o.directions, o.seed),
    ...principalDirections(Array.from({ length: o.segments }, (_, k) => stateAt(own, 0, k + 1).zH), o.pcs)];
  const am = power(lm.a, o.runOn);
  const reference = predict(lm, am, z).grid;
  let minGap = Infinity;
  const predicted = o.epsilons.map((eps) => dirs.map((u) => {
    // The kicked state as the engine builds it: float32 z plus the float64 kick, rounded to float32.
    const kicked = Float32Array.from(z, (v, i) => v + eps * norm * u[i]);
    const p = predict(lm, am, kicked);
    minGap = Math.min(minGap, p.gap);
    return p.grid;
  }));
  assert.ok(minGap > 1e-3, `a predicted logit gap of ${minGap} is too close to a tie for float32`);
  return { r, predicted, reference, norm, z };
}

/** The engine's curve must equal the closed-form count of every kick, and its escapes the predicted grids. */
function assertAsPredicted(r: KickResult, predicted: string[][], reference: string, directions: number): void {
  predicted.forEach((grids, e) => {
    const point = r.curve[e];
    const back = grids.map((g) => g === reference);
    assert.equal(point.random.returned, back.slice(0, directions).filter(Boolean).length, `ε ${point.epsilon}: random returns`);
    assert.equal(point.principal.returned, back.slice(directions).filter(Boolean).length, `ε ${point.epsilon}: principal returns`);
    const escapes = new Map<string, number>();
    for (const g of grids) if (g !== reference) escapes.set(g, (escapes.get(g) ?? 0) + 1);
    assert.deepEqual(new Map(point.escapes.map((x) => [x.grid, x.count])), escapes, `ε ${point.epsilon}: escapes`);
    for (const x of point.escapes) assert.equal(x.exact, x.grid === gridToString(SOLUTION));
  });
}

test('kick: a contraction comes back from every kick too small to flip an argmax, each kick as predicted from A', () => {
  const lm = linearMap({ r: 0.9, theta: 0.6, real: [0.7, 0.5, -0.4, 0.2], c: 0.3, solution: SOLUTION, start: 0.05 });
  try {
    const before = tf.memory().numTensors;
    const o = { segments: 16, runOn: 16, epsilons: [0.05, 0.2, 0.5, 0.9, 2, 4, 8], directions: 12, pcs: 2, seed: 3 };
    const { r, predicted, reference, norm, z } = kickAndPredict(lm, o);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(reference, gridToString(SOLUTION));
    assert.equal(r.outcome.grid, gridToString(SOLUTION));
    assert.equal(r.outcome.exact, true);
    assertAsPredicted(r, predicted, reference, o.directions);
    // A is normal (Q · blockdiag · Qᵀ), so ‖A^m‖₂ = ρ^m: a cell's logits move by at most ρ^m (‖(z − T)_p‖ + ε‖z‖), and
    // the target digit (height 4) keeps the argmax while that is below 4/√2.
    let offset = 0;
    for (let p = 0; p < P; p++) offset = Math.max(offset, Math.hypot(...Array.from({ length: D }, (_, i) => z[p * D + i] - lm.target[p * D + i])));
    const safe = (4 / Math.SQRT2 / lm.spectralRadius ** o.runOn - offset) / norm;
    const inside = r.curve.filter((p) => p.epsilon <= safe);
    assert.ok(inside.length >= 3, `the safe size ${safe} covers too little of the sweep`);
    for (const p of inside) {
      assert.equal(p.random.returned, p.random.total, `ε ${p.epsilon} ≤ ${safe}`);
      assert.equal(p.principal.returned, p.principal.total, `ε ${p.epsilon} ≤ ${safe}`);
      assert.deepEqual(p.escapes, []);
    }
    // Large kicks do escape, and the basin radius is where the returns drop below the basin level.
    assert.ok(r.curve[r.curve.length - 1].escapes.length > 0);
    assert.equal(r.basinLevel, BASIN_LEVEL);
    const level = r.curve.map((p) => (p.random.returned + p.principal.returned) / (p.random.total + p.principal.total) >= BASIN_LEVEL);
    const first = level.indexOf(false);
    assert.equal(r.basinRadius, first === 0 ? null : o.epsilons[(first < 0 ? level.length : first) - 1]);
    assert.ok(r.basinRadius !== null && r.basinRadius >= inside[inside.length - 1].epsilon);
  } finally {
    lm.dispose();
  }
});

test('kick: an expansion (a real eigenvalue 1.5) escapes as predicted from A', () => {
  const lm = linearMap({ r: 0.6, theta: 1.1, real: [1.5, 0.5, -0.4, 0.2], c: 0.3, solution: SOLUTION, start: 0 });
  try {
    const o = { segments: 4, runOn: 12, epsilons: [1e-4, 1e-3, 0.01, 0.05, 0.2], directions: 16, pcs: 1, seed: 11 };
    const { r, predicted, reference } = kickAndPredict(lm, o);
    // Started at the fixed point, the unkicked run stays there exactly.
    assert.equal(reference, gridToString(SOLUTION));
    assert.equal(r.outcome.grid, reference);
    assertAsPredicted(r, predicted, reference, o.directions);
    // 1.5^12 ≈ 130: the smallest kicks come back, the larger ones mostly escape.
    const returned = r.curve.map((p) => p.random.returned + p.principal.returned);
    assert.equal(returned[0], 18);
    assert.ok(returned[returned.length - 1] < 18 / 2, `returns per ε: ${returned}`);
    assert.ok(r.basinRadius !== null && r.basinRadius < 0.2);
  } finally {
    lm.dispose();
  }
});

test('kick: on the shipped model, deterministic for a seed, every ε in one batch or many, nothing leaked', () => {
  const map = hrmMap(model());
  const puzzle = grid('.1.....3..32....');
  const o = { epsilons: [0.01, 0.5, 3], directions: 4, pcs: 1, seed: 5 };
  const before = tf.memory().numTensors;
  const a = runSteps(kickSteps(map, puzzle, o));
  const b = runSteps(kickSteps(map, puzzle, { ...o, batch: 3 }));
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(a.curve, b.curve);
  assert.equal(a.outcome.grid, '3124421314322341');
  assert.equal(a.curve.length, 3);
  assert.deepEqual(a.curve.map((p) => p.random.total + p.principal.total), [6, 6, 6]);
  assert.equal(a.curve[0].random.returned + a.curve[0].principal.returned, 6, 'a 1% kick comes back');
  const own = runTrajectories(map, [puzzle], { segments: map.segments, keep: [map.segments] });
  const end = stateAt(own, 0, map.segments);
  assert.ok(Math.abs(a.stateNorm - Math.hypot(...end.zH, ...end.zL)) < 1e-6 * a.stateNorm);
  assert.match(a.text, /basin radius/);
  // Another seed gives other random directions.
  const c = runSteps(kickSteps(map, puzzle, { ...o, seed: 6, epsilons: [3] }));
  assert.equal(c.curve.length, 1);
});

test('kick: progress events and cancellation', async () => {
  const map = hrmMap(model());
  const puzzle = grid('.1.....3..32....');
  const before = tf.memory().numTensors;
  const events: [number, number][] = [];
  await runStepsAsync(kickSteps(map, puzzle, { epsilons: [0.1], directions: 2, pcs: 0, runOn: 2, onProgress: (d, t) => events.push([d, t]) }), undefined, 'kick');
  assert.ok(events.length >= 2);
  const total = events[0][1];
  assert.equal(total, map.segments + 3 * 2);
  assert.deepEqual(events[events.length - 1], [total, total]);
  for (let i = 1; i < events.length; i++) assert.ok(events[i][0] >= events[i - 1][0]);
  const ctl = new AbortController();
  await assert.rejects(runStepsAsync(kickSteps(map, puzzle, {
    epsilons: [0.1, 0.2], directions: 8, signal: ctl.signal, onProgress: (d) => { if (d >= 2) ctl.abort(); },
  }), ctl.signal, 'kick'), (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
});
