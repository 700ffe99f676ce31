/**
 * Free-running on the shipped models: the PyTorch worker's recorder (engine/torch/recorder.ts) and the TF.js
 * recorder (captureTraces) give the same decoded grid at every segment of every puzzle, and the same halting signs.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { selectBackend } from '../../engine/backend';
import { captureTraces } from '../../engine/analysis/capture-trace';
import { decodeDigits } from '../../engine/analysis/decode';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { type GridSize, gridToString } from '../../engine/sudoku/geometry';
import { loadModel } from '../../engine/train/load-model';
import { captureTracesTorch } from '../../engine/torch/recorder';
import { TorchModel } from '../../engine/torch/torch-model';
import { useTorchWorker } from './helpers/torch-python';

const MODELS = path.resolve(__dirname, '..', '..', 'models');
const worker = useTorchWorker();

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

async function sameGrids(file: string, n: GridSize, count: number): Promise<void> {
  const { model } = await loadModel(file);
  try {
    const inputs = generatePuzzles({ n, seed: 4242 }, count).map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, id: String(i) }));
    const S = model.config.haltMaxSteps;
    const engine = captureTraces(model, inputs, { segments: S, latents: false });
    const torch = await captureTracesTorch(await TorchModel.fromCheckpoint(file, worker()), inputs, { segments: S, latents: false });
    assert.equal(torch.length, inputs.length);
    let exact = 0;
    for (let b = 0; b < inputs.length; b++) {
      assert.equal(torch[b].segments.length, S);
      for (let k = 0; k < S; k++) {
        const mine = gridToString(decodeDigits(torch[b].segments[k].logits, n));
        const theirs = gridToString(decodeDigits(engine[b].segments[k].logits, n));
        assert.equal(mine, theirs, `puzzle ${b}, segment ${k + 1}`);
        assert.equal(torch[b].segments[k].qHalt > 0, engine[b].segments[k].qHalt > 0, `puzzle ${b}, segment ${k + 1}: halting sign`);
      }
      if (gridToString(decodeDigits(torch[b].segments[S - 1].logits, n)) === gridToString(inputs[b].solution)) exact++;
    }
    assert.ok(exact > 0, 'the shipped model solves some puzzles on the worker');
  } finally {
    model.dispose();
  }
}

test('tiny-4x4: identical decoded grids at every segment', async () => {
  await sameGrids(path.join(MODELS, 'tiny-4x4.safetensors'), 4, 32);
});

test('hard-6x6: identical decoded grids at every segment', async () => {
  await sameGrids(path.join(MODELS, 'hard-6x6.safetensors'), 6, 16);
});

test('hard-6x6: the worker\'s latents per puzzle match the TF.js recorder\'s (z_H, z_L and every H-update)', async () => {
  const file = path.join(MODELS, 'hard-6x6.safetensors');
  const { model } = await loadModel(file);
  try {
    const inputs = generatePuzzles({ n: 6, seed: 77 }, 5).map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, id: String(i) }));
    const S = 2;
    const engine = captureTraces(model, inputs, { segments: S, latents: true });
    const torch = await captureTracesTorch(await TorchModel.fromCheckpoint(file, worker()), inputs, { segments: S, latents: true });
    const H = model.config.H_cycles;
    const state = model.dims.totalLen * model.config.hidden;
    const maxDiff = (a: Float32Array, b: Float32Array): number => {
      assert.equal(a.length, b.length);
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
      return m;
    };
    for (let b = 0; b < inputs.length; b++) {
      for (let k = 0; k < S; k++) {
        const mine = torch[b].segments[k];
        const theirs = engine[b].segments[k];
        assert.ok(mine.zH && mine.zL && mine.hStates && theirs.zH && theirs.zL && theirs.hStates);
        assert.equal(mine.zH.length, state);
        assert.equal(mine.hStates.length, H);
        assert.ok(maxDiff(mine.zH, theirs.zH) <= 1e-4, `puzzle ${b}, segment ${k + 1}: zH`);
        assert.ok(maxDiff(mine.zL, theirs.zL) <= 1e-4, `puzzle ${b}, segment ${k + 1}: zL`);
        for (let j = 0; j < H; j++) assert.ok(maxDiff(mine.hStates[j], theirs.hStates[j]) <= 1e-4, `puzzle ${b}, segment ${k + 1}: H-update ${j + 1}`);
        assert.deepEqual(mine.hStates[H - 1], mine.zH, 'the last H-update is the segment\'s z_H');
      }
    }
  } finally {
    model.dispose();
  }
});
