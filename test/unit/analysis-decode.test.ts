// Decoding logits: argmax → digits, confidence (softmax default, stablemax), stablemax loss
// (docs/analyses.md §Decoding and confidence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  argmaxTokens, cellConfidence, decodeDigits, decodeSegment, logitsFromGrid, stablemax, stablemaxCellLoss, stablemaxLoss,
} from '../../engine/analysis/decode';

const SOL4 = Int8Array.from([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]);
const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('decode: logitsFromGrid round-trips through argmax; blank → token 1 → digit 0', () => {
  const g = Int8Array.from(SOL4);
  g[5] = 0;
  const logits = logitsFromGrid(g, 4);
  assert.equal(logits.length, 16 * 6);
  assert.deepEqual([...decodeDigits(logits, 4)], [...g]);
  assert.equal(argmaxTokens(logits, 4)[5], 1);
  assert.equal(argmaxTokens(logits, 4)[0], 2);
});

test('decode: ties go to the lowest token, NaN never wins, all-NaN and PAD decode to 0', () => {
  const logits = new Float32Array(16 * 6);
  // cell 0: tie between tokens 3 and 4 → 3 (digit 2)
  logits.set([0, 0, 0, 7, 7, 0], 0);
  // cell 1: NaN at token 5, max elsewhere at token 2
  logits.set([0, 0, 1, 0, 0, NaN], 6);
  // cell 2: all NaN → token 0
  logits.set([NaN, NaN, NaN, NaN, NaN, NaN], 12);
  // cell 3: PAD wins → digit 0
  logits.set([9, 0, 0, 0, 0, 0], 18);
  // cell 4: all -Infinity → token 0
  logits.set([-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity], 24);
  const tok = argmaxTokens(logits, 4);
  assert.deepEqual([...tok.subarray(0, 5)], [3, 2, 0, 0, 0]);
  assert.deepEqual([...decodeDigits(logits, 4).subarray(0, 5)], [2, 1, 0, 0, 0]);
});

test('decode: confidence is the softmax probability of the argmax by default; stablemax on request', () => {
  const logits = logitsFromGrid(SOL4, 4, 5);
  const soft = cellConfidence(logits, 4);
  close(soft[0], Math.exp(5) / (Math.exp(5) + 5), 1e-6);
  const st = cellConfidence(logits, 4, 'stablemax');
  close(st[0], 6 / 11, 1e-6);
  const d = decodeSegment(logits, 4);
  assert.equal(d.confidenceKind, 'softmax');
  assert.equal(d.confidence[3], soft[3]);
  assert.equal(decodeSegment(logits, 4, { confidence: 'stablemax' }).confidence[3], st[3]);
  // negative logits: stablemax s(-1) = 1/2, s(-3) = 1/4
  const neg = new Float32Array(16 * 6).fill(-3);
  neg[2] = -1;
  close(cellConfidence(neg, 4, 'stablemax')[0], 0.5 / (0.5 + 5 * 0.25), 1e-6);
});

test('decode: stablemax s(x) and the per-cell / per-puzzle loss in float64', () => {
  assert.equal(stablemax(0), 1);
  assert.equal(stablemax(2.5), 3.5);
  assert.equal(stablemax(-1), 0.5);
  assert.equal(stablemax(-3), 0.25);
  const zeros = new Float32Array(16 * 6);
  close(stablemaxLoss(zeros, 4, SOL4), Math.log(6));
  // all right with margin 5: −log(6 / 11); one cell with the wrong argmax: its label logit is 0 → −log(1 / 11)
  const pred = Int8Array.from(SOL4);
  pred[0] = 2;
  const logits = logitsFromGrid(pred, 4, 5);
  const per = stablemaxCellLoss(logits, 4, SOL4);
  close(per[0], Math.log(11));
  close(per[1], -Math.log(6 / 11));
  close(stablemaxLoss(logits, 4, SOL4), (Math.log(11) + 15 * -Math.log(6 / 11)) / 16);
  // a hand case with mixed signs: logits for cell 0 = [-1, 0, 2, -3, 0.5, 1], label digit 1 → token 2
  const l = new Float64Array(16 * 6);
  l.set([-1, 0, 2, -3, 0.5, 1], 0);
  const sum = 0.5 + 1 + 3 + 0.25 + 1.5 + 2;
  close(stablemaxCellLoss(l, 4, SOL4)[0], -Math.log(3 / sum));
});

test('decode: cells without a label (solution digit 0) are NaN and left out of the mean', () => {
  const sol = Int8Array.from(SOL4);
  sol[0] = 0;
  const logits = logitsFromGrid(SOL4, 4, 5);
  const per = stablemaxCellLoss(logits, 4, sol);
  assert.ok(Number.isNaN(per[0]));
  close(stablemaxLoss(logits, 4, sol), -Math.log(6 / 11));
  assert.ok(Number.isNaN(stablemaxLoss(logits, 4, new Int8Array(16))));
});

test('decode: shape and value errors are explicit', () => {
  assert.throws(() => argmaxTokens(new Float32Array(10), 4), /expected 16×6/);
  assert.throws(() => stablemaxCellLoss(new Float32Array(96), 4, new Int8Array(15)), /solution has 15/);
  assert.throws(() => logitsFromGrid(new Int8Array(15), 4), /expected 16 cells/);
  assert.throws(() => logitsFromGrid(SOL4, 4, 0), /margin/);
  assert.throws(() => logitsFromGrid(Int8Array.from(SOL4, (d, i) => (i === 0 ? 7 : d)), 4), /allowed 0..4/);
});

test('decode: 9×9 sizes (vocab 11)', () => {
  const g = new Int8Array(81).map((_, i) => (i % 9) + 1);
  const logits = logitsFromGrid(g, 9, 3);
  assert.equal(logits.length, 81 * 11);
  assert.deepEqual([...decodeDigits(logits, 9)], [...g]);
});
