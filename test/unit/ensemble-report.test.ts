// Ensemble report on a small hand-built pass matrix (3 puzzles × 2 checkpoints × 3 perturbations), numbers by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { geometry } from '../../engine/sudoku/geometry';
import { conflictEnergy } from '../../engine/sudoku/energy';
import type { Pass } from '../../engine/ensemble/votes';
import {
  type PassMatrix, bandsCsv, buildEnsembleReport, curvesCsv, ensembleAccuracy, ensembleDetail, jaccardCsv, passesCsv, reportToJson, solvedCsv,
  summaryCsv,
} from '../../engine/ensemble/report';

const S = Int8Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]);
const W1 = Int8Array.from(S, (d, i) => (i === 0 ? 2 : i === 2 ? 4 : d)); // E = 6
const W2 = Int8Array.from(S, (d, i) => (i === 15 ? 4 : d)); // E = 3
const geo = geometry(4);
const h = (a: Int8Array): Pass => ({ answer: a, halted: true, qHalt: 1, energy: conflictEnergy(a, geo) });
const nh = (a: Int8Array): Pass => ({ ...h(a), halted: false });

// passes[puzzle][checkpoint][perturbation]; perturbation 0 = identity; baseline = last checkpoint (c1)
const MATRIX: PassMatrix = {
  passes: [
    [[h(S), h(W1), h(W1)], [h(W1), h(S), h(S)]],
    [[h(S), h(S), nh(W1)], [nh(S), h(W1), h(W2)]],
    [[h(W1), h(W2), h(W2)], [h(W1), h(W1), h(S)]],
  ],
  solutions: [S, S, S],
  checkpointNames: ['step-1000', 'step,2000'],
  ratings: [0, 5, 50],
};

test('report: the four configurations under the oracle and label-free rules', () => {
  const r = buildEnsembleReport(MATRIX);
  assert.equal(r.baselineCheckpoint, 1);
  assert.equal(r.identityPerturbation, 0);
  assert.deepEqual(r.summary, {
    baseline: { oracle: 0, labelFree: 1 / 3 }, // puzzle 1: a lone non-halted right pass counts only label-free
    relabeling: { oracle: 1 / 3, labelFree: 1 / 3 }, // puzzle 1 label-free: W1/W2 tie → lower E → W2 (wrong)
    checkpoints: { oracle: 2 / 3, labelFree: 2 / 3 },
    both: { oracle: 2 / 3, labelFree: 2 / 3 }, // puzzle 0 label-free: S 3 – W1 3 tie → lower E → S
  });
  assert.deepEqual([...r.solved.baseline.labelFree], [0, 1, 0]);
  assert.deepEqual([...r.solved.both.oracle], [1, 1, 0]);
  assert.deepEqual(ensembleAccuracy(MATRIX, [0], [0]), { oracle: 2 / 3, labelFree: 2 / 3 });
  const b0 = buildEnsembleReport(MATRIX, { baselineCheckpoint: 0 });
  assert.deepEqual(b0.summary.baseline, { oracle: 2 / 3, labelFree: 2 / 3 });
  assert.throws(() => buildEnsembleReport(MATRIX, { baselineCheckpoint: 2 }), /baselineCheckpoint/);
});

test('report: accuracy vs the number of relabelings (first k) and of checkpoints (last k)', () => {
  const r = buildEnsembleReport(MATRIX);
  assert.deepEqual(r.curves.relabelings, [
    { k: 1, oracle: 0, labelFree: 1 / 3 },
    { k: 2, oracle: 0, labelFree: 1 / 3 },
    { k: 3, oracle: 1 / 3, labelFree: 1 / 3 },
  ]);
  assert.deepEqual(r.curves.checkpoints, [
    { k: 1, oracle: 0, labelFree: 1 / 3 },
    { k: 2, oracle: 2 / 3, labelFree: 2 / 3 },
  ]);
  assert.deepEqual(r.curves.checkpointsAllRelabelings.map((p) => p.oracle), [1 / 3, 2 / 3]);
  assert.deepEqual(r.curves.relabelingsAllCheckpoints.at(-1), { k: 3, ...r.summary.both });
});

