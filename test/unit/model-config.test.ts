import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError, HRM_SUDOKU_27M, TINY_4X4, TRM_SUDOKU_ATT, configFromJson, configToJson, makeConfig, modelDims, swigluInter,
} from '../../engine/model/config';
import {
  bufferWeightNames, gradientWeightNames, linearWeightNames, paramCount, puzzleEmbeddingName, shapeSize,
  trainableWeightNames, weightShapes,
} from '../../engine/model/weights';

test('config: derived sizes for 4, 6 and 9', () => {
  for (const [n, cells, vocab] of [[4, 16, 6], [6, 36, 8], [9, 81, 11]] as const) {
    const d = modelDims(makeConfig({ gridSize: n }));
    assert.equal(d.cells, cells);
    assert.equal(d.vocab, vocab);
    assert.equal(d.totalLen, cells + 1);
  }
  assert.equal(modelDims(HRM_SUDOKU_27M).inter, 1536);
  assert.equal(swigluInter(512, 4, 256), 1536); // round(1365.33) = 1365 → 1536
  assert.equal(swigluInter(64, 2, 256), 256);
  assert.equal(swigluInter(64, 2, 32), 96); // round(85.33) = 85 → 96
  assert.equal(modelDims(TRM_SUDOKU_ATT).totalLen, 97);
  assert.equal(modelDims(makeConfig({ puzzleEmbLen: 0 })).totalLen, 16);
});

test('config: validation lists every problem', () => {
  assert.throws(() => makeConfig({ hidden: 30, heads: 4 }), /divisible by heads/);
  assert.throws(() => makeConfig({ hidden: 30, heads: 6 }), /must be even/);
  assert.doesNotThrow(() => makeConfig({ hidden: 30, heads: 6, positions: 'learned' }));
  assert.throws(() => makeConfig({ gridSize: 5 as 4 }), /gridSize must be 4, 6 or 9/);
  try {
    makeConfig({ H_cycles: 0, rmsEps: -1, positions: 'none' as 'rope', puzzleEmbLen: -1 });
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.problems.length, 4, e.message);
  }
  // TRM ignores H_layers (0 allowed), HRM needs at least one H block.
  assert.doesNotThrow(() => makeConfig({ variant: 'trm', H_layers: 0 }));
  assert.throws(() => makeConfig({ variant: 'hrm', H_layers: 0 }), /H_layers/);
});

test('config: JSON round-trip, defaults and errors', () => {
  for (const c of [TINY_4X4, HRM_SUDOKU_27M, TRM_SUDOKU_ATT, makeConfig({ positions: 'learned', puzzleEmbLen: 0 })]) {
    const json = configToJson(c);
    assert.deepEqual(configFromJson(JSON.parse(JSON.stringify(json))), { ...c });
    assert.deepEqual(configFromJson(JSON.stringify(json)), { ...c });
  }
  assert.deepEqual(configFromJson({ gridSize: 6 }), { ...TINY_4X4, gridSize: 6 });
  assert.throws(() => configFromJson({ hiddenSize: 64 }), /unknown field "hiddenSize"/);
  assert.throws(() => configFromJson({ hidden: '64' }), /must be a number/);
  assert.throws(() => configFromJson([1]), /must be an object/);
});

test('weights: the 27M reference has 27,275,266 trainable parameters (computed from shapes)', () => {
  assert.equal(paramCount(HRM_SUDOKU_27M), 27_275_266);
  const shapes = weightShapes(HRM_SUDOKU_27M);
  const sum = trainableWeightNames(HRM_SUDOKU_27M).reduce((n, k) => n + shapeSize(shapes.get(k) as number[]), 0);
  assert.equal(sum, 27_275_266);
  assert.equal(paramCount(TRM_SUDOKU_ATT), 6_828_034);
});

test('weights: names, PyTorch shapes, linear list and groups', () => {
  const shapes = weightShapes(HRM_SUDOKU_27M);
  assert.deepEqual(shapes.get('embed_tokens.embedding_weight'), [11, 512]);
  assert.deepEqual(shapes.get('puzzle_emb.weights'), [1, 512]);
  assert.deepEqual(shapes.get('H_level.layers.3.self_attn.qkv_proj.weight'), [1536, 512]);
  assert.deepEqual(shapes.get('L_level.layers.0.self_attn.o_proj.weight'), [512, 512]);
  assert.deepEqual(shapes.get('L_level.layers.0.mlp.gate_up_proj.weight'), [3072, 512]);
  assert.deepEqual(shapes.get('L_level.layers.0.mlp.down_proj.weight'), [512, 1536]);
  assert.deepEqual(shapes.get('lm_head.weight'), [11, 512]);
  assert.deepEqual(shapes.get('q_head.weight'), [2, 512]);
  assert.deepEqual(shapes.get('q_head.bias'), [2]);
  assert.deepEqual(shapes.get('H_init'), [512]);
  assert.equal(shapes.has('embed_pos.embedding_weight'), false);
  assert.equal(shapes.size, 2 + 8 * 4 + 5);
  const linear = linearWeightNames(HRM_SUDOKU_27M);
  assert.equal(linear.length, 4 * 8 + 2);
  assert.ok(linear.includes('lm_head.weight') && linear.includes('q_head.weight'));
  assert.ok(!linear.includes('embed_tokens.embedding_weight') && !linear.includes('q_head.bias'));
  const trainable = trainableWeightNames(HRM_SUDOKU_27M);
  for (const b of bufferWeightNames) assert.ok(!trainable.includes(b));
  assert.ok(!trainable.includes(puzzleEmbeddingName));
  assert.deepEqual(gradientWeightNames(HRM_SUDOKU_27M).sort(), [...trainable, puzzleEmbeddingName].sort());
  // learned positions: [S_total, D]; TRM: only L_level; no prefix: no puzzle embedding
  assert.deepEqual(weightShapes(makeConfig({ positions: 'learned' })).get('embed_pos.embedding_weight'), [17, 64]);
  assert.ok([...weightShapes(TRM_SUDOKU_ATT).keys()].every((k) => !k.startsWith('H_level')));
  assert.equal(weightShapes(makeConfig({ puzzleEmbLen: 0 })).has(puzzleEmbeddingName), false);
});
