import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { type HrmConfig, makeConfig } from '../../engine/model/config';
import {
  type Carry, type HrmModel, type TapedOutput, createModel, disposeCarry, disposeSegmentOutput, embedInput, exportWeights,
  initialCarry, modelFromWeights, runSegment, runSegmentNoTapePart, runSegmentTapedPart, segmentGradients, segmentSchedule, tapedStepCount,
} from '../../engine/model/hrm';
import { gradientWeightNames } from '../../engine/model/weights';
import { Rng } from '../../engine/util/rng';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const SMALL: Partial<HrmConfig> = { gridSize: 4, hidden: 16, heads: 2, expansion: 2, interMultiple: 8, H_cycles: 2, L_cycles: 2 };

function setup(cfg: Partial<HrmConfig>, seed: number) {
  const model = createModel(makeConfig({ ...SMALL, ...cfg }), seed);
  const rng = new Rng(seed + 100);
  // Non-trivial puzzle vector and q_head so that their gradients are exercised.
  model.weight('puzzle_emb.weights').assign(tf.tensor2d(Float32Array.from({ length: 16 }, () => 0.1 * rng.normal()), [1, 16]));
  model.weight('q_head.weight').assign(tf.tensor2d(Float32Array.from({ length: 32 }, () => 0.1 * rng.normal()), [16, 2]));
  const B = 2;
  const { cells, vocab } = model.dims;
  const tokens = tf.tensor2d(Int32Array.from({ length: B * cells }, () => 1 + rng.int(vocab - 1)), [B, cells], 'int32');
  const r = tf.tensor3d(Float32Array.from({ length: B * cells * vocab }, () => rng.normal()), [B, cells, vocab]);
  const rq = tf.tensor1d(Float32Array.from({ length: B }, () => rng.normal()));
  const lossFn = (o: TapedOutput) => tf.add(tf.sum(tf.mul(o.logits, r)), tf.sum(tf.mul(tf.add(o.qHalt, tf.mul(o.qContinue, 0.5)), rq))) as tf.Scalar;
  // Start from a carry one segment in, so both z's differ from the init.
  const init = initialCarry(model, B);
  const first = runSegment(model, init, tokens);
  disposeCarry(init);
  const carry = first.carry;
  for (const t of [first.logits, first.qHalt, first.qContinue]) t.dispose();
  return { model, tokens, lossFn, carry, rng, dispose: () => { disposeCarry(carry); for (const t of [tokens, r, rq]) t.dispose(); model.dispose(); } };
}

/** Loss of the whole segment recomputed from the carry (full backprop-through-the-segment semantics). */
function fullLoss(model: HrmModel, carry: Carry, tokens: tf.Tensor2D, lossFn: (o: TapedOutput) => tf.Scalar): number {
  return tf.tidy(() => {
    const x = embedInput(model, tokens);
    const mid = runSegmentNoTapePart(model, carry, x);
    return lossFn(runSegmentTapedPart(model, mid, x)).dataSync()[0];
  });
}

function perturbed(model: HrmModel, name: string, index: number, delta: number, f: () => number): number {
  const v = model.weight(name);
  const orig = Float32Array.from(v.dataSync() as Float32Array);
  const data = Float32Array.from(orig);
  data[index] += delta;
  v.assign(tf.tensor(data, v.shape));
  const out = f();
  v.assign(tf.tensor(orig, v.shape));
  return out;
}

