// Activation patching. On a hand-built map with two stable fixed points (test/unit/helpers/two-fixed-point-map.ts)
// every patch point is predicted in closed form: which k still move the run to the donor's fixed point
// (rescuedUpTo) and from which k the receiver's own answer is sealed (inescapableFrom). On the shipped tiny-4x4
// model: a patch from the run's own trace changes nothing, a relabeled donor, a solved donor state from a latents
// file (safetensors, .npy files, a folder) ends at the donor's grid, hostile latents files are refused naming the
// file and tensor; another checkpoint of the same shape (hard-6x6 ← paper-6x6) and of another shape; progress,
// cancellation and no leaked tensors over 100 interventions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { tf } from '../../engine/tf';
import { hrmMap } from '../../engine/intervene/recurrent-map';
import { patchSteps } from '../../engine/intervene/patch';
import { kickSteps } from '../../engine/intervene/kick';
import { patchRun } from '../../engine/intervene/patch-kick-engine';
import { readLatentsState } from '../../engine/intervene/latents-source';
import { finalGrid, openMap, runTrajectories } from '../../engine/intervene/trajectory';
import { captureTraces } from '../../engine/analysis/capture-trace';
import { withLatentsExport } from '../../engine/analysis/latents-export';
import { gridToString } from '../../engine/sudoku/geometry';
import { applyTransform, mapBack, relabeling } from '../../engine/sudoku/symmetry';
import { runSteps } from '../../engine/util/steps';
import { DataError } from '../../engine/util/errors';
import type { HrmModel } from '../../engine/model';
import { MINUS, PLUS, twoFixedPointMap } from './helpers/two-fixed-point-map';
import { SHIPPED_CHECKPOINT, shippedFile, useShippedModel } from './helpers/shipped-model';
import { useTempDir } from './helpers/temp-dir';
import { grid } from './helpers/grids';

const model = useShippedModel();
const HARD = shippedFile('hard-6x6');
const PAPER = shippedFile('paper-6x6');
const dir = useTempDir('hrm-patch-');

/** Cell 0 is not 1: drive −weak (ends at MINUS). */
const WEAK = grid('.2..3......3...1');
/** Cell 0 is 1: drive +strong (ends at PLUS). */
const STRONG = grid('12..3......3...1');
const TINY_PUZZLE = '.1.....3..32....';
const TINY_SOLUTION = '3124421314322341';

/** The latch of a run of drive x after k segments from 0: s(k) = clamp((2^{k+1} − k − 2)·x). */
const latch = (k: number, x: number): number => Math.max(-1, Math.min(1, (2 ** (k + 1) - k - 2) * x));

test('patch: replacing the drive z_L rescues the run up to the k predicted in closed form, then the receiver is sealed', () => {
  const tm = twoFixedPointMap({ plus: PLUS, minus: MINUS });
  try {
    const { strong: s, weak: w } = tm;
    const S = tm.map.segments;
    const before = tf.memory().numTensors;
    const r = runSteps(patchSteps(tm.map, { puzzle: WEAK, solution: PLUS }, { kind: 'trace', puzzle: STRONG, solution: PLUS }, { part: 'zL' }));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(r.receiver.grid, gridToString(MINUS));
    assert.equal(r.receiver.exact, false);
    assert.equal(r.receiver.wrongCells, 16);
    assert.equal(r.donor.grid, gridToString(PLUS));
    assert.equal(r.donor.exact, true);
    assert.deepEqual(r.curve.map((p) => p.atSegment), Array.from({ length: S - 1 }, (_, i) => i + 1));
    // After the patch at k the latch follows s(j) = 2 s(j−1) + B − j·w, B = k(s + w), from the receiver's own s(k):
    // s(j) = s_p(j) + (s(k) − s_p(k)) 2^{j−k} with s_p(j) = (j + 2)w − B. It ends at the donor's fixed point (+1)
    // iff C = s(k) − s_p(k) > 0, i.e. k(s + w) > 2^{k+1} w while unsaturated: k ≤ 5 for s = 1/16, w = 1/256.
    const predicted = r.curve.map((p) => latch(p.atSegment, -w) - ((p.atSegment + 2) * w - p.atSegment * (s + w)) > 0);
    assert.deepEqual(predicted, [true, true, true, true, true, false, false, false, false, false, false]);
    assert.deepEqual(r.curve.map((p) => p.endsAtDonor), predicted);
    assert.deepEqual(r.curve.map((p) => p.endsAtReceiver), predicted.map((x) => !x));
    assert.equal(r.rescuedUpTo, 5);
    assert.equal(r.inescapableFrom, 6);
    // z_L is not read out: segment k still decodes to the receiver's grid, the rescue shows after it.
    for (const p of r.curve) {
      assert.equal(p.exactBySegment[p.atSegment - 1], false);
      assert.equal(p.exact, p.endsAtDonor);
      assert.equal(p.wrongCells, p.endsAtDonor ? 0 : 16);
    }
    assert.match(r.text, /rescued up to k = 5/);
    assert.match(r.text, /inescapable from k = 6/);
  } finally {
    tm.dispose();
  }
});

