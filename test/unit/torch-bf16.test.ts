/**
 * The worker's bf16 option: outputs come back as float32, finite, and close to the float32 run on the shipped 4×4
 * model (bf16 keeps 8 bits of mantissa, so agreement is approximate: most cells decode the same digit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { decodeDigits } from '../../engine/analysis/decode';
import { TorchModel } from '../../engine/torch/torch-model';
import { TorchWorker } from '../../engine/torch/worker-client';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToTokens } from '../../engine/sudoku/geometry';
import { torchPython } from './helpers/torch-python';

const TINY = path.resolve(__dirname, '..', '..', 'models', 'tiny-4x4.safetensors');

async function lastLogits(dtype: 'fp32' | 'bf16', rows: Int32Array[]): Promise<Float32Array> {
  const w = new TorchWorker({ python: torchPython(), device: 'cpu', threads: 1, dtype });
  try {
    assert.equal((await w.start()).dtype, dtype);
    let out: Float32Array = new Float32Array(0);
    await (await TorchModel.fromCheckpoint(TINY, w)).run(rows, { segments: 4, latents: true }, (s) => { out = s.logits; });
    return out;
  } finally {
    await w.dispose();
  }
}

test('bf16: float32 outputs, finite, decoding mostly as float32 does', async () => {
  const rows = generatePuzzles({ n: 4, seed: 9 }, 16).map((p) => gridToTokens(p.puzzle));
  const [full, half] = [await lastLogits('fp32', rows), await lastLogits('bf16', rows)];
  assert.equal(half.length, full.length);
  assert.ok(half.every(Number.isFinite));
  let same = 0;
  const cv = 16 * 6;
  for (let b = 0; b < rows.length; b++) {
    const a = decodeDigits(full.subarray(b * cv, (b + 1) * cv), 4);
    const h = decodeDigits(half.subarray(b * cv, (b + 1) * cv), 4);
    for (let c = 0; c < 16; c++) if (a[c] === h[c]) same++;
  }
  assert.ok(same >= 0.9 * rows.length * 16, `${same} of ${rows.length * 16} cells decode alike`);
  assert.ok(half.some((x, i) => x !== full[i]), 'bf16 is really a different computation');
});
