/**
 * The torch trainer's EMA and TRM training, against the engine's. EMA: a new tiny-4x4 run with TrainSettings.ema
 * trained two steps by each gives the same checkpoints (the EMA average as the weights, the shadow and the raw weights
 * in the optimizer state) within float32 tolerance. TRM: a TRM run created and trained by the engine, resumed by the
 * torch trainer for one step, gives the engine's own next checkpoint.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../engine/backend';
import { makeConfig, TINY_4X4 } from '../../engine/model/config';
import { getPreset } from '../../engine/train/presets';
import { Trainer } from '../../engine/train/trainer';
import { newRunSpec, openTrainer, runTrainLoop } from '../../engine/train/train-session';
import { startTorchTraining, type TorchTrainOptions } from '../../engine/torch/torch-train';
import { torchPython } from './helpers/torch-python';
import { maxAbsDiff, metricsOf, tensorsOf } from './helpers/train-cli';
import { assertCheckpointsMatch, assertLossesMatch } from './helpers/torch-train-compare';
import { withTempDir } from './helpers/temp-dir';

const HANG = 1_800_000;
/** Weights after two steps: float32 arithmetic in another order (measured below 1e-7). */
const WEIGHT_TOLERANCE = 1e-5;

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const torchOptions = (): Pick<TorchTrainOptions, 'python' | 'device' | 'threads' | 'nprocPerNode' | 'tensorboard'> => ({
  python: torchPython(), device: 'cpu', threads: 1, nprocPerNode: 1, tensorboard: false,
});

async function engineSteps(trainer: Trainer, steps: number): Promise<void> {
  try {
    await runTrainLoop(trainer, steps, { shouldStop: () => false });
  } finally {
    await trainer.close();
  }
}

test('EMA: two torch steps of a run with ema give the engine\'s averaged weights, shadow, raw weights and moments', { timeout: HANG }, async (t) => {
  await withTempDir('hrm-torch-ema-', async (tmp) => {
    // A decay far from 1, so that the average differs clearly from both the initial and the raw weights.
    const run = { preset: 'tiny-4x4', seed: 7, steps: 2, overrides: { batch: 16, ema: 0.5, evalPuzzles: 4, checkpointEvery: 1 } };
    const engineDir = path.join(tmp, 'engine');
    const torchDir = path.join(tmp, 'torch');
    const { trainer } = await openTrainer({ ...run, out: engineDir, backend: { name: 'wasm' }, tensorboard: false });
    await engineSteps(trainer, 2);
    const training = await startTorchTraining({ ...run, out: torchDir, ...torchOptions() });
    const end = await training.done;
    assert.equal(end.step, 2);
    for (const step of [1, 2]) {
      assertLossesMatch(torchDir, engineDir, step);
      const file = `step-${String(step).padStart(6, '0')}.safetensors`;
      const worst = await assertCheckpointsMatch(path.join(torchDir, file), path.join(engineDir, file), { weights: WEIGHT_TOLERANCE, optimizer: 1e-4 });
      t.diagnostic(`step ${step}: largest weight difference ${worst.worstWeight.toExponential(2)}, optimizer ${worst.worstOptimizer.toExponential(2)} of scale`);
    }
    // The checkpoint's weights are the average: they differ from the raw weights the optimizer state keeps.
    const weights = await tensorsOf(path.join(torchDir, 'step-000002.safetensors'));
    const optim = await tensorsOf(path.join(torchDir, 'step-000002.optim.safetensors'));
    assert.ok(optim.tensors.has('ema/ema.lm_head.weight') && optim.tensors.has('raw/lm_head.weight'), [...optim.tensors.keys()].join(', '));
    const avg = weights.tensors.get('lm_head.weight');
    const raw = optim.tensors.get('raw/lm_head.weight');
    assert.ok(avg && raw);
    // raw is in the engine's memory layout ([in, out]); compare the sums of squares, which the layout does not change.
    const sq = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x * x, 0);
    assert.ok(Math.abs(sq(avg.data as Float32Array) - sq(raw.data as Float32Array)) > 1e-6, 'the saved weights are the EMA average, not the raw weights');
    const meta = JSON.parse(weights.metadata.meta) as { ema: boolean };
    assert.equal(meta.ema, true);
  });
});

test('TRM: the torch trainer resumes a TRM run of the engine; its next checkpoint is the engine\'s', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-trm-', async (tmp) => {
    const trm = makeConfig({ ...TINY_4X4, variant: 'trm', H_layers: 0, L_layers: 2, H_cycles: 2, L_cycles: 2, puzzleEmbLen: 4, positions: 'rope' });
    const { spec } = await newRunSpec({ preset: 'tiny-4x4', seed: 3, backend: {}, overrides: { batch: 16, evalPuzzles: 4, checkpointEvery: 1, steps: 2 } });
    const engineDir = path.join(tmp, 'engine');
    await engineSteps(await Trainer.create(engineDir, { ...spec, model: trm }, undefined, undefined, { tensorboard: false }), 2);
    // The torch run continues from the engine's step 1.
    const torchDir = path.join(tmp, 'torch');
    cpSync(engineDir, torchDir, { recursive: true });
    for (const f of ['step-000002.safetensors', 'step-000002.optim.safetensors', 'step-000002.eval.json']) rmSync(path.join(torchDir, f), { force: true });
    const training = await startTorchTraining({ preset: 'tiny-4x4', resume: torchDir, steps: 2, ...torchOptions() });
    assert.equal((await training.done).step, 2);
    assert.deepEqual(metricsOf(torchDir).map((r) => r.step), [1, 2]);
    assertLossesMatch(torchDir, engineDir, 2);
    assert.equal(metricsOf(torchDir)[1].qContinueLoss, 0, 'TRM halts on q_halt alone: no continue loss');
    await assertCheckpointsMatch(path.join(torchDir, 'step-000002.safetensors'), path.join(engineDir, 'step-000002.safetensors'), { weights: WEIGHT_TOLERANCE });
    const cfg = JSON.parse((await tensorsOf(path.join(torchDir, 'step-000002.safetensors'))).metadata.config) as { variant: string };
    assert.equal(cfg.variant, 'trm');
    // Not a run the step left alone: the weights moved.
    const before = await tensorsOf(path.join(torchDir, 'step-000001.safetensors'));
    const after = await tensorsOf(path.join(torchDir, 'step-000002.safetensors'));
    assert.ok(maxAbsDiff(before.tensors.get('L_level.layers.0.mlp.down_proj.weight') as never, after.tensors.get('L_level.layers.0.mlp.down_proj.weight') as never) > 1e-5);
    assert.equal(getPreset('tiny-4x4').model.variant, 'hrm');
  });
});
