/**
 * The `actContinue` training setting: with it off, an HRM's training step has no continue target (no extra forward
 * pass, no continue loss, no gradient into q_continue) and slots halt when q_halt > 0; with it on (the default) the
 * reference's q_halt > q_continue rule and continue loss stay as they were. Real TF.js on the wasm backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { createModel, disposeCarry, haltDecisions, initialCarry, makeConfig } from '../../engine/model';
import { runMicroBatch } from '../../engine/train/micro-batch';
import { Trainer } from '../../engine/train/trainer';
import { getPreset, trainSettingsProblems, validateTrainSettings } from '../../engine/train/presets';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToTokens } from '../../engine/sudoku/geometry';
import { Rng } from '../../engine/util/rng';

const tinyModel = () => makeConfig({ ...getPreset('tiny-4x4').model, hidden: 16, heads: 2, interMultiple: 16 });

test('the halt-only rule halts an HRM slot when q_halt > 0, whatever q_continue says', () => {
  const hrm = makeConfig({ gridSize: 4 });
  assert.deepEqual([...haltDecisions(hrm, [1, -1, -1, 0.5], [0, 0, -2, 3], [1, 1, 1, 1])], [1, 0, 1, 0]);
  assert.deepEqual([...haltDecisions(hrm, [1, -1, -1, 0.5], [0, 0, -2, 3], [1, 1, 1, 1], { haltOnly: true })], [1, 0, 0, 1]);
  assert.deepEqual([...haltDecisions(hrm, [-1], [0], [hrm.haltMaxSteps], { haltOnly: true })], [1], 'the last segment always halts');
});

test('a micro-batch without the continue target has no continue loss and no gradient into q_continue', async () => {
  await selectBackend({ backend: 'wasm' });
  const model = createModel(tinyModel(), 3);
  // A non-zero Q-head, so that q_halt and q_continue differ between slots and the continue target is not σ(−5).
  const D = model.config.hidden;
  const rng = new Rng(4);
  tf.tidy(() => model.weight('q_head.weight').assign(tf.tensor(Float32Array.from({ length: D * 2 }, () => rng.normal() * 0.5), [D, 2])));
  const puzzles = generatePuzzles({ n: 4, seed: 6 }, 4);
  const tokens = new Int32Array(puzzles.flatMap((p) => [...gridToTokens(p.puzzle)]));
  const labels = new Int32Array(puzzles.flatMap((p) => [...gridToTokens(p.solution)]));
  const run = (actContinue: boolean | undefined) => {
    const carry = initialCarry(model, 4);
    const r = runMicroBatch(model, {
      carry, tokens, labels, isLast: new Float32Array(4), lossType: 'softmax', globalBatch: 4, ...(actContinue === undefined ? {} : { actContinue }),
    });
    disposeCarry(carry);
    disposeCarry(r.carry);
    const qW = r.grads.get('q_head.weight')?.arraySync() as number[][];
    const qB = r.grads.get('q_head.bias')?.arraySync() as number[];
    for (const g of r.grads.values()) g.dispose();
    return { ...r, qW, qB };
  };
  try {
    const on = run(undefined);
    const off = run(false);
    assert.ok(on.qContinue > 0, `continue loss with the target: ${on.qContinue}`);
    assert.ok(Math.abs(on.qB[1]) > 0, 'q_continue bias gets a gradient with the target');
    assert.equal(off.qContinue, 0);
    assert.ok(Math.abs(off.loss - (off.lm + 0.5 * off.qHalt)) < 1e-6, `total ${off.loss} = lm + ½·q_halt`);
    assert.equal(off.qB[1], 0, 'no gradient into the q_continue bias');
    assert.ok(off.qW.every((row) => row[1] === 0), 'no gradient into the q_continue weights');
    // The token loss, the halt loss and the segment's outputs are the same either way.
    assert.equal(off.lm, on.lm);
    assert.equal(off.qHalt, on.qHalt);
    assert.deepEqual(off.pred, on.pred);
    assert.deepEqual(off.qHaltValues, on.qHaltValues);
  } finally {
    model.dispose();
  }
});

test('a run with actContinue false logs no continue loss, keeps the setting in run.json and repeats bit for bit', { timeout: 120_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-act-continue-'));
  const preset = getPreset('tiny-4x4');
  const losses = async (name: string): Promise<number[]> => {
    const dir = path.join(tmp, name);
    // Two micro-batches: on two cores the second runs on the data-parallel helper, which must honour the setting too.
    const trainer = await Trainer.create(dir, {
      preset: 'tiny-4x4', model: tinyModel(), train: { ...preset.train, batch: 4, microBatch: 2, steps: 6, evalPuzzles: 2, actContinue: false },
      seed: 7, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
    });
    try {
      const out: number[] = [];
      for (let i = 0; i < 6; i++) {
        const m = trainer.trainStep();
        assert.equal(m.qContinueLoss, 0, `step ${m.step}: no continue loss`);
        assert.ok(Math.abs(m.loss - (m.lmLoss + 0.5 * m.qHaltLoss)) < 1e-6);
        out.push(m.loss);
      }
      const run = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as { spec: { train: { actContinue?: boolean } } };
      assert.equal(run.spec.train.actContinue, false);
      return out;
    } finally {
      await trainer.close();
    }
  };
  try {
    assert.deepEqual(await losses('a'), await losses('b'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('actContinue must be a boolean when given', () => {
  const base = getPreset('small-6x6').train;
  assert.deepEqual(trainSettingsProblems({ ...base, actContinue: false }), []);
  assert.deepEqual(trainSettingsProblems({ ...base, actContinue: 'no' as unknown as boolean }).map((p) => p.field), ['actContinue']);
  assert.throws(() => validateTrainSettings({ ...base, actContinue: 1 as unknown as boolean }), RangeError);
});