test('patch: replacing the latch z_H moves the run to the donor from the k predicted in closed form', () => {
  const tm = twoFixedPointMap({ plus: PLUS, minus: MINUS });
  try {
    const { strong: s, weak: w } = tm;
    // Receiver driven by +s (ends at PLUS), donor by −w (ends at MINUS). After the patch at k the latch follows
    // s(j) = 2 s(j−1) + j·s from the donor's s_D(k): s_p(j) = −(j + 2)s, and it ends at the donor iff s_D(k) < −(k + 2)s.
    const r = runSteps(patchSteps(tm.map, { puzzle: STRONG, solution: PLUS }, { kind: 'trace', puzzle: WEAK, solution: PLUS }, { part: 'zH' }));
    const predicted = r.curve.map((p) => latch(p.atSegment, -w) + (p.atSegment + 2) * s < 0);
    assert.deepEqual(predicted.indexOf(true), 6, 'k = 7 is the first');
    assert.deepEqual(r.curve.map((p) => p.endsAtDonor), predicted);
    assert.equal(r.rescuedUpTo, 11);
    assert.equal(r.inescapableFrom, null);
    // The patched latch is read out at segment k: the donor's grid there.
    for (const p of r.curve) assert.equal(p.exactBySegment[p.atSegment - 1], false);
    // Patching the same run into itself changes nothing.
    const own = runSteps(patchSteps(tm.map, { puzzle: STRONG, solution: PLUS }, { kind: 'trace' }, { part: 'both' }));
    assert.ok(own.curve.every((p) => p.endsAtReceiver && p.endsAtDonor && p.grid === own.receiver.grid));
    assert.equal(own.rescuedUpTo, null);
    assert.equal(own.inescapableFrom, 1);
  } finally {
    tm.dispose();
  }
});

test('patch: chosen cells move only those cells; k = segments reads the patched state out', () => {
  const tm = twoFixedPointMap({ plus: PLUS, minus: MINUS });
  try {
    const cells = [0, 5, 15];
    const r = runSteps(patchSteps(tm.map, { puzzle: WEAK, solution: PLUS }, { kind: 'trace', puzzle: STRONG }, { part: 'both', cells, atSegments: [12, 3, 3] }));
    assert.deepEqual(r.cells, cells);
    assert.deepEqual(r.curve.map((p) => p.atSegment), [3, 12]);
    const expected = Array.from(MINUS, (d, c) => (cells.includes(c) ? PLUS[c] : d)).join('');
    for (const p of r.curve) {
      assert.equal(p.grid, expected);
      assert.equal(p.wrongCells, 13);
      assert.equal(p.endsAtDonor || p.endsAtReceiver, false);
    }
    assert.equal(r.rescuedUpTo, null);
    assert.equal(r.inescapableFrom, null);
    assert.throws(() => runSteps(patchSteps(tm.map, { puzzle: WEAK }, { kind: 'trace' }, { cells: [16] })), /cells must be in 0\.\.15/);
    assert.throws(() => runSteps(patchSteps(tm.map, { puzzle: WEAK }, { kind: 'trace' }, { atSegments: [13] })), /atSegments must be in 1\.\.12/);
  } finally {
    tm.dispose();
  }
});

test('patch: on the shipped model, the run\'s own trace changes nothing', () => {
  const map = hrmMap(model());
  const puzzle = grid(TINY_PUZZLE);
  const before = tf.memory().numTensors;
  const r = runSteps(patchSteps(map, { puzzle }, { kind: 'trace' }, { segments: 6 }));
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.receiver.grid, TINY_SOLUTION);
  assert.equal(r.curve.length, 5);
  for (const p of r.curve) {
    assert.equal(p.grid, r.receiver.grid);
    assert.deepEqual(p.exactBySegment, r.receiver.exactBySegment);
    assert.deepEqual(p.wrongBySegment, r.receiver.wrongBySegment);
    assert.equal(p.mode, r.receiver.mode);
    assert.ok(p.endsAtReceiver && p.endsAtDonor);
  }
  assert.equal(r.rescuedUpTo, null);
  assert.equal(r.inescapableFrom, 1);
});

