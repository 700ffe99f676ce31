/**
 * runSegmentQ, the training step's continue-target pass (only the halting head of the next segment): its q_halt and
 * q_continue are the bits of runSegment's, on wasm (fused kernels; an even and an odd batch, where the fused MLP does
 * not apply to the B rows at position 0) and on cpu, with one H layer and with two, with and without a puzzle prefix (RoPE and learned positions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { type HrmConfig, type HrmModel, createModel, disposeCarry, initialCarry, makeConfig, runSegment, runSegmentQ } from '../../engine/model';
import { getPreset } from '../../engine/train/presets';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToTokens } from '../../engine/sudoku/geometry';

function bits(t: tf.Tensor): number[] {
  const d = t.dataSync() as Float32Array;
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
}

/** A model whose halting head is not at its initial constant (q_head starts at zero weight), on a carry two segments in. */
function setup(config: HrmConfig, batch: number, seed: number): { model: HrmModel; tokens: tf.Tensor2D } {
  const model = createModel(config, seed);
  const w = model.weight('q_head.weight');
  tf.tidy(() => (w as tf.Variable).assign(tf.randomNormal(w.shape, 0, 0.5, 'float32', seed)));
  const puzzles = generatePuzzles({ n: config.gridSize, seed }, batch);
  const cells = model.dims.cells;
  const tok = new Int32Array(batch * cells);
  puzzles.forEach((p, i) => tok.set(gridToTokens(p.puzzle), i * cells));
  return { model, tokens: tf.tensor2d(tok, [batch, cells], 'int32') };
}

function check(config: HrmConfig, batch: number, what: string): void {
  const { model, tokens } = setup(config, batch, 7);
  const before = tf.memory().numTensors;
  let carry = initialCarry(model, batch);
  for (let k = 0; k < 2; k++) {
    const o = runSegment(model, carry, tokens);
    disposeCarry(carry);
    o.logits.dispose(); o.qHalt.dispose(); o.qContinue.dispose();
    carry = o.carry;
  }
  const full = runSegment(model, carry, tokens);
  const q = runSegmentQ(model, carry, tokens);
  try {
    assert.ok(new Set(bits(full.qHalt)).size > 1, `${what}: q_halt varies over the batch (a real check)`);
    assert.deepEqual(bits(q.qHalt), bits(full.qHalt), `${what}: q_halt`);
    assert.deepEqual(bits(q.qContinue), bits(full.qContinue), `${what}: q_continue`);
  } finally {
    disposeCarry(full.carry);
    full.logits.dispose(); full.qHalt.dispose(); full.qContinue.dispose();
    q.qHalt.dispose(); q.qContinue.dispose();
  }
  const kept = tf.memory().numTensors;
  disposeCarry(carry);
  assert.equal(kept - 2, before, `${what}: runSegmentQ leaves no tensor behind`);
  tokens.dispose();
  model.dispose();
}

const tiny = getPreset('tiny-4x4').model;
const configs: [string, HrmConfig][] = [
  ['tiny 4×4', makeConfig({ ...tiny, hidden: 32, heads: 2, interMultiple: 32 })],
  ['one H layer, no prefix, learned positions', makeConfig({ ...tiny, hidden: 32, heads: 2, interMultiple: 32, H_layers: 1, puzzleEmbLen: 0, positions: 'learned' })],
];

for (const backend of ['wasm', 'cpu'] as const) {
  test(`runSegmentQ gives runSegment's halting logits bit for bit (${backend})`, { timeout: 120_000 }, async () => {
    await selectBackend({ backend });
    for (const [name, config] of configs) for (const batch of [6, 5]) check(config, batch, `${backend}, ${name}, batch ${batch}`);
  });
}
