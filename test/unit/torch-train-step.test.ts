/**
 * `hrm-lens train --backend torch` computes the engine's training step. From the same initial weights and batch (the
 * same seed: the engine's initial weights and draws), one step gives the engine's loss parts, weights, optimizer
 * moments and slots. Resumed from an engine run's checkpoint (small-6x6 with mixing and augmentation: stablemax,
 * RoPE, halt-only ACT), the torch trainer's next checkpoint is the engine's next checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { torchPython } from './helpers/torch-python';
import { hrmLens, metricsOf, tensorsOf } from './helpers/train-cli';
import { assertCheckpointsMatch, assertLossesMatch } from './helpers/torch-train-compare';
import { withTempDir } from './helpers/temp-dir';

const HANG = 1_800_000;
const torchArgs = (): string[] => ['--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1', '--quiet'];

test('one torch step from a new run gives the engine step\'s loss parts, weights, moments and slots', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-step-', async (tmp) => {
    const common = ['train', '--preset', 'tiny-4x4', '--batch', '16', '--steps', '1', '--eval-puzzles', '4', '--seed', '7', '--no-tensorboard'];
    const engine = await hrmLens([...common, '--backend', 'wasm', '--quiet', '--out', path.join(tmp, 'engine')]);
    assert.equal(engine.code, 0, engine.stderr);
    const torch = await hrmLens([...common, ...torchArgs(), '--out', path.join(tmp, 'torch')]);
    assert.equal(torch.code, 0, torch.stderr);
    assertLossesMatch(path.join(tmp, 'torch'), path.join(tmp, 'engine'), 1);
    await assertCheckpointsMatch(path.join(tmp, 'torch', 'step-000001.safetensors'), path.join(tmp, 'engine', 'step-000001.safetensors'));
  });
});

test('the torch trainer resumes an engine run (small-6x6, mixing, augmentation): its next checkpoint is the engine\'s', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-resume-', async (tmp) => {
    const engineDir = path.join(tmp, 'engine');
    const engine = await hrmLens(['train', '--preset', 'small-6x6', '--batch', '16', '--steps', '3', '--checkpoint-every', '1', '--mixing', '--augment',
      '--seed', '3', '--eval-puzzles', '4', '--backend', 'wasm', '--quiet', '--no-tensorboard', '--out', engineDir]);
    assert.equal(engine.code, 0, engine.stderr);
    // The torch run continues from the engine's step 2.
    const torchDir = path.join(tmp, 'torch');
    cpSync(engineDir, torchDir, { recursive: true });
    for (const f of ['step-000003.safetensors', 'step-000003.optim.safetensors', 'step-000003.eval.json']) rmSync(path.join(torchDir, f), { force: true });
    const torch = await hrmLens(['train', '--resume', torchDir, '--steps', '3', ...torchArgs(), '--no-tensorboard']);
    assert.equal(torch.code, 0, torch.stderr);
    assert.deepEqual(metricsOf(torchDir).map((r) => r.step), [1, 2, 3], 'the resumed log has every step once');
    assertLossesMatch(torchDir, engineDir, 3);
    await assertCheckpointsMatch(path.join(torchDir, 'step-000003.safetensors'), path.join(engineDir, 'step-000003.safetensors'));
    const meta = JSON.parse((await tensorsOf(path.join(torchDir, 'step-000003.safetensors'))).metadata.meta) as { backend: { name: string } };
    assert.equal(meta.backend.name, 'torch');
  });
});