test('patch: a relabeled donor is judged in the receiver\'s frame; its state at k = segments reads out its own digits', () => {
  const map = hrmMap(model());
  const puzzle = grid(TINY_PUZZLE);
  const perm = [2, 3, 4, 1];
  const S = map.segments;
  const r = runSteps(patchSteps(map, { puzzle }, { kind: 'relabel', perm }, { atSegments: [1, S] }));
  const t = relabeling(4, perm);
  const donorRun = runTrajectories(map, [applyTransform(puzzle, t)], { segments: S });
  assert.equal(r.donor.grid, gridToString(mapBack(finalGrid(donorRun, 0), t)));
  assert.equal(r.donor.exact, r.donor.grid === TINY_SOLUTION);
  const last = r.curve[1];
  assert.equal(last.atSegment, S);
  assert.equal(last.grid, gridToString(finalGrid(donorRun, 0)));
  assert.throws(() => runSteps(patchSteps(map, { puzzle }, { kind: 'relabel', perm: [1, 1, 2, 3] })), /perm must be a permutation of 1\.\.4/);
});

/** Saves the latents of `puzzles` run `segments` segments on `m` with the existing export; returns the traces. */
function saveLatents(target: string, m: HrmModel, puzzles: string[], segments: number) {
  const n = m.config.gridSize as 4 | 6;
  const inputs = puzzles.map((p) => ({ puzzle: grid(p, n) }));
  return withLatentsExport(target, m, { checkpoint: 'test', source: 'inspect', ids: puzzles, segments }, (sink) => {
    const traces = captureTraces(m, inputs, { segments });
    sink?.(traces, 0);
    return traces;
  }).value;
}

test('patch: a solved state saved by the latents export (safetensors, .npy files, a folder) ends at the donor\'s grid', async () => {
  const m = model();
  const map = hrmMap(m);
  const other = '1..4....2..1...3';
  for (const target of ['solved.safetensors', 'solved.npy', 'solved-folder']) {
    const file = path.join(dir, target);
    const traces = saveLatents(file, m, [other, TINY_PUZZLE], 4);
    const s = await readLatentsState(file, map, { row: 1 });
    assert.equal(s.segment, 4);
    assert.deepEqual(s.state.zH, traces[1].segments[3].zH, target);
    assert.deepEqual(s.state.zL, traces[1].segments[3].zL, target);
    assert.equal(gridToString(s.puzzle), TINY_PUZZLE);
    const early = await readLatentsState(file, map, { row: 0, segment: 2 });
    assert.deepEqual(early.state.zH, traces[0].segments[1].zH);
    assert.equal(early.grids.length, 2 * 16);
    // The receiver runs the same puzzle for 2 segments; the solved state patched after segment 2 is the end.
    const r = await patchRun({ checkpoint: SHIPPED_CHECKPOINT, puzzle: TINY_PUZZLE, source: { kind: 'latents', file, row: 1 }, segments: 2, atSegments: [1, 2] });
    assert.equal(r.donor.grid, TINY_SOLUTION);
    assert.equal(r.donor.exact, true);
    assert.equal(r.donor.exactBySegment.length, 4);
    assert.equal(r.curve[1].grid, TINY_SOLUTION);
    assert.ok(r.curve[1].endsAtDonor);
    assert.equal(r.curve[1].exact, true);
  }
});

