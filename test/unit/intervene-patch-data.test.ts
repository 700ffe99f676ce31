// Activation patching batched over puzzles and its dataset-level summary. On the hand-built two-fixed-point map
// (test/unit/helpers/two-fixed-point-map.ts): patchManySteps over several receivers equals patchSteps on each alone
// for every kind of donor, across batches and chunks; patchDataSteps gives the rescue / corruption curve predicted in
// closed form. On the shipped models: no tensor left over ~100 patched runs (cancelled ones included), the engine
// path (progress, another checkpoint of the same shape, another shape refused, every model disposed), and
// `hrm-lens patch --generate | --data` spawned from the sources (--json, the text report, option errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tf } from '../../engine/tf';
import { hrmMap } from '../../engine/intervene/recurrent-map';
import { type PatchReceiver, type ResolvedPatchDonor, patchManySteps, patchSteps } from '../../engine/intervene/patch';
import { type PatchDataItem, patchDataSteps } from '../../engine/intervene/patch-data';
import { patchDataRun } from '../../engine/intervene/patch-data-run';
import { runTrajectories, stateAt } from '../../engine/intervene/trajectory';
import type { PatchDataResult, PatchResult, StatePart } from '../../engine/intervene/intervene-protocol';
import { proportion } from '../../engine/paper/stats';
import { gridToString } from '../../engine/sudoku/geometry';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { runSteps, runStepsAsync } from '../../engine/util/steps';
import { MINUS, PLUS, twoFixedPointMap } from './helpers/two-fixed-point-map';
import { SHIPPED_CHECKPOINT, shippedFile, useShippedModel } from './helpers/shipped-model';
import { useTempDir } from './helpers/temp-dir';
import { grid } from './helpers/grids';
import { runCli } from './helpers/cli-run';

const model = useShippedModel();
const HARD = shippedFile('hard-6x6');
const PAPER = shippedFile('paper-6x6');
const dir = useTempDir('hrm-patch-data-');

/** Puzzles consistent with PLUS: cell 0 is not 1 (drive −weak on the receiver's map) or is 1 (drive +strong). */
const WEAK = ['.2..3......3...1', '....3412........', '..3...........2.'].map((t) => grid(t));
const STRONG = ['12..3......3...1', '1...........4...'].map((t) => grid(t));

/** The latch of a run of drive x after k segments from 0: s(k) = clamp((2^{k+1} − k − 2)·x). */
const latch = (k: number, x: number): number => Math.max(-1, Math.min(1, (2 ** (k + 1) - k - 2) * x));

/** Results without the timing (and the report that prints it). */
const untimed = (r: PatchResult): Omit<PatchResult, 'seconds' | 'text'> => {
  const { seconds: _s, text: _t, ...rest } = r;
  return rest;
};

