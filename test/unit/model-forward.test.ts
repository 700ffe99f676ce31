import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { type HrmConfig, makeConfig } from '../../engine/model/config';
import {
  WeightLoadError, createModel, disposeCarry, disposeSegmentOutput, embedInput, exportWeights, initialCarry,
  modelFromWeights, resetCarry, runSegment, type HrmModel,
} from '../../engine/model/hrm';
import { memoryShape, weightSpecs } from '../../engine/model/weights';
import { Rng } from '../../engine/util/rng';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const TINY: Partial<HrmConfig> = { gridSize: 4, hidden: 32, heads: 2, expansion: 2, interMultiple: 16, H_cycles: 2, L_cycles: 2 };

function randomTokens(batch: number, cells: number, vocab: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  return tf.tensor2d(Int32Array.from({ length: batch * cells }, () => 1 + rng.int(vocab - 1)), [batch, cells], 'int32');
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Two segments from the initial carry; returns flattened logits, q and final zH of segment 2. */
function forward(model: HrmModel, tokens: tf.Tensor2D): { logits: Float32Array; q: Float32Array; zH: Float32Array } {
  let carry = initialCarry(model, tokens.shape[0]);
  let out = runSegment(model, carry, tokens);
  disposeCarry(carry);
  carry = out.carry;
  for (const t of [out.logits, out.qHalt, out.qContinue]) t.dispose();
  out = runSegment(model, carry, tokens);
  disposeCarry(carry);
  const res = {
    logits: Float32Array.from(out.logits.dataSync()),
    q: Float32Array.from([...out.qHalt.dataSync(), ...out.qContinue.dataSync()]),
    zH: Float32Array.from(out.carry.zH.dataSync()),
  };
  disposeSegmentOutput(out);
  return res;
}

test('forward: shapes of a tiny 4×4 model; initial q = −5; layouts in memory', () => {
  const model = createModel(makeConfig(TINY), 1);
  const tokens = randomTokens(3, 16, 6, 1);
  const carry = initialCarry(model, 3);
  assert.deepEqual(carry.zH.shape, [3, 17, 32]);
  const x = embedInput(model, tokens);
  assert.deepEqual(x.shape, [3, 17, 32]);
  // Prefix position 0 = √D · puzzle vector = 0 at init.
  assert.ok(tf.slice(x, [0, 0, 0], [3, 1, 32]).dataSync().every((v) => v === 0));
  const out = runSegment(model, carry, tokens);
  assert.deepEqual(out.logits.shape, [3, 16, 6]);
  assert.deepEqual(out.qHalt.shape, [3]);
  assert.deepEqual(out.qContinue.shape, [3]);
  assert.deepEqual(out.carry.zL.shape, [3, 17, 32]);
  assert.ok(maxAbsDiff(out.qHalt.dataSync(), [-5, -5, -5]) < 1e-6); // q_head weight 0, bias −5
  for (const s of weightSpecs(model.config)) assert.deepEqual(model.weight(s.name).shape, memoryShape(s), s.name);
  assert.deepEqual(model.weight('H_level.layers.0.self_attn.qkv_proj.weight').shape, [32, 96]); // [in, out]
  assert.equal(model.numParams(), weightSpecs(model.config).filter((s) => s.role === 'trainable').reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0));
  for (const t of [x, tokens]) t.dispose();
  disposeCarry(carry);
  disposeSegmentOutput(out);
  model.dispose();
  assert.throws(() => embedInput(createModel(makeConfig(TINY), 1), tf.zeros([2, 15], 'int32') as tf.Tensor2D), /tokens must be \[batch, 16\]/);
});