test('patch: hostile latents files are refused naming the file and the tensor', async () => {
  const map = hrmMap(model());
  const file = path.join(dir, 'ok.safetensors');
  saveLatents(file, model(), [TINY_PUZZLE], 2);
  const refuses = async (p: Promise<unknown>, re: RegExp, field: string): Promise<void> => {
    await assert.rejects(p, (e: Error) => e instanceof DataError && e.location.field === field && re.test(e.message) && e.message.includes(path.basename(e.location.file)));
  };
  await refuses(readLatentsState(file, map, { row: 1 }), /row 1 is outside the 1 puzzle saved/, 'z_H');
  await refuses(readLatentsState(file, map, { segment: 3 }), /segment 3 is outside the 2 segments saved/, 'z_H');
  // Another model's shape.
  const { model: hard } = await (await import('../../engine/train/load-model')).loadModel(HARD);
  try {
    const six = path.join(dir, 'six.safetensors');
    saveLatents(six, hard, ['..4..5.6.2....5.3.4.......3.6.......'], 1);
    await refuses(readLatentsState(six, map), /\[37 positions × 64 hidden\], the model's \[17 × 64\]/, 'z_H');
  } finally {
    hard.dispose();
  }
  // A truncated file, a header that is not JSON, a missing tensor of a folder, a NaN in the state.
  const bytes = readFileSync(file);
  const cut = path.join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
  await refuses(readLatentsState(cut, map), /do not hold shape/, 'z_L');
  const junk = path.join(dir, 'junk.safetensors');
  writeFileSync(junk, Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{not json       ')]));
  await refuses(readLatentsState(junk, map), /not valid JSON/, 'header');
  const folder = path.join(dir, 'folder');
  saveLatents(folder, model(), [TINY_PUZZLE], 2);
  rmSync(path.join(folder, 'z_L.npy'));
  await refuses(readLatentsState(folder, map), /no z_L tensor/, 'z_L');
  const nan = Buffer.from(bytes);
  const header = JSON.parse(nan.subarray(8, 8 + nan.readUInt32LE(0)).toString()) as Record<string, { data_offsets: number[] }>;
  nan.writeFloatLE(Number.NaN, 8 + nan.readUInt32LE(0) + header.z_H.data_offsets[0] + 4 * (17 * 64 + 3));
  const bad = path.join(dir, 'nan.safetensors');
  writeFileSync(bad, nan);
  await refuses(readLatentsState(bad, map), /non-finite value \(NaN\) in row 0, segment 2/, 'z_H');
});

test('patch: another checkpoint of the same shape is a donor (hard-6x6 ← paper-6x6); another shape is refused naming both', async () => {
  const puzzle = '..4..5.6.2....5.3.4.......3.6.......';
  const r = await patchRun({ checkpoint: HARD, puzzle, source: { kind: 'trace', checkpoint: PAPER }, atSegments: [4, 15] });
  const paper = await openMap(PAPER);
  const hard = await openMap(HARD);
  try {
    const p = grid(puzzle, 6);
    assert.equal(r.donor.grid, gridToString(finalGrid(runTrajectories(paper.map, [p], { segments: 16 }), 0)));
    assert.equal(r.receiver.grid, gridToString(finalGrid(runTrajectories(hard.map, [p], { segments: 16 }), 0)));
  } finally {
    paper.dispose();
    hard.dispose();
  }
  assert.equal(r.segments, 16);
  assert.deepEqual(r.curve.map((q) => q.atSegment), [4, 15]);
  assert.match(r.text, /hard-6x6\.safetensors ← paper-6x6\.safetensors \(same puzzle\)/);
  await assert.rejects(patchRun({ checkpoint: SHIPPED_CHECKPOINT, puzzle: TINY_PUZZLE, source: { kind: 'trace', checkpoint: HARD } }),
    /the donor hard-6x6\.safetensors \(same puzzle\) has the state shape \[37 positions × 64 hidden, 6×6 grid\], the receiver tiny-4x4\.safetensors \[17 positions × 64 hidden, 4×4 grid\]/);
});

test('patch: progress events and cancellation through the engine path', async () => {
  const before = tf.memory().numTensors;
  const events: { done: number; total: number }[] = [];
  await patchRun({ checkpoint: SHIPPED_CHECKPOINT, puzzle: TINY_PUZZLE, source: { kind: 'relabel', perm: [2, 1, 4, 3] } }, undefined, (e) => events.push(e));
  const S = model().config.haltMaxSteps;
  const total = 2 * S + (S - 1) * S / 2;
  assert.deepEqual(events[events.length - 1], { done: total, total });
  for (let i = 1; i < events.length; i++) assert.ok(events[i].done >= events[i - 1].done);
  const ctl = new AbortController();
  await assert.rejects(patchRun({ checkpoint: SHIPPED_CHECKPOINT, puzzle: TINY_PUZZLE, source: { kind: 'trace' } }, ctl.signal, (e) => { if (e.done >= 3) ctl.abort(); }),
    (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
});

test('patch and kick: no tensor left over 100 interventions', () => {
  const map = hrmMap(model());
  const puzzle = grid(TINY_PUZZLE);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 50; i++) {
    runSteps(patchSteps(map, { puzzle }, i % 2 ? { kind: 'relabel', perm: [4, 3, 2, 1] } : { kind: 'trace' }, { segments: 2, part: i % 3 === 0 ? 'zH' : 'both' }));
    runSteps(kickSteps(map, puzzle, { segments: 2, runOn: 1, epsilons: [0.1], directions: 2, pcs: 1, seed: i }));
  }
  assert.equal(tf.memory().numTensors, before);
});
