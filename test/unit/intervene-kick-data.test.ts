// Kicks over a dataset: the batched kicks of many puzzles equal each puzzle's own kicks, in chunks or not; the basin
// summary and the paired comparison of two maps whose basins are known (a contraction against an expansion,
// test/unit/helpers/linear-maps.ts); the exact sign test; `intervene.kickData` and `hrm-lens kick --generate` on the
// shipped tiny-4x4 model, and their option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { tf } from '../../engine/tf';
import { linearMap } from './helpers/linear-maps';
import { kickManySteps, kickSteps } from '../../engine/intervene/kick';
import { basinClass, kickDataSteps } from '../../engine/intervene/kick-data';
import { hrmMap } from '../../engine/intervene/recurrent-map';
import { gridToString } from '../../engine/sudoku/geometry';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { runSteps } from '../../engine/util/steps';
import { signTest } from '../../engine/paper/stats';
import type { KickDataResult, KickResult } from '../../engine/intervene/intervene-protocol';
import { useShippedModel } from './helpers/shipped-model';
import { grid } from './helpers/grids';
import { runCli } from './helpers/cli-run';
import { engineUnderTest } from './helpers/engine-dispatch';

process.env.HRM_LENS_BACKEND = 'wasm';
const model = useShippedModel();
const root = path.resolve(__dirname, '..', '..');
const SHIPPED = path.join(root, 'models', 'tiny-4x4.safetensors');

const SOLUTION = grid('1234341221434321');
const OTHER = grid('2143341212344321');
const PUZZLE = grid('1.3.3..2.1.3.32.');

const strip = (r: KickResult) => ({ ...r, seconds: 0, text: '' });

test('kick: many puzzles batched, in one chunk or in many, equal each puzzle kicked alone; nothing leaked', () => {
  const map = hrmMap(model());
  const puzzles = generatePuzzles({ n: 4, seed: 17 }, 5).map((g) => g.puzzle);
  const o = { epsilons: [0.01, 0.5, 3], directions: 3, pcs: 1, seed: 2, runOn: 3 };
  const before = tf.memory().numTensors;
  const alone = puzzles.map((p) => runSteps(kickSteps(map, p, o)));
  const one = runSteps(kickManySteps(map, puzzles.map((puzzle) => ({ puzzle })), o));
  // 1 + 3 × 5 = 16 rows a puzzle: chunks of 2 puzzles (32 rows), batches of 7 rows.
  const many = runSteps(kickManySteps(map, puzzles.map((puzzle) => ({ puzzle })), { ...o, chunkRows: 40, batch: 7 }));
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(one.map(strip), alone.map(strip));
  assert.deepEqual(many.map(strip), alone.map(strip));
  for (const [i, r] of one.entries()) assert.match(r.text, new RegExp(`puzzle {4}${gridToString(puzzles[i])}`));
});

