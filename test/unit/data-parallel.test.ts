/**
 * Data parallelism on the wasm backend: the helper thread runs a micro-batch to the same bits as this thread; a trainer
 * that uses it produces, step for step, the same weights and losses as one that runs its micro-batches one after the
 * other; a segment split between the threads gives the bits of runSegment on the whole batch. A closed helper takes no
 * job (its part is then computed here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { createModel, disposeCarry, initialCarry, makeConfig, runSegment } from '../../engine/model';
import { Trainer } from '../../engine/train/trainer';
import { getPreset } from '../../engine/train/presets';
import { DataParallelHelper } from '../../engine/train/data-parallel';
import { runMicroBatch } from '../../engine/train/micro-batch';
import { runSegmentParallel } from '../../engine/train/data-parallel-segment';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToTokens } from '../../engine/sudoku/geometry';

// Two compute threads even on a one-core machine, so that the helper is really used here.
process.env.HRM_LENS_GEMM_THREADS = '2';

const config = makeConfig({ ...getPreset('tiny-4x4').model, hidden: 32, heads: 2, interMultiple: 32 });

function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${what}: element ${i} differs (${a[i]} vs ${b[i]})`);
}

test('the helper thread runs a micro-batch to the same bits as this thread', { timeout: 120_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const model = createModel(config, 3);
  const helper = DataParallelHelper.get();
  assert.ok(helper, 'a helper starts on the wasm backend with two compute threads');
  const puzzles = generatePuzzles({ n: 4, seed: 4 }, 6);
  const cells = model.dims.cells;
  const tokens = new Int32Array(6 * cells), labels = new Int32Array(6 * cells);
  puzzles.forEach((p, i) => { tokens.set(gridToTokens(p.puzzle), i * cells); labels.set(gridToTokens(p.solution), i * cells); });
  const carry = initialCarry(model, 6);
  const input = { carry, tokens, labels, isLast: new Float32Array([0, 1, 0, 0, 1, 0]), lossType: 'stablemax' as const, globalBatch: 12 };
  try {
    helper.syncModel(model, 1);
    assert.ok(helper.beginMicroBatch(input));
    const here = runMicroBatch(model, input);
    const there = helper.finishMicroBatch(model, 60_000);
    assert.ok(there, `the helper answered (${helper.failure ?? ''})`);
    assert.equal(there.loss, here.loss);
    assert.deepEqual([there.lm, there.qHalt, there.qContinue], [here.lm, here.qHalt, here.qContinue]);
    sameBits(there.qHaltValues, here.qHaltValues, 'q_halt');
    sameBits(there.qContinueValues, here.qContinueValues, 'q_continue');
    sameBits(there.pred, here.pred, 'predictions');
    sameBits(there.carry.zH.dataSync() as Float32Array, here.carry.zH.dataSync() as Float32Array, 'zH');
    sameBits(there.carry.zL.dataSync() as Float32Array, here.carry.zL.dataSync() as Float32Array, 'zL');
    assert.deepEqual([...there.grads.keys()].sort(), [...here.grads.keys()].sort());
    for (const [name, g] of here.grads) sameBits(there.grads.get(name)?.dataSync() as Float32Array, g.dataSync() as Float32Array, `gradient of ${name}`);
    for (const r of [here, there]) { disposeCarry(r.carry); r.grads.forEach((g: tf.Tensor) => g.dispose()); }
  } finally {
    disposeCarry(carry);
    model.dispose();
  }
});

test('a segment split with the helper thread gives the bits of runSegment on the whole batch', { timeout: 120_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const model = createModel(makeConfig({ gridSize: 9, hidden: 64, heads: 2, expansion: 4, interMultiple: 64, H_layers: 1, L_layers: 1, H_cycles: 2, L_cycles: 2, positions: 'rope' }), 5);
  const puzzles = generatePuzzles({ n: 9, seed: 6 }, 4);
  const B = 21; // odd: halves of 11 and 10
  const tokens = new Int32Array(B * 81);
  for (let b = 0; b < B; b++) tokens.set(gridToTokens(puzzles[b % 4].puzzle), b * 81);
  const tok = tf.tensor2d(tokens, [B, 81], 'int32');
  let c1 = initialCarry(model, B), c2 = initialCarry(model, B);
  try {
    for (let s = 0; s < 3; s++) {
      const before = tf.memory().numTensors;
      const a = runSegmentParallel(model, c1, tok);
      const b = runSegment(model, c2, tok);
      for (const key of ['logits', 'qHalt', 'qContinue'] as const) sameBits(a[key].dataSync() as Float32Array, b[key].dataSync() as Float32Array, `segment ${s + 1} ${key}`);
      sameBits(a.carry.zH.dataSync() as Float32Array, b.carry.zH.dataSync() as Float32Array, `segment ${s + 1} zH`);
      sameBits(a.carry.zL.dataSync() as Float32Array, b.carry.zL.dataSync() as Float32Array, `segment ${s + 1} zL`);
      [a, b].forEach((o) => { o.logits.dispose(); o.qHalt.dispose(); o.qContinue.dispose(); });
      disposeCarry(c1); disposeCarry(c2);
      c1 = a.carry; c2 = b.carry;
      assert.equal(tf.memory().numTensors, before, `segment ${s + 1}: only the new carries replace the old`);
    }
    assert.equal(DataParallelHelper.failure(), undefined, 'the helper ran every half');
  } finally {
    disposeCarry(c1); disposeCarry(c2); tok.dispose(); model.dispose();
  }
});

test('an uncollected job is drained; a closed helper takes no job; the process starts a new one when asked', { timeout: 60_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const model = createModel(config, 8);
  const carry = initialCarry(model, 2);
  try {
    const helper = DataParallelHelper.get();
    assert.ok(helper);
    // A job never collected (its caller threw) is drained by the next one, which then pairs with its own answer.
    helper.syncModel(model);
    const tokens = new Int32Array(2 * model.dims.cells);
    assert.ok(helper.beginSegment(carry, tokens, 2));
    assert.ok(helper.beginSegment(carry, tokens, 2));
    const out = helper.finishSegment(model, 60_000);
    assert.ok(out, `the second job answered (${helper.failure ?? ''})`);
    const tokT = tf.tensor2d(tokens, [2, model.dims.cells], 'int32');
    const ref = runSegment(model, carry, tokT);
    tokT.dispose();
    sameBits(out.logits.dataSync() as Float32Array, ref.logits.dataSync() as Float32Array, 'logits of the second job');
    for (const o of [out, ref]) { disposeCarry(o.carry); o.logits.dispose(); o.qHalt.dispose(); o.qContinue.dispose(); }
    await helper.close();
    assert.equal(helper.beginSegment(carry, new Int32Array(2 * model.dims.cells), 2), false);
    assert.ok(helper.failure);
    const next = DataParallelHelper.get();
    assert.ok(next && next !== helper, 'a new helper');
  } finally {
    disposeCarry(carry);
    model.dispose();
  }
});

test('a trainer with the helper thread gives the bits of one without it, step for step', { timeout: 180_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-dp-'));
  const preset = getPreset('tiny-4x4');
  const spec = {
    preset: 'tiny-4x4', model: config, train: { ...preset.train, batch: 8, steps: 100, evalPuzzles: 0 },
    seed: 7, mixing: true, augment: true, data: { kind: 'generated' as const }, backend: {},
  };
  const parallel = await Trainer.create(path.join(tmp, 'p'), spec);
  const serial = await Trainer.create(path.join(tmp, 's'), spec);
  const serialStep = () => {
    process.env.HRM_LENS_DATA_PARALLEL = '0';
    try { return serial.trainStep(); } finally { delete process.env.HRM_LENS_DATA_PARALLEL; }
  };
  try {
    serialStep();
    parallel.trainStep();
    const before = tf.memory().numTensors;
    for (let step = 2; step <= 6; step++) {
      const a = parallel.trainStep();
      const b = serialStep();
      assert.match(parallel.describeParallelism(), /2 micro-batches of ≤ 4, every second one on a data-parallel helper thread/);
      assert.match(serial.describeParallelism(), /2 micro-batches of ≤ 4, one after the other/);
      assert.equal(a.loss, b.loss, `loss at step ${step}`);
      assert.equal(a.halted, b.halted, `halted at step ${step}`);
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind by the exchanges');
    for (const [name, v] of parallel.model.weights) sameBits(v.dataSync() as Float32Array, serial.model.weight(name).dataSync() as Float32Array, name);
  } finally {
    await parallel.close();
    await serial.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
