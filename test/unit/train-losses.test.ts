/** The HRM loss: stablemax / softmax CE, reductions, BCE, agreement with the float64 JS loss, gradients on wasm. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { bceWithLogitsSum, hrmLoss, logStablemax, sequenceCorrect, stablemaxLossPerPuzzle, tokenCrossEntropy } from '../../engine/train/losses';
import { Rng } from '../../engine/util/rng';

const B = 3;
const C = 5;
const V = 4;

function fixture(seed: number): { logits: Float32Array; labels: Int32Array; qh: Float32Array; qc: Float32Array; ht: Float32Array; ct: Float32Array } {
  const rng = new Rng(seed);
  // Mix small and large logits, both signs (exercise both stablemax branches and the exact 0).
  const logits = Float32Array.from({ length: B * C * V }, (_, i) => (i % 7 === 0 ? 0 : rng.normal() * (i % 3 === 0 ? 20 : 2)));
  const labels = Int32Array.from({ length: B * C }, () => rng.int(V));
  return {
    logits, labels,
    qh: Float32Array.from([-5, 0.3, 40]),
    qc: Float32Array.from([2, -60, -0.7]),
    ht: Float32Array.from([0, 1, 1]),
    ct: Float32Array.from([0.2, 0.9, 0.5]),
  };
}

function jsStablemaxLogp(row: ArrayLike<number>, label: number): number {
  const s = (x: number): number => (x >= 0 ? x + 1 : 1 / (1 - x + 1e-30));
  let total = 0;
  for (let v = 0; v < row.length; v++) total += s(row[v]);
  return Math.log(s(row[label]) / total);
}

function jsSoftmaxLogp(row: ArrayLike<number>, label: number): number {
  const max = Math.max(...Array.from(row));
  let total = 0;
  for (let v = 0; v < row.length; v++) total += Math.exp(row[v] - max);
  return row[label] - max - Math.log(total);
}

function jsBce(x: number, z: number): number {
  return Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x)));
}

/** A variable that does not leave its initial tensor behind (tf.variable does not take ownership). */
function variable(init: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(init, true, name);
  init.dispose();
  return v;
}

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

for (const lossType of ['stablemax', 'softmax'] as const) {
  test(`hrmLoss (${lossType}) equals the JS reference: per-sequence mean, batch sum, Q terms, / globalBatch`, async () => {
    await tf.setBackend('cpu');
    const f = fixture(3);
    const globalBatch = 8;
    let lm = 0;
    for (let b = 0; b < B; b++) {
      let seq = 0;
      for (let c = 0; c < C; c++) {
        const row = f.logits.subarray((b * C + c) * V, (b * C + c + 1) * V);
        seq -= lossType === 'stablemax' ? jsStablemaxLogp(row, f.labels[b * C + c]) : jsSoftmaxLogp(row, f.labels[b * C + c]);
      }
      lm += seq / C;
    }
    let qh = 0;
    let qc = 0;
    for (let b = 0; b < B; b++) {
      qh += jsBce(f.qh[b], f.ht[b]);
      qc += jsBce(f.qc[b], f.ct[b]);
    }
    const out = tf.tidy(() => {
      const r = hrmLoss({
        logits: tf.tensor3d(f.logits, [B, C, V]), labels: tf.tensor2d(f.labels, [B, C], 'int32'),
        qHalt: tf.tensor1d(f.qh), qContinue: tf.tensor1d(f.qc), haltTarget: tf.tensor1d(f.ht), continueTarget: tf.tensor1d(f.ct),
        lossType, globalBatch,
      });
      return [r.total, r.lm, r.qHalt, r.qContinue].map((t) => t.dataSync()[0]);
    });
    close(out[1], lm / globalBatch, 1e-5, 'lm');
    close(out[2], qh / globalBatch, 1e-5, 'qHalt');
    close(out[3], qc / globalBatch, 1e-5, 'qContinue');
    close(out[0], (lm + 0.5 * (qh + qc)) / globalBatch, 1e-5, 'total');
  });
}

