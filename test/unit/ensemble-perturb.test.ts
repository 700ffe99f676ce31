// Input perturbations and checkpoint ensembles: for every perturbation of every kind, mapping back the model-free
// (solver) solution of the transformed puzzle gives the original solution (property test); all variants of a
// puzzle in one batch equal one-at-a-time runs within 1e-5; no leaked tensors; checkpoint lists and the pass matrix
// feed report.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { loadModel } from '../../engine/train/load-model';
import type { HrmModel } from '../../engine/model';
import { type GridSize, geometry, gridToString } from '../../engine/sudoku/geometry';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { solve } from '../../engine/sudoku/solver';
import { applyTransform, isValidTransform, mapBack, transformsEqual } from '../../engine/sudoku/symmetry';
import { PERTURBATION_KINDS, cyclicShifts, perturbationSet, perturbedPasses, perturbedPassesAsync, runLastSegment } from '../../engine/ensemble/perturb';
import { buildPassMatrix, checkpointLabel, resolveCheckpoints, runCheckpoints } from '../../engine/ensemble/checkpoints';
import { buildEnsembleReport } from '../../engine/ensemble/report';
import { passFromTrace } from '../../engine/ensemble/votes';
import { captureTraces } from '../../engine/analysis/capture-trace';
import { inspectPuzzle, perturbationStrip } from '../../engine/analysis/inspect';

const checkpoint = path.resolve(__dirname, '..', '..', 'models', 'tiny-4x4.safetensors');
let model: HrmModel;
const PUZZLES = { 4: generatePuzzles({ n: 4, seed: 5 }, 3), 6: generatePuzzles({ n: 6, seed: 6 }, 3), 9: generatePuzzles({ n: 9, seed: 7 }, 3) } as const;

before(async () => {
  await selectBackend({ backend: 'wasm' });
  model = (await loadModel(checkpoint)).model;
});

after(() => model.dispose());

test('property: mapBack(solve(t(puzzle))) = solution for every perturbation of every kind', () => {
  fc.assert(fc.property(
    fc.constantFrom<GridSize>(4, 6, 9), fc.nat(2), fc.constantFrom(...PERTURBATION_KINDS), fc.integer(), fc.integer({ min: 1, max: 9 }),
    (n, which, kind, seed, count) => {
      const geo = geometry(n);
      const { puzzle, solution } = PUZZLES[n][which];
      const set = perturbationSet(kind, n, kind === 'shifts' ? Math.min(count, n) : count, seed);
      assert.equal(set[0].transform.digitMap.every((d, i) => d === i) && !set[0].transform.transpose, true); // identity first
      for (const p of set) {
        assert.ok(isValidTransform(p.transform, geo), p.name);
        const r = solve(applyTransform(puzzle, p.transform), geo);
        assert.equal(r.solutions, 1);
        assert.ok(r.solution);
        assert.deepEqual([...mapBack(r.solution, p.transform)], [...solution], p.name);
      }
    },
  ), { numRuns: 60, seed: 77 });
});

test('perturbation sets: the paper\'s shifts p = 0..N-1, seeded random sets', () => {
  const s9 = cyclicShifts(9);
  assert.equal(s9.length, 9);
  assert.deepEqual([...s9[2].transform.digitMap], [0, 3, 4, 5, 6, 7, 8, 9, 1, 2]);
  assert.throws(() => cyclicShifts(4, 5), /1\.\.4/);
  const a = perturbationSet('mixed', 9, 5, 3).map((p) => p.name + [...p.transform.rowPerm].join());
  assert.deepEqual(perturbationSet('mixed', 9, 5, 3).map((p) => p.name + [...p.transform.rowPerm].join()), a);
  assert.ok(perturbationSet('relabel', 4, 9, 1).slice(1).every((p) => !p.transform.transpose && [...p.transform.rowPerm].join() === '0,1,2,3'));
  for (const kind of ['relabel', 'symmetries', 'mixed'] as const) {
    const set = perturbationSet(kind, 4, 9, 2);
    for (let i = 0; i < set.length; i++) for (let j = 0; j < i; j++) assert.ok(!transformsEqual(set[i].transform, set[j].transform), `${kind}: ${i} repeats ${j}`);
  }
  assert.ok(perturbationSet('symmetries', 9, 9, 1).slice(1).every((p) => [...p.transform.digitMap].join() === '0,1,2,3,4,5,6,7,8,9'));
});

test('batched variants equal one-at-a-time runs within 1e-5; passes are mapped back; no leaked tensors', () => {
  const before = tf.memory().numTensors;
  const puzzles = PUZZLES[4].map((p) => p.puzzle);
  const set = perturbationSet('mixed', 4, 6, 9);
  const S = model.config.haltMaxSteps;
  const rows = puzzles.flatMap((g) => set.map((p) => applyTransform(g, p.transform)));
  const batched = runLastSegment(model, rows, S);
  const cv = model.dims.cells * model.dims.vocab;
  let worst = 0;
  rows.forEach((r, b) => {
    const single = runLastSegment(model, [r], S);
    for (let i = 0; i < cv; i++) worst = Math.max(worst, Math.abs(single.logits[i] - batched.logits[b * cv + i]));
    worst = Math.max(worst, Math.abs(single.qHalt[0] - batched.qHalt[b]), Math.abs(single.qContinue[0] - batched.qContinue[b]));
  });
  assert.ok(worst < 1e-5, `max |batched − single| = ${worst}`);
  const passes = perturbedPasses(model, puzzles, set);
  const small = perturbedPasses(model, puzzles, set, { maxRows: 1 }); // one puzzle (all its variants) per batch
  assert.equal(tf.memory().numTensors, before);
  assert.equal(passes.length, 3);
  assert.equal(passes[0].length, 6);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 6; j++) {
      assert.deepEqual([...passes[i][j].answer], [...small[i][j].answer]);
      assert.equal(passes[i][j].halted, small[i][j].halted);
    }
  }
  // A pass that solved its transformed puzzle maps back to the original solution.
  let solvedSome = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 6; j++) {
      const transformedSolution = applyTransform(PUZZLES[4][i].solution, set[j].transform);
      if (applyTransform(passes[i][j].answer, set[j].transform).every((d, c) => d === transformedSolution[c])) {
        solvedSome++;
        assert.deepEqual([...passes[i][j].answer], [...PUZZLES[4][i].solution]);
      }
    }
  }
  assert.ok(solvedSome > 0);
});