/** Checks the gradient at the `count` largest-|g| entries of each weight against central differences of `f`. */
function checkFd(model: HrmModel, grads: Map<string, tf.Tensor>, names: string[], f: () => number, count = 2): number {
  let worst = 0;
  const eps = 3e-3;
  for (const name of names) {
    const g = grads.get(name);
    assert.ok(g, `no gradient for ${name}`);
    const gd = g.dataSync();
    const order = [...gd.keys()].sort((a, b) => Math.abs(gd[b]) - Math.abs(gd[a])).slice(0, count);
    for (const i of order) {
      const fd = (perturbed(model, name, i, eps, f) - perturbed(model, name, i, -eps, f)) / (2 * eps);
      const err = Math.abs(fd - gd[i]) / Math.max(0.05, Math.abs(gd[i]));
      worst = Math.max(worst, err);
      assert.ok(err < 0.05, `${name}[${i}]: finite difference ${fd} vs gradient ${gd[i]}`);
    }
  }
  return worst;
}

test('HRM one-step gradient: every trainable weight + puzzle vector gets a gradient, buffers never', () => {
  const s = setup({}, 1);
  const g = segmentGradients(s.model, s.carry, s.tokens, s.lossFn);
  assert.deepEqual([...g.grads.keys()].sort(), gradientWeightNames(s.model.config).sort());
  assert.ok(!g.grads.has('H_init') && !g.grads.has('L_init'));
  for (const [name, t] of g.grads) {
    assert.ok(t.dataSync().every(Number.isFinite), name);
    assert.ok(t.dataSync().some((v) => v !== 0), `${name} has an all-zero gradient`);
  }
  assert.equal(tapedStepCount(s.model.config), 2);
  assert.equal(segmentSchedule(s.model.config).length, 6);
  // The outputs equal an inference segment from the same carry.
  const ref = runSegment(s.model, s.carry, s.tokens);
  assert.deepEqual(g.output.logits.dataSync(), ref.logits.dataSync());
  assert.deepEqual(g.output.carry.zL.dataSync(), ref.carry.zL.dataSync());
  disposeSegmentOutput(ref);
  disposeSegmentOutput(g.output);
  g.loss.dispose();
  for (const t of g.grads.values()) t.dispose();
  s.dispose();
});

test('HRM one-step gradient = d(loss of the last L + last H call, earlier calls held fixed) (finite differences)', () => {
  const s = setup({}, 2);
  const g = segmentGradients(s.model, s.carry, s.tokens, s.lossFn);
  // Independent split from one-cycle copies: (L, L, H) then one more L with the original weights, held fixed…
  const copy = (H_cycles: number, L_cycles: number) => modelFromWeights({ ...s.model.config, H_cycles, L_cycles }, exportWeights(s.model));
  const a = copy(1, 2);
  const b = copy(1, 1);
  const last = copy(1, 1);
  const c1 = runSegment(a, s.carry, s.tokens);
  const c2 = runSegment(b, c1.carry, s.tokens);
  const midCarry = { zH: c1.carry.zH, zL: c2.carry.zL };
  // …then the last L and H calls with perturbable weights.
  const lossOfLast = () => tf.tidy(() => {
    const o = runSegment(last, midCarry, s.tokens);
    return s.lossFn({ zH: o.carry.zH, zL: o.carry.zL, logits: o.logits, qHalt: o.qHalt, qContinue: o.qContinue }).dataSync()[0];
  });
  assert.ok(Math.abs(lossOfLast() - g.loss.dataSync()[0]) < 1e-4);
  const names = ['L_level.layers.0.self_attn.qkv_proj.weight', 'L_level.layers.0.mlp.down_proj.weight',
    'H_level.layers.0.mlp.gate_up_proj.weight', 'H_level.layers.0.self_attn.o_proj.weight',
    'embed_tokens.embedding_weight', 'puzzle_emb.weights', 'lm_head.weight', 'q_head.weight', 'q_head.bias'];
  checkFd(last, g.grads, names, lossOfLast);
  // The truncation is real: the full-segment derivative of an L weight differs from the one-step gradient.
  const name = 'L_level.layers.0.self_attn.qkv_proj.weight';
  const gd = g.grads.get(name)?.dataSync() as Float32Array;
  let differs = 0;
  for (const i of [0, 1, 2, 3, 40, 41]) {
    const full = (perturbed(s.model, name, i, 3e-3, () => fullLoss(s.model, s.carry, s.tokens, s.lossFn))
      - perturbed(s.model, name, i, -3e-3, () => fullLoss(s.model, s.carry, s.tokens, s.lossFn))) / 6e-3;
    if (Math.abs(full - gd[i]) > 0.1 * Math.max(0.05, Math.abs(gd[i]))) differs++;
  }
  assert.ok(differs >= 3, `one-step gradient unexpectedly equals the full gradient (${differs}/6 differ)`);
  for (const o of [c1, c2]) disposeSegmentOutput(o);
  for (const m of [a, b, last]) m.dispose();
  disposeSegmentOutput(g.output);
  g.loss.dispose();
  for (const t of g.grads.values()) t.dispose();
  s.dispose();
});