test('stablemaxLossPerPuzzle (float64 JS) agrees with the tensor loss; masks and ignore labels', async () => {
  await tf.setBackend('cpu');
  const f = fixture(11);
  const per = stablemaxLossPerPuzzle(f.logits, f.labels, C, V);
  assert.equal(per.length, B);
  const lm = tf.tidy(() => hrmLoss({
    logits: tf.tensor3d(f.logits, [B, C, V]), labels: tf.tensor2d(f.labels, [B, C], 'int32'),
    qHalt: tf.zeros([B]), haltTarget: tf.zeros([B]), lossType: 'stablemax', globalBatch: 1,
  }).lm.dataSync()[0]);
  close(lm, per.reduce((a, b) => a + b, 0), 1e-5, 'sum of per-puzzle losses');

  // Ignored labels (−100) and a float mask drop the same cells from the per-sequence mean.
  const ignored = Int32Array.from(f.labels);
  ignored[0] = -100;
  ignored[1] = -100;
  ignored[C + 3] = -100;
  for (let c = 0; c < C; c++) ignored[2 * C + c] = -100; // a padding row: contributes 0
  const perIgn = stablemaxLossPerPuzzle(f.logits, ignored, C, V);
  assert.equal(perIgn[2], 0);
  const mask = Float32Array.from(ignored, (l) => (l >= 0 ? 1 : 0));
  const [viaIgnore, viaMask] = tf.tidy(() => {
    const logits = tf.tensor3d(f.logits, [B, C, V]);
    const common = { logits, qHalt: tf.zeros([B]), haltTarget: tf.zeros([B]), lossType: 'stablemax' as const, globalBatch: 1 };
    return [
      hrmLoss({ ...common, labels: tf.tensor2d(ignored, [B, C], 'int32') }).lm.dataSync()[0],
      hrmLoss({ ...common, labels: tf.tensor2d(f.labels, [B, C], 'int32'), mask: tf.tensor2d(mask, [B, C]) }).lm.dataSync()[0],
    ];
  });
  close(viaIgnore, perIgn[0] + perIgn[1], 1e-5, 'ignore labels');
  close(viaMask, perIgn[0] + perIgn[1], 1e-5, 'mask');
  assert.throws(() => stablemaxLossPerPuzzle(new Float32Array(7), new Int32Array(1), C, V), RangeError);
});

test('stablemax pieces: s(0) = 1 on both branches, probabilities sum to 1, BCE is stable for huge logits', async () => {
  await tf.setBackend('cpu');
  const lp = tf.tidy(() => logStablemax(tf.tensor2d([[0, 0, 0, 0], [-1e6, 3, 0, -2]])).arraySync() as number[][]);
  for (const v of lp[0]) close(v, Math.log(0.25), 1e-6, 'uniform');
  close(lp[1].reduce((a, x) => a + Math.exp(x), 0), 1, 1e-6, 'sums to one');
  close(lp[1][1], Math.log(4 / (1e-6 + 4 + 1 + 1 / 3)), 1e-6, 'branch values');
  const bce = tf.tidy(() => bceWithLogitsSum(tf.tensor1d([1000, -1000, 0]), tf.tensor1d([1, 0, 1])).dataSync()[0]);
  close(bce, Math.log(2), 1e-6, 'bce');
  const ce = tf.tidy(() => tokenCrossEntropy(tf.tensor2d([[1e4, -1e4]]), tf.tensor1d([1], 'int32'), 'stablemax').dataSync()[0]);
  assert.ok(Number.isFinite(ce) && ce > 0);
});

test('sequenceCorrect: 1 only when argmax matches every valid cell', async () => {
  await tf.setBackend('cpu');
  const logits = tf.tensor3d([[[0, 1], [1, 0]], [[0, 1], [0, 1]], [[0, 1], [0, 1]]]);
  const labels = tf.tensor2d([[1, 0], [1, 0], [1, -100]], [3, 2], 'int32');
  assert.deepEqual([...sequenceCorrect(logits, labels).dataSync()], [1, 0, 1]);
  tf.dispose([logits, labels]);
});

