// The error landscape on the shipped tiny-4x4 model: shapes and the grid layout, the centre point reproduces the
// trace (height = E of the last segment's output, its flow arrow = one more segment of the real run), batched results
// do not depend on the batch size, basins are labelled, progress / cancellation, and no leaked tensors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { loadModel } from '../../engine/train/load-model';
import type { HrmModel } from '../../engine/model';
import { parseGrid, type Grid } from '../../engine/sudoku/geometry';
import { captureTraces } from '../../engine/analysis/capture-trace';
import { fitPcaBasis, zHTrajectory } from '../../engine/analysis/pca';
import { computeLandscape, landscapeToJson } from '../../engine/analysis/landscape';

const checkpoint = path.resolve(__dirname, '..', '..', 'models', 'tiny-4x4.safetensors');
let model: HrmModel;
let puzzle: Grid;

before(async () => {
  await selectBackend({ backend: 'wasm' });
  model = (await loadModel(checkpoint)).model;
  const p = parseGrid('.1.....3..32....', 4);
  if ('error' in p) throw new Error(p.error);
  puzzle = p.grid;
});

after(() => model.dispose());

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

test('landscape: layout, centre = last segment, centre arrow = one more segment of the real run', () => {
  const before = tf.memory().numTensors;
  const l = computeLandscape(model, puzzle, { size: 7 });
  assert.equal(tf.memory().numTensors, before);
  const { totalLen, cells } = model.dims;
  const dim = totalLen * model.config.hidden;
  assert.equal(l.size, 7);
  assert.equal(l.radius, 3);
  assert.ok(Math.abs(l.step - Math.sqrt(dim) / 8) < 1e-12);
  assert.equal(l.heights.length, 49);
  assert.equal(l.flow.length, 98);
  assert.equal(l.trajectory.length, 2 * model.config.haltMaxSteps * model.config.H_cycles);
  assert.equal(l.solution, '3124421314322341');
  const centre = 3 * 7 + 3;
  assert.equal(l.heights[centre], l.centreEnergy);
  // The last trajectory point is the centre itself.
  const lastEnd = l.segmentEnds[l.segmentEnds.length - 1];
  assert.ok(Math.abs(l.trajectory[2 * lastEnd]) < 1e-9 && Math.abs(l.trajectory[2 * lastEnd + 1]) < 1e-9);
  // At (0, 0) the state is exactly the carry after segment S (z_L included), so its arrow is segment S+1 of the run.
  const S = model.config.haltMaxSteps;
  const [tr] = captureTraces(model, [{ puzzle }], { segments: S + 1 });
  const basis = fitPcaBasis(zHTrajectory({ ...tr, segments: tr.segments.slice(0, S) }), { components: 2 });
  const c = tr.segments[S - 1].zH as Float32Array;
  const next = tr.segments[S].zH as Float32Array;
  const d = Float64Array.from(next, (x, i) => x - c[i]);
  assert.ok(Math.abs(l.flow[2 * centre] - dot(d, basis.components[0]) / l.step) < 1e-3);
  assert.ok(Math.abs(l.flow[2 * centre + 1] - dot(d, basis.components[1]) / l.step) < 1e-3);
  assert.ok(cells === 16);
  const json = JSON.parse(landscapeToJson(l)) as { heights: number[] };
  assert.equal(json.heights.length, 49);
});

test('landscape: batch size does not change heights, arrows or basin labels', () => {
  const before = tf.memory().numTensors;
  const opts = { size: 9, basins: { maxSegments: 8, patience: 2 } };
  const a = computeLandscape(model, puzzle, { ...opts, batch: 7 });
  const b = computeLandscape(model, puzzle, { ...opts, batch: 128 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual([...a.heights], [...b.heights]);
  for (let i = 0; i < a.flow.length; i++) assert.ok(Math.abs(a.flow[i] - b.flow[i]) < 1e-4, `flow[${i}] ${a.flow[i]} vs ${b.flow[i]}`);
  assert.ok(a.basins && b.basins);
  assert.deepEqual([...a.basins.labels], [...b.basins.labels]);
  // Labels are consistent with the attractor list; the centre (a solved state) is in the solution's basin.
  const counts = new Map<number, number>();
  for (const lab of a.basins.labels) counts.set(lab, (counts.get(lab) ?? 0) + 1);
  assert.ok(a.basins.attractors.length >= 1, 'at least the solution is an attractor');
  for (const at of a.basins.attractors) assert.equal(counts.get(at.label), at.points);
  assert.equal(counts.get(-1) ?? 0, a.basins.moving);
  assert.equal(a.centreGrid, a.solution);
  assert.equal(a.basins.labels[4 * 9 + 4], 0);
  assert.equal(a.basins.attractors[0].kind, 'solution');
  for (let k = 2; k < a.basins.attractors.length; k++) assert.ok(a.basins.attractors[k - 1].points >= a.basins.attractors[k].points);
});

test('landscape: progress events, cancellation, parameter checks', () => {
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  computeLandscape(model, puzzle, { size: 5, batch: 10, onProgress: (p) => { if (p.phase === 'grid') seen.push(p.done); } });
  assert.deepEqual(seen, [10, 20, 25]);
  const ctl = new AbortController();
  assert.throws(() => computeLandscape(model, puzzle, {
    size: 5, batch: 5, signal: ctl.signal, onProgress: (p) => { if (p.phase === 'grid' && p.done >= 10) ctl.abort(); },
  }), (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => computeLandscape(model, puzzle, { size: 4 }), /odd/);
  assert.throws(() => computeLandscape(model, puzzle, { size: 3, basis: fitPcaBasis([[1, 2], [3, 5]]) }), /dim/);
});
