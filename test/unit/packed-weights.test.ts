/**
 * Weights packed once and kept in the GEMM module's memory (engine/kernels/packed-weights.ts) and the joint q|k|v
 * product for calls with few rows (engine/model/fused.ts qkvJoint): the same bits as packing at every call, a weight
 * changed by `assign` is never read from the cache, activations are never kept, and a whole model's segments are
 * unchanged bit for bit with the cache on and off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { createModel, disposeCarry, initialCarry, makeConfig, runSegment } from '../../engine/model';
import { gateUpSwiglu, qkvJoint } from '../../engine/model/fused';
import { packedWeights } from '../../engine/kernels/wasm-gemm';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToTokens } from '../../engine/sudoku/geometry';

function bits(t: tf.Tensor): number[] {
  const d = t.dataSync() as Float32Array;
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
}

/** fn with HRM_LENS_PACK_CACHE_MB set to `mb` ('' = the default). */
function withCache<T>(mb: string, fn: () => T): T {
  const prev = process.env.HRM_LENS_PACK_CACHE_MB;
  process.env.HRM_LENS_PACK_CACHE_MB = mb;
  try {
    return fn();
  } finally {
    if (prev === undefined) delete process.env.HRM_LENS_PACK_CACHE_MB;
    else process.env.HRM_LENS_PACK_CACHE_MB = prev;
  }
}

test('packed weights: set up the wasm backend', async () => {
  await selectBackend({ backend: 'wasm' });
  assert.equal(tf.getBackend(), 'wasm');
});

test('a variable B is packed once and kept: the same bits as packing every time; an assigned weight is repacked', () => {
  const [M, K, N] = [82, 96, 72]; // N not a multiple of the panel width: the kept panels are zero-padded
  const x = tf.randomNormal([M, K], 0, 1, 'float32', 1) as tf.Tensor2D;
  const w = tf.variable(tf.randomNormal([K, N], 0, 1, 'float32', 2), false, 'packed-weights-test-w');
  const plain = tf.clone(w); // the same values, not a variable: never kept
  try {
    const ref = withCache('0', () => tf.tidy(() => bits(tf.matMul(x, plain))));
    const hits0 = packedWeights.stats.hits;
    const packs0 = packedWeights.stats.packs;
    const first = tf.tidy(() => bits(tf.matMul(x, w)));
    const second = tf.tidy(() => bits(tf.matMul(x, w)));
    assert.deepEqual(first, ref, 'the first product (packs into the cache) has the bits of the uncached one');
    assert.deepEqual(second, ref, 'the second (from the cache) too');
    assert.equal(packedWeights.stats.packs - packs0, 1, 'packed once');
    assert.ok(packedWeights.stats.hits - hits0 >= 1, 'then read from the cache');
    const packs1 = packedWeights.stats.packs;
    tf.tidy(() => bits(tf.matMul(x, plain)));
    assert.equal(packedWeights.stats.packs, packs1, 'a tensor that is not a variable is not kept');

    // A weight update (what the optimizer does): the product follows the new values.
    tf.tidy(() => w.assign(tf.mul(w, -0.5)));
    const updated = withCache('0', () => tf.tidy(() => bits(tf.matMul(x, tf.clone(w)))));
    assert.notDeepEqual(updated, ref, 'the update changes the product (a real check)');
    assert.deepEqual(tf.tidy(() => bits(tf.matMul(x, w))), updated, 'the assigned weight is not read from the old entry');
    assert.deepEqual(tf.tidy(() => bits(tf.matMul(x, w))), updated, 'nor on the next call');
  } finally {
    x.dispose(); w.dispose(); plain.dispose();
  }
});

