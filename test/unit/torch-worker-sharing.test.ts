/**
 * Several models on one PyTorch worker (the engine process shares one between its requests): runs and output-head
 * calls of two models started together each get their own model's outputs, the same as when run one after the other
 * (a model's load and its run stay together; the worker holds one model at a time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TorchModel } from '../../engine/torch/torch-model';
import { useTorchWorker } from './helpers/torch-python';

const root = path.resolve(__dirname, '..', '..');
const worker = useTorchWorker();

async function lastLogits(model: TorchModel, rows: number[][]): Promise<Float32Array> {
  let last: Float32Array | undefined;
  await model.run(rows, { segments: 2, latents: 'carry' }, (s) => {
    assert.ok(s.zH && s.zL && !s.hStates, 'carry only');
    last = s.logits;
  });
  assert.ok(last);
  return last;
}

test('two models run together on one worker each get their own outputs', async () => {
  const four = await TorchModel.fromCheckpoint(path.join(root, 'models', 'tiny-4x4.safetensors'), worker());
  const six = await TorchModel.fromCheckpoint(path.join(root, 'models', 'small-6x6.safetensors'), worker());
  const rows4 = [Array.from({ length: 16 }, (_, i) => 1 + (i % 5))];
  const rows6 = [Array.from({ length: 36 }, (_, i) => 1 + (i % 7))];
  const alone = [await lastLogits(four, rows4), await lastLogits(six, rows6)];
  const zH = new Float32Array(six.dims.totalLen * six.config.hidden).fill(0.25);
  const headsAlone = await six.heads(zH);
  const together = await Promise.all([
    lastLogits(four, rows4), lastLogits(six, rows6), six.heads(zH), lastLogits(four, rows4), lastLogits(six, rows6),
  ]);
  assert.deepEqual(together[0], alone[0]);
  assert.deepEqual(together[1], alone[1]);
  assert.deepEqual(together[2], headsAlone);
  assert.deepEqual(together[3], alone[0]);
  assert.deepEqual(together[4], alone[1]);
  assert.equal(headsAlone.logits.length, 36 * six.dims.vocab);
  assert.equal(headsAlone.q.length, 2);
});