test('forward: variants (learned positions, no prefix, TRM, 6×6 with 16 prefix positions) run with the right shapes', () => {
  const cases: Partial<HrmConfig>[] = [
    { positions: 'learned' },
    { puzzleEmbLen: 0 },
    { variant: 'trm', L_layers: 2, H_layers: 0 },
    { gridSize: 6, puzzleEmbLen: 16, variant: 'trm', L_layers: 1 },
  ];
  for (const c of cases) {
    const model = createModel(makeConfig({ ...TINY, ...c }), 2);
    const { cells, vocab, totalLen } = model.dims;
    const tokens = randomTokens(2, cells, vocab, 2);
    const carry = initialCarry(model, 2);
    const out = runSegment(model, carry, tokens);
    assert.deepEqual(out.logits.shape, [2, cells, vocab], JSON.stringify(c));
    assert.deepEqual(out.carry.zH.shape, [2, totalLen, 32]);
    assert.ok(out.logits.dataSync().every(Number.isFinite));
    disposeCarry(carry);
    disposeSegmentOutput(out);
    tokens.dispose();
    model.dispose();
  }
});

test('forward: same seed → identical weights; different seed → different', () => {
  const a = exportWeights(createModel(makeConfig(TINY), 5));
  const b = exportWeights(createModel(makeConfig(TINY), 5));
  const c = exportWeights(createModel(makeConfig(TINY), 6));
  for (const [name, t] of a) assert.deepEqual(t.data, (b.get(name) as { data: Float32Array }).data, name);
  assert.notDeepEqual(a.get('L_level.layers.0.self_attn.qkv_proj.weight')?.data, c.get('L_level.layers.0.self_attn.qkv_proj.weight')?.data);
  assert.notDeepEqual(a.get('H_init')?.data, c.get('H_init')?.data);
  // Fixed inits do not depend on the seed.
  assert.deepEqual(a.get('q_head.bias')?.data, Float32Array.of(-5, -5));
  assert.ok(a.get('q_head.weight')?.data.every((v) => v === 0));
  assert.ok(a.get('puzzle_emb.weights')?.data.every((v) => v === 0));
});

test('forward: exportWeights → modelFromWeights round-trip gives identical logits; PyTorch layout is [out, in]', () => {
  const model = createModel(makeConfig(TINY), 9);
  // Make the puzzle vector and q_head non-trivial so they are exercised too.
  model.weight('puzzle_emb.weights').assign(tf.randomNormal([1, 32], 0, 0.1, 'float32', 1));
  model.weight('q_head.weight').assign(tf.randomNormal([32, 2], 0, 0.1, 'float32', 2));
  const exported = exportWeights(model);
  const qkv = exported.get('L_level.layers.0.self_attn.qkv_proj.weight') as { shape: number[]; data: Float32Array };
  assert.deepEqual(qkv.shape, [96, 32]);
  const mem = model.weight('L_level.layers.0.self_attn.qkv_proj.weight').dataSync(); // [32, 96]
  assert.equal(qkv.data[5 * 32 + 7], mem[7 * 96 + 5]); // pt[out=5, in=7] = mem[in=7, out=5]
  const copy = modelFromWeights(model.config, exported);
  const tokens = randomTokens(2, 16, 6, 4);
  const f1 = forward(model, tokens);
  const f2 = forward(copy, tokens);
  assert.deepEqual(f1.logits, f2.logits);
  assert.deepEqual(f1.q, f2.q);
  // Checkpoint prefixes are accepted.
  const prefixed = new Map([...exported].map(([k, v]) => [`_orig_mod.model.inner.${k}`, v]));
  const copy2 = modelFromWeights(model.config, prefixed);
  assert.deepEqual(forward(copy2, tokens).logits, f1.logits);
  for (const m of [model, copy, copy2]) m.dispose();
  tokens.dispose();
});

