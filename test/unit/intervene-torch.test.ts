// The interventions on the PyTorch worker (engine/torch/torch-map.ts, trajectory-torch.ts): trajectories of rows of
// different lengths from given states decode to the same grids with the same kept states as on TF.js; kicks and the
// dataset-level patch give the same results on both; the read-out decodes ties to the lowest digit; a computation
// that waits for the worker is refused by the synchronous driver; `hrm-lens kick | patch --backend torch` print
// what the wasm backend prints.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../engine/backend';
import { openMap, runTrajectories, runTrajectoriesAsync, stateAt, trajectorySteps } from '../../engine/intervene/trajectory';
import { kickRun } from '../../engine/intervene/patch-kick-engine';
import { patchDataRun } from '../../engine/intervene/patch-data-run';
import { kickDataRun } from '../../engine/intervene/kick-data-run';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { runSteps } from '../../engine/util/steps';
import { decodeLogitRows } from '../../engine/torch/trajectory-torch';
import { openTorchMap } from '../../engine/torch/torch-map';
import { torchPython, useTorchWorker } from './helpers/torch-python';
import { runCli } from './helpers/cli-run';
import { shippedFile } from './helpers/shipped-model';

const TINY = shippedFile('tiny-4x4');
const HARD = shippedFile('hard-6x6');
const PAPER = shippedFile('paper-6x6');
const worker = useTorchWorker();
const onTorch = (file: string) => openTorchMap(file, worker());

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('decodeLogitRows: argmax over the digit tokens, the lowest digit on ties, PAD and blank never win', () => {
  // 1 row, 4 cells of a 2×2-less toy: n = 2 would not be a grid, so use n = 4 with vocab 6 and 16 cells.
  const n = 4;
  const vocab = n + 2;
  const logits = new Float32Array(16 * vocab).fill(-1);
  logits[0 * vocab + 0] = 99; // PAD is ignored
  logits[0 * vocab + 4] = 5; // digit 3
  logits[1 * vocab + 2] = 7;
  logits[1 * vocab + 5] = 7; // tie between digits 1 and 4: 1
  const d = decodeLogitRows(logits, 1, n);
  assert.equal(d[0], 3);
  assert.equal(d[1], 1);
  assert.equal(d[2], 1); // all equal: the lowest digit
  assert.throws(() => decodeLogitRows(new Float32Array(10), 1, n), /do not hold 1 rows of 16 cells/);
});

test('trajectories on the worker: same grids and kept states as TF.js, rows of different lengths, from given states', async () => {
  const tf = await openMap(HARD);
  const torch = await onTorch(HARD);
  try {
    const puzzles = generatePuzzles({ n: 6, seed: 31 }, 7).map((p) => p.puzzle);
    const first = runTrajectories(tf.map, puzzles, { segments: 3, keep: [3] });
    const width = tf.map.positions * tf.map.hidden;
    const from = { rows: 7, zH: new Float32Array(7 * width), zL: new Float32Array(7 * width) };
    puzzles.forEach((_, r) => { from.zH.set(stateAt(first, r, 3).zH, r * width); from.zL.set(stateAt(first, r, 3).zL, r * width); });
    const segments = [4, 1, 6, 2, 6, 3, 5];
    const opts = { segments, from, keep: [1, 2, 5], batch: 3 };
    const a = runTrajectories(tf.map, puzzles, opts);
    const progress: number[] = [];
    const b = await runTrajectoriesAsync(torch.map, puzzles, { ...opts, onProgress: (d) => progress.push(d) });
    assert.deepEqual(b.segments, segments);
    assert.equal(progress.at(-1), segments.reduce((x, y) => x + y, 0));
    for (let r = 0; r < 7; r++) {
      assert.deepEqual(Array.from(b.grids[r]), Array.from(a.grids[r]), `row ${r}: decoded grids`);
      assert.deepEqual([...b.states[r].keys()].sort(), [...a.states[r].keys()].sort(), `row ${r}: kept segments`);
      for (const [s, st] of a.states[r]) {
        const mine = b.states[r].get(s);
        assert.ok(mine);
        // Free-running: up to 8 segments from the shared start, fp32 rounding grows (docs/benchmarks.md §Agreement with PyTorch).
        assert.ok(maxDiff(mine.zH, st.zH) <= 5e-4 && maxDiff(mine.zL, st.zL) <= 5e-4, `row ${r} segment ${s}: states`);
      }
    }
    assert.throws(() => runSteps(trajectorySteps(torch.map, puzzles, { segments: 2 })), /driven with runStepsAsync/);
    assert.throws(() => torch.map.step({ zH: undefined as never, zL: undefined as never }, undefined as never), /runs on the PyTorch worker.*spectrum, sweep, lens/);
  } finally {
    tf.dispose();
    torch.dispose();
  }
});

