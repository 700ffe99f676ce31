/**
 * TF.js memory stays flat: tf.memory().numTensors is the same after 200 training steps (with checkpoints and
 * evaluation along the way) as after the first few, and the same over 50 captures of a puzzle trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { makeConfig } from '../../engine/model';
import { Trainer } from '../../engine/train/trainer';
import { getPreset } from '../../engine/train/presets';
import { captureTraces } from '../../engine/analysis/capture-trace';
import { generatePuzzles } from '../../engine/sudoku/generator';

test('numTensors flat over 200 training steps and 50 captures', { timeout: 180_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-mem-'));
  const preset = getPreset('tiny-4x4');
  const model = makeConfig({ ...preset.model, hidden: 16, heads: 2, interMultiple: 16 });
  const trainer = await Trainer.create(dir, {
    preset: 'tiny-4x4', model, train: { ...preset.train, batch: 4, microBatch: 2, steps: 200, evalPuzzles: 4, ema: 0.99 },
    seed: 1, mixing: true, augment: true, data: { kind: 'generated' }, backend: {},
  });
  try {
    for (let i = 0; i < 5; i++) trainer.trainStep();
    const base = tf.memory().numTensors;
    for (let i = 5; i < 200; i++) {
      trainer.trainStep();
      if (i % 50 === 0) await trainer.saveCheckpoint(trainer.evaluateHeldOut({ segments: 2 }));
      if (i % 20 === 0) assert.equal(tf.memory().numTensors, base, `after step ${i + 1}`);
    }
    assert.equal(tf.memory().numTensors, base, 'after 200 steps');

    const puzzles = generatePuzzles({ n: 4, seed: 2 }, 3).map((p) => ({ puzzle: p.puzzle, solution: p.solution }));
    captureTraces(trainer.model, puzzles, { segments: 3 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) captureTraces(trainer.model, puzzles, { segments: 3 });
    assert.equal(tf.memory().numTensors, before, 'after 50 captures');
  } finally {
    await trainer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