test('forward: modelFromWeights lists missing, unknown and shape-mismatched keys', () => {
  const cfg = makeConfig(TINY);
  const exported = exportWeights(createModel(cfg, 1));
  const bad = new Map<string, Float32Array | { shape: number[]; data: Float32Array }>(exported);
  bad.delete('H_init');
  bad.delete('lm_head.weight');
  bad.set('model.inner.rotary_emb.cos_cached', new Float32Array(4));
  bad.set('q_head.bias', new Float32Array(3));
  bad.set('L_level.layers.0.self_attn.o_proj.weight', { shape: [16, 64], data: new Float32Array(32 * 32) });
  try {
    modelFromWeights(cfg, bad);
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof WeightLoadError, String(e));
    assert.deepEqual([...e.missing].sort(), ['H_init', 'lm_head.weight']);
    assert.deepEqual(e.unknown, ['model.inner.rotary_emb.cos_cached']);
    assert.equal(e.mismatched.length, 2);
    assert.match(e.message, /missing: .*H_init/);
    assert.match(e.message, /unknown: model\.inner\.rotary_emb\.cos_cached/);
    assert.match(e.message, /q_head\.bias expected \[2\]/);
  }
});

test('forward: wasm and cpu agree within 1e-5 (same weights, two segments)', async () => {
  for (const c of [TINY, { ...TINY, positions: 'learned' as const, variant: 'trm' as const, puzzleEmbLen: 3 }]) {
    const model = createModel(makeConfig(c), 11);
    model.weight('puzzle_emb.weights').assign(tf.randomNormal([1, 32], 0, 0.1, 'float32', 3));
    const tokens = randomTokens(3, 16, 6, 8);
    await selectBackend({ backend: 'wasm' });
    const w = forward(model, tokens);
    await selectBackend({ backend: 'cpu' });
    const cpu = forward(model, tokens);
    await selectBackend({ backend: 'wasm' });
    assert.ok(maxAbsDiff(w.logits, cpu.logits) < 1e-5, `logits diff ${maxAbsDiff(w.logits, cpu.logits)}`);
    assert.ok(maxAbsDiff(w.q, cpu.q) < 1e-5, `q diff ${maxAbsDiff(w.q, cpu.q)}`);
    assert.ok(maxAbsDiff(w.zH, cpu.zH) < 1e-5, `zH diff ${maxAbsDiff(w.zH, cpu.zH)}`);
    tokens.dispose();
    model.dispose();
  }
});

test('forward: resetCarry blends rows with the float mask; initialCarry broadcasts H_init/L_init', () => {
  const model = createModel(makeConfig(TINY), 3);
  const tokens = randomTokens(3, 16, 6, 5);
  const init = initialCarry(model, 3);
  const hInit = model.weight('H_init').dataSync();
  const zH0 = init.zH.dataSync();
  for (let i = 0; i < zH0.length; i++) assert.equal(zH0[i], hInit[i % 32]);
  const out = runSegment(model, init, tokens);
  const reset = resetCarry(model, out.carry, Float32Array.of(1, 0, 1));
  const before = out.carry.zL.arraySync();
  const after = reset.zL.arraySync();
  const lInit = [...model.weight('L_init').dataSync()];
  assert.deepEqual(after[0][4], lInit);
  assert.deepEqual(after[2][0], lInit);
  assert.deepEqual(after[1], before[1]);
  assert.throws(() => resetCarry(model, out.carry, new Float32Array(2)), /mask has 2 entries/);
  disposeCarry(init);
  disposeCarry(reset);
  disposeSegmentOutput(out);
  tokens.dispose();
  model.dispose();
});

test('forward: repeated segments keep tf.memory().numTensors flat', () => {
  const model = createModel(makeConfig(TINY), 4);
  const tokens = randomTokens(2, 16, 6, 6);
  let carry = initialCarry(model, 2);
  const start = tf.memory().numTensors;
  for (let k = 0; k < 20; k++) {
    const out = runSegment(model, carry, tokens);
    disposeCarry(carry);
    carry = out.carry;
    for (const t of [out.logits, out.qHalt, out.qContinue]) t.dispose();
    assert.equal(tf.memory().numTensors, start, `segment ${k + 1}`);
  }
  disposeCarry(carry);
  tokens.dispose();
  model.dispose();
});