test('TRM: shared L_level net, gradient through the whole last H-cycle (finite differences vs an independent split)', () => {
  const s = setup({ variant: 'trm', H_layers: 0, L_layers: 2, H_cycles: 2, L_cycles: 2, positions: 'learned' }, 3);
  assert.equal(tapedStepCount(s.model.config), 3);
  assert.ok([...s.model.weights.keys()].every((k) => !k.startsWith('H_level')));
  const g = segmentGradients(s.model, s.carry, s.tokens, s.lossFn);
  assert.deepEqual([...g.grads.keys()].sort(), gradientWeightNames(s.model.config).sort());
  // Independent reference: a one-cycle copy runs the first cycle with the original weights (held fixed); a second
  // one-cycle copy, whose weights are perturbed, runs the last cycle (L, L, H) from there.
  const oneCycle = { ...s.model.config, H_cycles: 1 };
  const first = modelFromWeights(oneCycle, exportWeights(s.model));
  const last = modelFromWeights(oneCycle, exportWeights(s.model));
  const firstOut = runSegment(first, s.carry, s.tokens);
  const lossOfLast = () => tf.tidy(() => {
    const o = runSegment(last, firstOut.carry, s.tokens);
    return s.lossFn({ zH: o.carry.zH, zL: o.carry.zL, logits: o.logits, qHalt: o.qHalt, qContinue: o.qContinue }).dataSync()[0];
  });
  assert.ok(Math.abs(lossOfLast() - g.loss.dataSync()[0]) < 1e-4);
  checkFd(last, g.grads, ['L_level.layers.0.self_attn.qkv_proj.weight', 'L_level.layers.1.mlp.gate_up_proj.weight',
    'embed_pos.embedding_weight', 'embed_tokens.embedding_weight', 'puzzle_emb.weights', 'q_head.weight'], lossOfLast);
  disposeSegmentOutput(firstOut);
  first.dispose();
  last.dispose();
  disposeSegmentOutput(g.output);
  g.loss.dispose();
  for (const t of g.grads.values()) t.dispose();
  s.dispose();
});

test('gradients: no leaked tensors over repeated training segments; off-tape part refuses to run on a tape', () => {
  const s = setup({}, 4);
  let carry: Carry = { zH: s.carry.zH.clone(), zL: s.carry.zL.clone() };
  const start = tf.memory().numTensors;
  for (let k = 0; k < 5; k++) {
    const g = segmentGradients(s.model, carry, s.tokens, s.lossFn);
    g.loss.dispose();
    for (const t of g.grads.values()) t.dispose();
    disposeCarry(carry);
    carry = g.output.carry;
    for (const t of [g.output.logits, g.output.qHalt, g.output.qContinue]) t.dispose();
    assert.equal(tf.memory().numTensors, start, `step ${k + 1}`);
  }
  assert.throws(() => tf.variableGrads(() => {
    runSegmentNoTapePart(s.model, carry, embedInput(s.model, s.tokens));
    return tf.scalar(0);
  }), /must run outside tf.variableGrads/);
  disposeCarry(carry);
  s.dispose();
});