test('kick over a dataset: a contraction holds its answers in a wider basin than an expansion, paired and sign-tested', () => {
  const wide = linearMap({ r: 0.9, theta: 0.6, real: [0.7, 0.5, -0.4, 0.2], c: 0.3, solution: SOLUTION, start: 0.05 });
  const narrow = linearMap({ r: 0.6, theta: 1.1, real: [1.5, 0.5, -0.4, 0.2], c: 0.3, solution: SOLUTION, start: 0 });
  try {
    const o = { segments: 8, runOn: 12, epsilons: [1e-3, 0.01, 0.05, 0.2, 0.5, 2], directions: 12, pcs: 1, seed: 4, part: 'zH' as const };
    // These maps ignore their input: every row of the dataset is the same run, so each class summary is one
    // puzzle's kicks repeated (mean = that puzzle's share, an interval of zero width).
    const items = [0, 1, 2, 3].map((i) => ({ puzzle: PUZZLE, solution: SOLUTION, id: `row ${i}` }));
    const r: KickDataResult = runSteps(kickDataSteps([{ map: wide.map, label: 'wide', checkpoint: 'wide' }, { map: narrow.map, label: 'narrow', checkpoint: 'narrow' }], items, { ...o, source: 'four rows' }));
    const single = [wide, narrow].map((lm) => runSteps(kickSteps(lm.map, PUZZLE, { ...o, solution: SOLUTION })));
    assert.ok(single[0].basinRadius !== null && single[1].basinRadius !== null && single[0].basinRadius > single[1].basinRadius,
      `radii ${single[0].basinRadius} and ${single[1].basinRadius}`);
    for (const [i, c] of r.checkpoints.entries()) {
      assert.deepEqual(c.exact, { k: 4, n: 4, value: 1, lo: c.exact.lo, hi: 1 });
      assert.equal(c.correct.puzzles, 4);
      assert.equal(c.wrong.puzzles, 0);
      assert.equal(c.correct.medianRadius, single[i].basinRadius);
      assert.equal(c.correct.radius.find((x) => x.epsilon === single[i].basinRadius)?.count, 4);
      assert.equal(c.correct.radius.length, o.epsilons.length + 1);
      single[i].curve.forEach((p, e) => {
        const share = (p.random.returned + p.principal.returned) / (p.random.total + p.principal.total);
        assert.ok(Math.abs((c.correct.returned[e].mean ?? NaN) - share) < 1e-12);
        assert.ok(Math.abs((c.correct.returned[e].lo ?? NaN) - share) < 1e-12 && Math.abs((c.correct.returned[e].hi ?? NaN) - share) < 1e-12);
        // Their fixed point is the solution: a kick ends exact exactly when it comes back.
        assert.ok(Math.abs((c.correct.toExact[e].mean ?? NaN) - share) < 1e-12);
      });
      assert.deepEqual(c.wrong.returned.map((x) => x.mean), o.epsilons.map(() => null));
    }
    assert.deepEqual(r.comparison, { paired: 4, wider: 0, narrower: 4, same: 0, signTestP: 0.125 });
    assert.deepEqual(r.rows.map((x) => x.radius), items.map(() => [single[0].basinRadius, single[1].basinRadius]));
    assert.equal(r.kicksPerEpsilon, 14);
    assert.match(r.text, /^kick over four rows: 4 puzzles, z_H after segment 8, run on 12 segments, 14 kicks per ε per puzzle/);
    assert.match(r.text, /paired on the 4 puzzles both answer correctly: narrow's basin is wider on 0, narrower on 4, the same on 0 \(sign test p = 0\.125\)/);
  } finally {
    wide.dispose();
    narrow.dispose();
  }
});

test('kick over a dataset: a model that ends at another grid has only wrong answers, and kicks that do not rescue them', () => {
  const lm = linearMap({ r: 0.9, theta: 0.6, real: [0.7, 0.5, -0.4, 0.2], c: 0.3, solution: OTHER, start: 0.05 });
  try {
    const items = [{ puzzle: PUZZLE, solution: SOLUTION, id: 'a' }, { puzzle: PUZZLE, solution: SOLUTION, id: 'b' }];
    const r = runSteps(kickDataSteps([{ map: lm.map, label: 'other', checkpoint: 'other' }], items, { epsilons: [0.01, 0.05], directions: 6, pcs: 0, segments: 8, part: 'zH' }));
    const c = r.checkpoints[0];
    assert.equal(c.exact.k, 0);
    assert.equal(c.correct.puzzles, 0);
    assert.equal(c.correct.medianRadius, null);
    assert.equal(c.wrong.puzzles, 2);
    assert.equal(c.wrong.medianRadius, 0.05);
    assert.deepEqual(c.wrong.returned.map((x) => x.mean), [1, 1]);
    assert.deepEqual(c.wrong.toExact.map((x) => x.mean), [0, 0]);
    assert.equal(r.comparison, null);
    assert.deepEqual(r.rows, [{ id: 'a', exact: [false], radius: [0.05] }, { id: 'b', exact: [false], radius: [0.05] }]);
  } finally {
    lm.dispose();
  }
});

test('basin class: the median is a radius of the sweep (the lower one of two), "below the smallest ε" ranks lowest', () => {
  const eps = [0.1, 0.2, 0.5];
  const fake = (radius: number | null): KickResult => ({
    outcome: { grid: '', exact: true, wrongCells: 0, energy: 0, mode: 'trivial-success', segmentsToExact: 1, exactBySegment: [], wrongBySegment: [] },
    stateNorm: 1, reference: { grid: '', exact: true }, basinRadius: radius, basinLevel: 0.9, seconds: 0, text: '',
    curve: eps.map((epsilon) => ({ epsilon, random: { returned: 1, total: 2 }, principal: { returned: 0, total: 0 }, escapes: [] })),
  });
  assert.equal(basinClass(eps, [fake(null), fake(0.5), fake(0.2), fake(null)]).medianRadius, null);
  assert.equal(basinClass(eps, [fake(0.1), fake(0.5), fake(0.2), fake(0.5)]).medianRadius, 0.2);
  assert.deepEqual(basinClass(eps, [fake(0.1), fake(null)]).radius, [{ epsilon: 0.1, count: 1 }, { epsilon: 0.2, count: 0 }, { epsilon: 0.5, count: 0 }, { epsilon: null, count: 1 }]);
  assert.deepEqual(basinClass(eps, [fake(0.1)]).returned.map((x) => x.mean), [0.5, 0.5, 0.5]);
});

test('sign test: exact two-sided binomial p-values', () => {
  assert.equal(signTest(0, 0), null);
  assert.equal(signTest(0, 5), 0.0625);
  assert.equal(signTest(5, 0), 0.0625);
  assert.equal(signTest(3, 3), 1);
  assert.ok(Math.abs((signTest(1, 9) ?? NaN) - 2 * (1 + 10) / 1024) < 1e-15);
  assert.ok(Math.abs((signTest(2, 11) ?? NaN) - 2 * (1 + 13 + 78) / 8192) < 1e-15);
  // Large counts stay finite and in [0, 1].
  const p = signTest(400, 600) ?? NaN;
  assert.ok(p > 0 && p < 1e-9, String(p));
});

const cli = runCli;

test('hrm-lens kick --generate --compare on the shipped model: JSON over the puzzles; misuse is named on stderr', async () => {
  const common = ['--eps', '0.01,0.5', '--directions', '2', '--pcs', '0', '--segments', '4', '--run-on', '2', '--backend', 'wasm'];
  const [json, both, neither, compare] = await Promise.all([
    cli(['kick', SHIPPED, '--generate', '3', '--seed', '2', '--compare', SHIPPED, '--json', ...common]),
    cli(['kick', SHIPPED, '.1.....3..32....', '--generate', '3', ...common]),
    cli(['kick', SHIPPED, ...common]),
    cli(['kick', SHIPPED, '.1.....3..32....', '--compare', SHIPPED, ...common]),
  ]);
  assert.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout) as KickDataResult;
  assert.equal(r.puzzles, 3);
  assert.equal(r.source, '3 generated 4×4 puzzles (seed 2)');
  assert.deepEqual(r.epsilons, [0.01, 0.5]);
  assert.equal(r.rows.length, 3);
  // One checkpoint against itself: every pair is the same, the sign test has nothing to test.
  assert.deepEqual(r.checkpoints.map((c) => c.label), ['models/tiny-4x4.safetensors', 'models/tiny-4x4.safetensors']);
  assert.deepEqual(r.checkpoints[0].correct, r.checkpoints[1].correct);
  assert.deepEqual(r.comparison, { paired: r.checkpoints[0].correct.puzzles, wider: 0, narrower: 0, same: r.checkpoints[0].correct.puzzles, signTestP: null });
  assert.equal(r.checkpoints[0].correct.puzzles + r.checkpoints[0].wrong.puzzles, 3);
  for (const x of [both, neither, compare]) assert.equal(x.code, 1);
  assert.match(both.stderr, /^hrm-lens: kick: give a PUZZLE or --data \/ --generate, not both/);
  assert.match(neither.stderr, /^hrm-lens: kick: give a PUZZLE, or --data FILE \/ --generate N/);
  assert.match(compare.stderr, /^hrm-lens: kick: --compare goes with --data \/ --generate/);
});