test('report: per-pass bits, per-checkpoint solved sets, Jaccard, rating bands', () => {
  const r = buildEnsembleReport(MATRIX);
  assert.deepEqual([...r.passExact], [1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...r.passHalted], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...r.checkpointSolved.oracle], [0, 1, 0, 1, 0, 0]);
  assert.deepEqual([...r.checkpointSolved.labelFree], [0, 1, 0, 1, 0, 0]);
  assert.deepEqual([...r.jaccard.oracle], [1, 0, 0, 1]);
  assert.equal(r.bands?.length, 4);
  assert.deepEqual(r.bands?.map((b) => [b.lo, b.hi, b.count]), [[0, 1, 1], [1, 10, 1], [10, 100, 1], [100, Infinity, 0]]);
  assert.deepEqual(r.bands?.[1].summary.baseline, { oracle: 0, labelFree: 1 });
  assert.ok(Number.isNaN(r.bands?.[3].summary.both.oracle ?? 0));
  const custom = buildEnsembleReport(MATRIX, { ratingBands: [0, 10, Infinity] });
  assert.deepEqual(custom.bands?.map((b) => b.count), [2, 1]);
  assert.deepEqual(custom.bands?.[0].summary.both, { oracle: 1, labelFree: 1 });
  assert.throws(() => buildEnsembleReport(MATRIX, { ratingBands: [0, 10, 5] }), /ascending/);
  assert.equal(buildEnsembleReport({ ...MATRIX, ratings: undefined }).bands, undefined);
  // Jaccard of two empty solved sets is 1
  const empty = buildEnsembleReport({ passes: [[[h(W1)], [h(W2)]]], solutions: [S] });
  assert.deepEqual([...empty.jaccard.oracle], [1, 1, 1, 1]);
});

test('report: JSON and CSV writers', () => {
  const r = buildEnsembleReport(MATRIX);
  const j = JSON.parse(reportToJson(r)) as { summary: { both: { oracle: number } }; passExact: number[]; bands: { hi: number | null; summary: { both: { oracle: number | null } } }[]; checkpointNames: string[] };
  assert.equal(j.summary.both.oracle, 2 / 3);
  assert.equal(j.passExact.length, 18);
  assert.equal(j.bands[3].hi, null);
  assert.equal(j.bands[3].summary.both.oracle, null);
  assert.deepEqual(j.checkpointNames, ['step-1000', 'step,2000']);
  assert.equal(summaryCsv(r), [
    'configuration,checkpoints,perturbations,oracle,labelFree',
    `baseline,1,1,0,${1 / 3}`,
    `relabeling,1,3,${1 / 3},${1 / 3}`,
    `checkpoints,2,1,${2 / 3},${2 / 3}`,
    `both,2,3,${2 / 3},${2 / 3}`,
  ].join('\n') + '\n');
  const passes = passesCsv(r).trim().split('\n');
  assert.equal(passes.length, 1 + 18);
  assert.equal(passes[0], 'puzzle,checkpoint,perturbation,halted,exact');
  assert.equal(passes[4], '0,"step,2000",p=0,1,0');
  assert.equal(solvedCsv(r).split('\n')[2], '1,0,1,0,0,1,1,1,1');
  assert.equal(jaccardCsv(r).split('\n')[0], 'checkpoint,step-1000,"step,2000"');
  assert.equal(curvesCsv(r).split('\n')[1], `relabelings,1,0,${1 / 3}`);
  assert.equal(bandsCsv(r).trim().split('\n').at(-1), '100,inf,0,,,,,,,,');
});

test('report: shape errors name the puzzle and checkpoint', () => {
  assert.throws(() => buildEnsembleReport({ passes: [[[h(S)]]], solutions: [] }), /1 puzzles but 0 solutions/);
  assert.throws(() => buildEnsembleReport({ passes: [[[h(S)]], [[h(S)], [h(S)]]], solutions: [S, S] }), /puzzle 1 has 2 checkpoints/);
  assert.throws(() => buildEnsembleReport({ passes: [[[h(S)], [h(S), h(S)]]], solutions: [S] }), /puzzle 0, checkpoint 1 has 2 perturbations/);
  const none = buildEnsembleReport({ passes: [], solutions: [] });
  assert.ok(Number.isNaN(none.summary.both.oracle));
});

test('detail for the panel: one digit per pass (exact + 2·halted) and per puzzle (oracle + 2·label-free), JSON-safe', () => {
  const d = ensembleDetail(buildEnsembleReport(MATRIX));
  // puzzle 0: c0 [S h, W1 h, W1 h] c1 [W1 h, S h, S h]; puzzle 1: c0 [S h, S h, W1 nh] c1 [S nh, W1 h, W2 h]; …
  assert.equal(d.passes, '322233' + '330122' + '222223');
  assert.equal(d.solved.baseline, '020');
  assert.equal(d.solved.both, '330');
  assert.deepEqual(d.checkpointNames, ['step-1000', 'step,2000']);
  assert.equal(d.curves.relabelings.length, 3);
  assert.equal(d.jaccard.oracle.length, 4);
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'survives the JSON wire unchanged');
});