test('gradients exist and agree on cpu and wasm (stablemax and softmax, through tf.variableGrads)', async () => {
  const f = fixture(5);
  const results: Record<string, Float32Array[]> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    for (const lossType of ['stablemax', 'softmax'] as const) {
      const before = tf.memory().numTensors;
      const logits = variable(tf.tensor3d(f.logits, [B, C, V]), `lg_${backend}_${lossType}`);
      const qh = variable(tf.tensor1d(f.qh), `qh_${backend}_${lossType}`);
      const qc = variable(tf.tensor1d(f.qc), `qc_${backend}_${lossType}`);
      const withIgnored = Int32Array.from(f.labels);
      withIgnored[2] = -100; // an ignored cell: exercised on wasm too
      const labels = tf.tensor2d(withIgnored, [B, C], 'int32');
      const mask = tf.tensor2d(Float32Array.from({ length: B * C }, (_, i) => (i === 7 ? 0 : 1)), [B, C]);
      const targets = [tf.tensor1d(f.ht), tf.tensor1d(f.ct), mask];
      const { value, grads } = tf.variableGrads(() => hrmLoss({
        logits, labels, mask, qHalt: qh, qContinue: qc, haltTarget: targets[0], continueTarget: targets[1], lossType, globalBatch: B,
      }).total, [logits, qh, qc]);
      assert.ok(Number.isFinite(value.dataSync()[0]));
      const gs = [grads[logits.name], grads[qh.name], grads[qc.name]].map((g) => g.dataSync().slice() as Float32Array);
      for (const g of gs) assert.ok(g.every(Number.isFinite) && g.some((x) => x !== 0), `${backend} ${lossType}: gradient present`);
      for (const cell of [2, 7]) for (let v = 0; v < V; v++) assert.ok(gs[0][cell * V + v] === 0, `${backend}: masked cell ${cell} has no gradient`);
      // dL/dq = (σ(q) − z) · 0.5 / B for the Q heads.
      for (let b = 0; b < B; b++) close(gs[1][b], (1 / (1 + Math.exp(-f.qh[b])) - f.ht[b]) * 0.5 / B, 1e-5, 'dq_halt');
      results[`${backend}/${lossType}`] = gs;
      tf.dispose([value, ...Object.values(grads), logits, qh, qc, labels, ...targets]);
      assert.equal(tf.memory().numTensors, before, `${backend} ${lossType}: no leaks`);
    }
  }
  for (const lossType of ['stablemax', 'softmax']) {
    const [a, b] = [results[`cpu/${lossType}`], results[`wasm/${lossType}`]];
    for (let k = 0; k < a.length; k++) for (let i = 0; i < a[k].length; i++) close(a[k][i], b[k][i], 1e-5, `${lossType} cpu vs wasm`);
  }
  await tf.setBackend('cpu');
});

test('stablemax gradient matches finite differences of the float64 loss', async () => {
  await tf.setBackend('cpu');
  const f = fixture(9);
  const logits = tf.variable(tf.tensor3d(f.logits, [B, C, V]), true, 'fd_logits');
  const labels = tf.tensor2d(f.labels, [B, C], 'int32');
  const { value, grads } = tf.variableGrads(() => hrmLoss({
    logits, labels, qHalt: tf.zeros([B]), haltTarget: tf.zeros([B]), lossType: 'stablemax', globalBatch: 1,
  }).lm, [logits]);
  const g = grads[logits.name].dataSync();
  const x = Float64Array.from(f.logits);
  const loss = (arr: Float64Array): number => stablemaxLossPerPuzzle(arr, f.labels, C, V).reduce((a, b) => a + b, 0);
  for (const i of [0, 1, 5, 17, 30, 41, 59]) {
    if (x[i] === 0) continue; // kink of relu/min: one-sided derivatives agree, skip the symmetric difference
    const h = 1e-4 * Math.max(1, Math.abs(x[i]));
    const xp = Float64Array.from(x);
    const xm = Float64Array.from(x);
    xp[i] += h;
    xm[i] -= h;
    close(g[i], (loss(xp) - loss(xm)) / (2 * h), 2e-3, `d/dlogit[${i}]`);
  }
  tf.dispose([value, grads[logits.name], logits, labels]);
});