test('the asynchronous passes of one puzzle (the inspector\'s strip) have the bits of perturbedPasses; a cancel stops them, no tensor left', async () => {
  const shifts = cyclicShifts(4);
  const { puzzle } = PUZZLES[4][0];
  const [sync] = perturbedPasses(model, [puzzle], shifts, { segments: 3 });
  const before = tf.memory().numTensors;
  const passes = await perturbedPassesAsync(model, puzzle, shifts, { segments: 3 });
  assert.deepEqual(passes, sync);
  assert.equal(tf.memory().numTensors, before);
  // Aborted after its first segment: an AbortError, the carry and tokens freed.
  const ctl = new AbortController();
  const run = perturbedPassesAsync(model, puzzle, shifts, { segments: 50, signal: ctl.signal });
  setImmediate(() => ctl.abort());
  await assert.rejects(run, (e: Error) => e.name === 'AbortError');
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(perturbedPassesAsync(model, puzzle, []), /no perturbations/);
});

test('the inspector\'s strip takes the identity relabeling from the trace: the same pass as in the batch, bit for bit', async () => {
  for (const [k, { puzzle }] of PUZZLES[4].entries()) {
    const shifts = cyclicShifts(4);
    const [batch] = perturbedPasses(model, [puzzle], shifts, { segments: 3 + k });
    const [trace] = captureTraces(model, [{ puzzle }], { segments: 3 + k });
    assert.deepEqual(passFromTrace(trace), batch[0]); // answer, halted, raw q logits, energy
    const text = gridToString(puzzle);
    const full = inspectPuzzle(model, 'm', text, 3 + k);
    const first = inspectPuzzle(model, 'm', text, 3 + k, { strip: false });
    const strip = await perturbationStrip(model, text, 3 + k);
    assert.deepEqual(strip, { perturbations: full.perturbations, vote: full.vote });
    assert.deepEqual(full.perturbations.map((p) => p.answer), batch.map((p) => gridToString(p.answer)));
    assert.deepEqual(full.perturbations.map((p) => p.halted), batch.map((p) => p.halted));
    assert.equal(first.stripPending, true);
  }
  // After a weight changes, the kept identity pass is not used: the strip is the new weights' (their batch's pass).
  const { puzzle } = PUZZLES[4][0];
  const text = gridToString(puzzle);
  inspectPuzzle(model, 'm', text, 3, { strip: false });
  const head = model.weight('lm_head.weight');
  const old = head.clone();
  try {
    head.assign(tf.mul(head, -1));
    const [batch] = perturbedPasses(model, [puzzle], cyclicShifts(4), { segments: 3 });
    const strip = await perturbationStrip(model, text, 3);
    assert.deepEqual(strip.perturbations.map((p) => p.answer), batch.map((p) => gridToString(p.answer)));
  } finally {
    head.assign(old);
    old.dispose();
  }
});

test('checkpoint ensembles: last K of a run folder, lists, pass matrix → report', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hrm-ens-'));
  try {
    for (const step of [100, 200, 300]) copyFileSync(checkpoint, path.join(dir, `step-${String(step).padStart(6, '0')}.safetensors`));
    const last2 = await runCheckpoints(dir, 2);
    assert.deepEqual(last2.map((f) => path.basename(f)), ['step-000200.safetensors', 'step-000300.safetensors']);
    assert.equal((await runCheckpoints(dir)).length, 3);
    assert.deepEqual(await resolveCheckpoints([checkpoint, dir], 1), [checkpoint, path.join(dir, 'step-000300.safetensors')]);
    await assert.rejects(resolveCheckpoints([path.join(dir, 'nope')]), /no such file/);
    assert.equal(checkpointLabel(last2[1]), `${path.basename(dir)}/step-000300`);
    const puzzles = PUZZLES[4].map((p, i) => ({ ...p, id: `q${i}` }));
    const before = tf.memory().numTensors;
    const m = await buildPassMatrix(last2, puzzles, cyclicShifts(4));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(m.passes.length, 3);
    assert.equal(m.passes[0].length, 2);
    assert.equal(m.passes[0][0].length, 4);
    assert.deepEqual(m.perturbationNames, ['shift p=0', 'shift p=1', 'shift p=2', 'shift p=3']);
    const r = buildEnsembleReport(m);
    // Two copies of the same weights: adding the second checkpoint changes nothing.
    assert.deepEqual(r.summary.checkpoints, r.summary.baseline);
    assert.deepEqual(r.summary.both, r.summary.relabeling);
    assert.ok(r.summary.baseline.oracle >= 0 && r.summary.both.labelFree <= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