test('patchManySteps: many receivers give what patchSteps gives each alone, for every donor, across batches and chunks', () => {
  const a = twoFixedPointMap({ plus: PLUS, minus: MINUS });
  // The donor's map drives every puzzle the other way: cell 0 = 1 by −1/256, any other by +1/16.
  const b = twoFixedPointMap({ plus: PLUS, minus: MINUS, strong: -1 / 256, weak: -1 / 16 });
  try {
    const receivers: PatchReceiver[] = [...WEAK, ...STRONG].map((puzzle, i) => ({ puzzle, solution: PLUS, label: `r${i}` }));
    const fixed = runTrajectories(a.map, [STRONG[0]], { segments: 5, keep: [5] });
    const donors: ResolvedPatchDonor[] = [
      { kind: 'trace', map: b.map, label: 'other map' },
      { kind: 'trace', puzzle: STRONG[1], solution: PLUS },
      { kind: 'trace', map: b.map, puzzle: WEAK[0] },
      { kind: 'trace' },
      { kind: 'relabel', perm: [2, 1, 4, 3] },
      { kind: 'state', state: stateAt(fixed, 0, 5), grids: fixed.grids[0], puzzle: STRONG[0], solution: PLUS, label: 'fixed' },
    ];
    const settings: { part: StatePart; cells?: number[]; atSegments?: number[]; batch: number; chunkRows?: number }[] = [
      { part: 'zL', batch: 3, chunkRows: 25 },
      { part: 'zH', batch: 4, chunkRows: 1 },
      { part: 'both', cells: [0, 7], atSegments: [2, 6, 12], batch: 2 },
    ];
    const before = tf.memory().numTensors;
    for (const donor of donors) {
      for (const opts of settings) {
        const events: [number, number][] = [];
        const many = runSteps(patchManySteps(a.map, receivers, donor, { ...opts, onProgress: (d, t) => events.push([d, t]) }));
        assert.equal(many.length, receivers.length);
        receivers.forEach((r, i) => {
          const one = runSteps(patchSteps(a.map, r, donor, opts));
          assert.deepEqual(untimed(many[i]), untimed(one), `${JSON.stringify(donor).slice(0, 60)} ${JSON.stringify(opts)} receiver ${i}`);
          assert.equal(many[i].rescuedUpTo, one.rescuedUpTo);
          assert.equal(many[i].inescapableFrom, one.inescapableFrom);
        });
        // Progress: monotone, up to the total, the same total on every event.
        const total = events[0][1];
        assert.ok(events.every(([d, t], i) => t === total && d <= total && (i === 0 || d >= events[i - 1][0])));
        assert.equal(events[events.length - 1][0], total);
      }
    }
    assert.equal(tf.memory().numTensors, before);
    // The results differ between receivers (so the comparison above can fail).
    const r = runSteps(patchManySteps(a.map, receivers, donors[0], { part: 'zL' }));
    assert.deepEqual(r.map((x) => x.rescuedUpTo), [5, 5, 5, null, null]);
    assert.throws(() => runSteps(patchManySteps(a.map, [receivers[0], { puzzle: new Int8Array(9) }], donors[0])), /patch: puzzle 1 has 9 cells/);
    assert.throws(() => runSteps(patchManySteps(a.map, receivers, donors[0], { chunkRows: 0 })), /chunkRows must be an integer >= 1/);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('patchDataSteps: the rescue and corruption curves over a dataset are the ones predicted in closed form', () => {
  const a = twoFixedPointMap({ plus: PLUS, minus: MINUS });
  const b = twoFixedPointMap({ plus: PLUS, minus: MINUS, strong: -1 / 256, weak: -1 / 16 });
  try {
    const { strong: s, weak: w } = a;
    const S = a.map.segments;
    const items: PatchDataItem[] = [
      ...WEAK.map((puzzle, i) => ({ puzzle, solution: PLUS, id: `weak ${i}` })),
      ...STRONG.map((puzzle, i) => ({ puzzle, solution: PLUS, id: `strong ${i}` })),
    ];
    // After a patch at k that leaves latch σ and drive δ, a run on with input x follows s(j) = 2 s(j−1) + δ + (j − k)x,
    // whose solution is s_p(j) + (σ − s_p(k)) 2^{j−k} with s_p(j) = −δ + kx − (j + 2)x: it ends at the fixed point
    // +1 (PLUS, exact) iff σ + δ + 2x > 0. A receiver of drive x has σ = latch(k, x), δ = kx; the donor (map b)
    // drives the weak puzzles by +s (it answers them right) and the strong ones by −w (wrong).
    const endsPlus = (part: StatePart, x: number, xDonor: number, k: number): boolean => {
      const sigma = part === 'zL' ? latch(k, x) : latch(k, xDonor);
      const delta = part === 'zH' ? k * x : k * xDonor;
      return sigma + delta + 2 * x > 0;
    };
    const ks = Array.from({ length: S - 1 }, (_, i) => i + 1);
    const T = true;
    const F = false;
    // z_L: the donor's drive rescues the weak puzzles up to k = 5 and never corrupts the strong ones; z_H: the
    // donor's latch rescues the weak puzzles at every k and corrupts the strong ones from k = 7 on.
    const predicted = {
      zL: { weak: [T, T, T, T, T, F, F, F, F, F, F], strong: ks.map(() => T), upTo: [5, 5, 5, null, null], inescapable: [6, 6, 6, 1, 1], median: 5 },
      zH: { weak: ks.map(() => T), strong: [T, T, T, T, T, T, F, F, F, F, F], upTo: [11, 11, 11, 11, 11], inescapable: [null, null, null, null, null], median: 11 },
    };
    for (const part of ['zL', 'zH'] as const) {
      const e = predicted[part];
      assert.deepEqual(ks.map((k) => endsPlus(part, -w, s, k)), e.weak, `${part}: the closed form`);
      assert.deepEqual(ks.map((k) => endsPlus(part, s, -w, k)), e.strong, `${part}: the closed form`);
      const r = runSteps(patchDataSteps(a.map, items, { kind: 'trace', map: b.map, label: 'b' }, { part, batch: 5, receiverName: 'a', source: 'five puzzles' }));
      assert.deepEqual(r.curve.map((p) => p.atSegment), ks);
      assert.deepEqual(r.curve.map((p) => p.rescued), e.weak.map((x) => proportion(x ? 3 : 0, 3)), part);
      assert.deepEqual(r.curve.map((p) => p.corrupted), e.strong.map((x) => proportion(x ? 0 : 2, 2)), part);
      assert.deepEqual(r.curve.map((p) => p.endsAtReceiver), ks.map((_, j) => proportion((e.weak[j] ? 0 : 3) + (e.strong[j] ? 2 : 0), 5)), part);
      assert.deepEqual(r.receiverExact, proportion(2, 5));
      assert.deepEqual(r.donorExact, proportion(3, 5));
      assert.deepEqual(r.rows.map((x) => [x.id, x.receiverExact, x.donorExact]), items.map((it, i) => [it.id, i >= 3, i < 3]));
      assert.deepEqual(r.rows.map((x) => x.rescuedUpTo), e.upTo, part);
      assert.deepEqual(r.rows.map((x) => x.inescapableFrom), e.inescapable, part);
      assert.deepEqual(r.rescuedUpTo, { puzzles: 3, median: e.median, q1: e.median, q3: e.median });
      assert.equal(r.puzzles, 5);
      assert.equal(r.source, 'five puzzles');
      assert.equal(r.part, part);
      assert.equal(r.cells, null);
      assert.match(r.text, new RegExp(`^patch a ← b: ${part === 'zH' ? 'z_H' : 'z_L'}, all positions, 12 segments, 5 puzzles \\(five puzzles\\)`));
      assert.match(r.text, /receiver exact {2}2\/5 \(40\.0%, \[11\.8, 76\.9\]\)/);
      assert.match(r.text, new RegExp(`rescue possible up to k = ${e.median} \\(median over the 3 of 3 rescuable puzzles`));
    }
    // The same map as donor: every puzzle's own run, nothing to rescue or corrupt.
    const own = runSteps(patchDataSteps(a.map, items, { kind: 'trace' }, { atSegments: [3, 12] }));
    assert.deepEqual(own.curve.map((p) => [p.atSegment, p.rescued.n, p.corrupted.n, p.endsAtReceiver.k]), [[3, 0, 0, 5], [12, 0, 0, 5]]);
    assert.equal(own.rescuedUpTo.median, null);
    assert.match(own.text, /no puzzle to rescue/);
    assert.throws(() => runSteps(patchDataSteps(a.map, [], { kind: 'trace' })), /no puzzles to patch/);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('patchDataSteps: no tensor left over ~100 patched runs of the shipped model, cancelled runs included', async () => {
  const map = hrmMap(model());
  const items = generatePuzzles({ n: 4, seed: 11 }, 8).map((g, i) => ({ puzzle: g.puzzle, solution: g.solution, id: `gen ${i}` }));
  const before = tf.memory().numTensors;
  let runs = 0;
  for (const [i, part] of (['both', 'zH', 'zL', 'both'] as const).entries()) {
    const r = runSteps(patchDataSteps(map, items, i % 2 ? { kind: 'relabel', perm: [4, 3, 2, 1] } : { kind: 'trace' }, { segments: 4, part, batch: 5, chunkRows: 7 }));
    runs += r.puzzles * r.curve.length;
    assert.equal(r.rows.length, 8);
  }
  assert.equal(runs, 96);
  const ctl = new AbortController();
  await assert.rejects(runStepsAsync(patchDataSteps(map, items, { kind: 'relabel', perm: [2, 1, 4, 3] }, {
    segments: 4, batch: 3, signal: ctl.signal, onProgress: (d) => { if (d >= 10) ctl.abort(); },
  }), ctl.signal, 'patch'), (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
});

test('patchDataRun: progress to the total, another checkpoint of the same shape as donor, another shape refused; every model disposed', async () => {
  const before = tf.memory().numTensors;
  const events: { done: number; total: number }[] = [];
  const r = await patchDataRun({ checkpoint: SHIPPED_CHECKPOINT, source: { kind: 'relabel', perm: [2, 3, 4, 1] }, puzzles: { generate: 5, seed: 2 }, segments: 3 },
    undefined, (e) => events.push(e), 4);
  // Receivers and relabeled donors (5 + 5 rows × 3 segments), then the patched runs (5 × (2 + 1)).
  assert.deepEqual(events.at(-1), { done: 45, total: 45 });
  for (let i = 1; i < events.length; i++) assert.ok(events[i].done >= events[i - 1].done);
  assert.equal(r.puzzles, 5);
  assert.equal(r.source, '5 generated 4×4 puzzles (seed 2)');
  assert.match(r.text, /^patch tiny-4x4\.safetensors ← relabel 2341: z_H and z_L, all positions, 3 segments, 5 puzzles/);
  const six = await patchDataRun({ checkpoint: HARD, source: { kind: 'trace', checkpoint: PAPER }, puzzles: { generate: 3, seed: 1 }, segments: 3, atSegments: [2], part: 'zL' });
  assert.equal(six.rows.length, 3);
  assert.deepEqual(six.curve.map((p) => p.atSegment), [2]);
  assert.match(six.text, /^patch hard-6x6\.safetensors ← paper-6x6\.safetensors: z_L/);
  await assert.rejects(patchDataRun({ checkpoint: SHIPPED_CHECKPOINT, source: { kind: 'trace', checkpoint: HARD }, puzzles: { generate: 2 } }),
    /the donor hard-6x6\.safetensors has the state shape \[37 positions × 64 hidden, 6×6 grid\], the receiver tiny-4x4\.safetensors/);
  await assert.rejects(patchDataRun({ checkpoint: SHIPPED_CHECKPOINT, source: { kind: 'relabel', perm: [1, 1, 2, 3] }, puzzles: { generate: 2 } }), /perm must be a permutation/);
  const ctl = new AbortController();
  await assert.rejects(patchDataRun({ checkpoint: SHIPPED_CHECKPOINT, source: { kind: 'trace', checkpoint: SHIPPED_CHECKPOINT }, puzzles: { generate: 4 } }, ctl.signal,
    (e) => { if (e.done >= 2) ctl.abort(); }), (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
});

const cli = runCli;

test('hrm-lens patch --generate | --data on the shipped model: --json and the text report; PUZZLE and a dataset refused together or both missing', async () => {
  const data = path.join(dir, 'puzzles.txt');
  writeFileSync(data, `${generatePuzzles({ n: 4, seed: 5 }, 3).map((g) => gridToString(g.puzzle)).join('\n')}\n`);
  const [json, text, both, neither, donor, limit] = await Promise.all([
    cli(['patch', SHIPPED_CHECKPOINT, '--generate', '6', '--seed', '3', '--relabel', '2341', '--segments', '3', '--json', '--backend', 'wasm']),
    cli(['patch', SHIPPED_CHECKPOINT, '--data', data, '--limit', '2', '--relabel', '2,1,4,3', '--part', 'zH', '--at', '1,2', '--segments', '2', '--backend', 'wasm']),
    cli(['patch', SHIPPED_CHECKPOINT, '.1.....3..32....', '--generate', '6', '--relabel', '2341', '--backend', 'wasm']),
    cli(['patch', SHIPPED_CHECKPOINT, '--relabel', '2341', '--backend', 'wasm']),
    cli(['patch', SHIPPED_CHECKPOINT, '--generate', '6', '--from-puzzle', '1..4....2..1...3', '--backend', 'wasm']),
    cli(['patch', SHIPPED_CHECKPOINT, '.1.....3..32....', '--relabel', '2341', '--seed', '3', '--backend', 'wasm']),
  ]);
  assert.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout) as PatchDataResult;
  assert.equal(r.puzzles, 6);
  assert.equal(r.rows.length, 6);
  assert.equal(r.segments, 3);
  assert.equal(r.curve.length, r.segments - 1);
  assert.equal(r.source, '6 generated 4×4 puzzles (seed 3)');
  assert.deepEqual(r.rows.map((x) => x.id), ['gen 0', 'gen 1', 'gen 2', 'gen 3', 'gen 4', 'gen 5']);
  const props = [r.receiverExact, r.donorExact, ...r.curve.flatMap((p) => [p.rescued, p.corrupted, p.endsAtReceiver])];
  for (const p of props) assert.ok(Number.isInteger(p.k) && p.k >= 0 && p.k <= p.n, JSON.stringify(p));
  assert.equal(r.receiverExact.k, r.rows.filter((x) => x.receiverExact).length);
  assert.equal(r.donorExact.k, r.rows.filter((x) => x.donorExact).length);
  for (const p of r.curve) {
    assert.equal(p.rescued.n, r.rows.filter((x) => !x.receiverExact && x.donorExact).length);
    assert.equal(p.corrupted.n, r.rows.filter((x) => x.receiverExact && !x.donorExact).length);
    assert.equal(p.endsAtReceiver.n, 6);
  }
  assert.equal(r.text.split('\n')[0].startsWith('patch tiny-4x4.safetensors ← relabel 2341: z_H and z_L, all positions, 3 segments, 6 puzzles'), true);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^patch tiny-4x4\\.safetensors ← relabel 2143: z_H, all positions, 2 segments, 2 puzzles \\(${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  assert.match(text.stdout, /^ {3}k {2}rescued/m);
  assert.match(text.stdout, /^ {3}1 {2}/m);
  assert.match(text.stdout, /^receiver exact {2}\d\/2/m);
  for (const [res, re] of [
    [both, /^hrm-lens: patch: give a PUZZLE or --data \/ --generate, not both/],
    [neither, /^hrm-lens: patch: give a PUZZLE, or --data FILE \/ --generate N/],
    [donor, /^hrm-lens: patch: with --data \/ --generate give one donor: --from-checkpoint .* or --relabel/],
    [limit, /^hrm-lens: patch: --limit and --seed go with --data \/ --generate/],
  ] as const) {
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, re);
    assert.equal(res.stdout, '');
  }
});