test('engine: intervene.kickData answers with the summary and progress; bad params are named', async () => {
  const { call } = engineUnderTest();
  const c = call('intervene.kickData', { checkpoints: [SHIPPED], puzzles: { generate: 2, seed: 1 }, epsilons: [0.1], directions: 2, pcs: 0, runOn: 2 });
  const res = await c.result();
  assert.equal(res.puzzles, 2);
  assert.deepEqual(c.events().at(-1), { done: 2 * (4 + 3 * 2), total: 2 * (4 + 3 * 2) });
  const bad: [object, RegExp][] = [
    [{ checkpoints: [], puzzles: { generate: 2 } }, /checkpoints must list one checkpoint file, or two to compare/],
    [{ checkpoints: [SHIPPED], puzzles: {} }, /puzzles must name a dataset file \(data\) or a count to generate \(generate\)/],
    [{ checkpoints: [SHIPPED], puzzles: { generate: 0 } }, /puzzles.generate must be an integer in 1…100000, got 0/],
    [{ checkpoints: [SHIPPED], puzzles: { generate: 2 }, directions: 0, pcs: 0 }, /got 0/],
  ];
  for (const [params, re] of bad) {
    const m = await call('intervene.kickData', params as never).reply;
    assert.ok('error' in m && m.error.code === 'InvalidParams' && re.test(m.error.message), `${JSON.stringify(params)}: ${JSON.stringify(m)}`);
  }
});