test('a kick on the worker gives the TF.js kick\'s curve, basin radius and escapes', async () => {
  const p = { checkpoint: TINY, puzzle: '.1.....3..32....', epsilons: [0.05, 0.5, 2], directions: 6, pcs: 1, seed: 3 };
  const a = await kickRun(p);
  const b = await kickRun(p, undefined, undefined, undefined, onTorch);
  assert.equal(b.basinRadius, a.basinRadius);
  assert.deepEqual(b.reference, a.reference);
  assert.deepEqual(b.outcome, a.outcome);
  assert.deepEqual(b.curve, a.curve);
  assert.ok(Math.abs(b.stateNorm - a.stateNorm) <= 1e-3 * a.stateNorm);
});

test('kicks and patching over a dataset on the worker: the same counts as on TF.js', async () => {
  const kp = { checkpoints: [TINY], puzzles: { generate: 6, seed: 5 }, epsilons: [0.1, 1], directions: 4, pcs: 0 };
  const ka = await kickDataRun(kp);
  const kb = await kickDataRun(kp, undefined, undefined, undefined, onTorch);
  assert.deepEqual(kb.rows, ka.rows);
  assert.deepEqual(kb.checkpoints.map((c) => [c.exact, c.correct, c.wrong]), ka.checkpoints.map((c) => [c.exact, c.correct, c.wrong]));
  const pp = { checkpoint: PAPER, puzzles: { generate: 8, seed: 9 }, source: { kind: 'trace' as const, checkpoint: HARD }, atSegments: [1, 4, 8, 15] };
  const pa = await patchDataRun(pp);
  const pb = await patchDataRun(pp, undefined, undefined, undefined, onTorch);
  assert.deepEqual([pb.receiverExact, pb.donorExact], [pa.receiverExact, pa.donorExact]);
  assert.deepEqual(pb.curve, pa.curve);
  assert.deepEqual(pb.rows, pa.rows);
  assert.ok(pa.curve.some((x) => x.endsAtReceiver.k > 0 && x.endsAtReceiver.k < 8), 'the patch changes some runs and not others');
});

test('hrm-lens kick and patch --backend torch print the wasm backend\'s results', async () => {
  const torchArgs = ['--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1'];
  const strip = (json: string): unknown => {
    const r = JSON.parse(json) as Record<string, unknown>;
    delete r.seconds;
    delete r.text;
    delete r.stateNorm;
    return r;
  };
  const kick = ['kick', TINY, '.1.....3..32....', '--eps', '0.1,1', '--directions', '4', '--pcs', '1', '--json'];
  const [kw, kt] = await Promise.all([runCli([...kick, '--backend', 'wasm']), runCli([...kick, ...torchArgs])]);
  assert.equal(kt.code, 0, kt.stderr);
  assert.match(kt.stderr, /torch [0-9.]+.* on cpu \(fp32\)/);
  assert.deepEqual(strip(kt.stdout), strip(kw.stdout));
  const patch = ['patch', PAPER, '--generate', '4', '--seed', '2', '--from-checkpoint', HARD, '--at', '2,8', '--json'];
  const [pw, pt] = await Promise.all([runCli([...patch, '--backend', 'wasm']), runCli([...patch, ...torchArgs])]);
  assert.equal(pt.code, 0, pt.stderr);
  assert.deepEqual(strip(pt.stdout), strip(pw.stdout));
});