test('qkvJoint: one product with the fused weight gives the bits of the three products', () => {
  const D = 48;
  const x = tf.randomNormal([34, D], 0, 1, 'float32', 3) as tf.Tensor2D;
  const wQkv = tf.variable(tf.randomNormal([D, 3 * D], 0, 0.2, 'float32', 4), false, 'packed-weights-test-qkv') as tf.Variable<tf.Rank.R2>;
  try {
    const joint = qkvJoint(x, wQkv);
    assert.ok(joint, 'applies off the tape on wasm for few rows');
    for (let i = 0; i < 3; i++) {
      const three = tf.tidy(() => bits(tf.matMul(x, tf.slice(wQkv, [0, i * D], [D, D]))));
      assert.deepEqual(bits(joint[i]), three, `projection ${'qkv'[i]}`);
    }
    joint.forEach((t) => t.dispose());
    const big = tf.zeros([256, D]) as tf.Tensor2D;
    assert.equal(qkvJoint(big, wQkv), undefined, 'not for 256 rows or more (the in-place products)');
    big.dispose();
    let taped: unknown = 'unset';
    tf.grad((xx: tf.Tensor) => { taped = qkvJoint(xx as tf.Tensor2D, wQkv); return tf.sum(xx); })(x).dispose();
    assert.equal(taped, undefined, 'not on the tape');
  } finally {
    x.dispose(); wQkv.dispose();
  }
});

test('the kept gate|up weight: the fused MLP kernel gives the bits of the heap path', () => {
  const [M, D, I] = [82, 64, 96];
  const x = tf.randomNormal([M, D], 0, 1, 'float32', 5) as tf.Tensor2D;
  const gu = tf.variable(tf.randomNormal([D, 2 * I], 0, 0.3, 'float32', 6), false, 'packed-weights-test-gu') as tf.Variable<tf.Rank.R2>;
  const plain = tf.clone(gu) as tf.Tensor2D;
  try {
    const packs0 = packedWeights.stats.packs;
    const kept = gateUpSwiglu(x, gu);
    const heap = gateUpSwiglu(x, plain);
    assert.ok(kept && heap, 'the fused kernel applies');
    assert.equal(packedWeights.stats.packs - packs0, 1, 'the variable weight was packed into the cache');
    assert.deepEqual(bits(kept), bits(heap), 'kept weight = the heap path, bit for bit');
    const again = gateUpSwiglu(x, gu);
    assert.ok(again);
    assert.deepEqual(bits(again), bits(heap), 'and from the cache on the next call');
    kept.dispose(); heap.dispose(); again.dispose();
  } finally {
    x.dispose(); gu.dispose(); plain.dispose();
  }
});

test('a model\'s segments at batch 1 and 2: the same bits with the cache on and off, before and after a weight update', () => {
  const config = makeConfig({ gridSize: 9, hidden: 64, heads: 2, expansion: 4, interMultiple: 64, H_layers: 1, L_layers: 2, H_cycles: 2, L_cycles: 2, positions: 'rope', haltMaxSteps: 4 });
  const model = createModel(config, 11);
  const cells = model.dims.cells;
  const run = (batch: number): number[][] => {
    const puzzles = generatePuzzles({ n: 9, seed: 5 }, batch);
    const tok = new Int32Array(batch * cells);
    puzzles.forEach((p, i) => tok.set(gridToTokens(p.puzzle), i * cells));
    const tokens = tf.tensor2d(tok, [batch, cells], 'int32');
    let carry = initialCarry(model, batch);
    const out: number[][] = [];
    for (let k = 0; k < 3; k++) {
      const o = runSegment(model, carry, tokens);
      disposeCarry(carry);
      out.push(bits(o.logits), bits(o.qHalt), bits(o.carry.zH));
      o.logits.dispose(); o.qHalt.dispose(); o.qContinue.dispose();
      carry = o.carry;
    }
    disposeCarry(carry);
    tokens.dispose();
    return out;
  };
  try {
    const before = tf.memory().numTensors;
    for (const batch of [1, 2]) {
      const off = withCache('0', () => run(batch));
      const packs0 = packedWeights.stats.packs;
      const on = run(batch);
      assert.ok(packedWeights.stats.packs > packs0 || packedWeights.stats.hits > 0, 'the cache was used');
      assert.deepEqual(on, off, `batch ${batch}: cache on = off`);
      assert.deepEqual(run(batch), off, `batch ${batch}: from the cache`);
    }
    // An optimizer step's worth of change to every weight: the next segments follow it.
    const old = run(1);
    for (const [, v] of model.weights) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', 9))));
    const fresh = withCache('0', () => run(1));
    assert.notDeepEqual(fresh, old, 'the update changes the segments (a real check)');
    assert.deepEqual(run(1), fresh, 'after the update: cache on = off');
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  } finally {
    model.dispose();
  }
});
