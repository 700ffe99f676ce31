/**
 * A random-weight checkpoint for the browser test's timing case (a 9×9 trace of 16 segments; the shipped model is
 * 4×4): `npx tsx test/e2e/make-random-checkpoint.ts <out dir> [gridSize] [segments]` writes <out dir>/step-000000.safetensors
 * and prints its path. Small (D = 64) so the engine inspects it in seconds; the weights are seeded.
 */
import { tf } from '../../engine/tf';
import { TINY_4X4, configToJson, createModel, linearWeightNames, makeConfig } from '../../engine/model';
import { saveCheckpoint, type JsonObject } from '../../engine/train/checkpoint';
import type { GridSize } from '../../engine/sudoku/geometry';

async function main(): Promise<void> {
  const [dir, n = '9', segments = '16'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: make-random-checkpoint.ts <out dir> [gridSize] [segments]');
  await tf.setBackend('cpu');
  const config = makeConfig({ ...TINY_4X4, gridSize: Number(n) as GridSize, haltMaxSteps: Number(segments) });
  const model = createModel(config, 7);
  const saved = await saveCheckpoint(dir, 0, {
    weights: model.weights, transposeNames: new Set(linearWeightNames(config)), config: configToJson(config) as JsonObject,
    meta: { step: 0, seed: 7, preset: 'random (browser test)', time: new Date().toISOString() },
  });
  model.dispose();
  console.log(saved.file);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
