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
