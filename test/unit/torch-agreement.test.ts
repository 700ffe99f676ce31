/**
 * The PyTorch worker computes the HRM and the TRM as the TF.js engine does: on random weights (random Q-head and
 * puzzle vector too), each segment run by the worker from the engine's own carry of the segment before
 * (teacher-forced) gives the engine's logits, q, z_H, z_L and z_H after every H-update within 1e-4 in float32.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../engine/backend';
import { type HrmConfig, makeConfig } from '../../engine/model/config';
import { createModel, exportWeights, modelFromWeights } from '../../engine/model/hrm';
import { runWithCache } from '../../engine/model/capture';
import { TorchModel, type TorchSegment } from '../../engine/torch/torch-model';
import { Rng } from '../../engine/util/rng';
import { useTorchWorker } from './helpers/torch-python';

const TOLERANCE = 1e-4;
const worker = useTorchWorker();

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

function randomRows(n: number, batch: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: batch }, () => Array.from({ length: n * n }, () => 1 + rng.int(n + 1)));
}

/** A model with seeded weights whose Q-head and puzzle vector are random too (the defaults are zeros / −5). */
function randomModel(config: HrmConfig, seed: number) {
  const w = exportWeights(createModel(config, seed));
  const rng = new Rng(seed + 1);
  for (const name of ['q_head.weight', 'q_head.bias', 'puzzle_emb.weights']) {
    const t = w.get(name);
    if (t) for (let i = 0; i < t.data.length; i++) t.data[i] = (rng.float() - 0.5) * 0.6;
  }
  return { tf: modelFromWeights(config, w), weights: w };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function teacherForced(config: HrmConfig, seed: number): Promise<void> {
  const { tf: model, weights } = randomModel(config, seed);
  const S = 3;
  const B = 3;
  const rows = randomRows(config.gridSize, B, seed);
  const names = ['seg.*.zH', 'seg.*.zL', 'seg.*.logits', 'seg.*.q', 'seg.*.h.*.zH'];
  const cache = runWithCache(model, rows, { segments: S, names });
  const get = (name: string): Float32Array => {
    const t = cache.get(name);
    assert.ok(t, name);
    return t.data;
  };
  const tm = new TorchModel(config, weights, worker(), `random ${config.variant}`);
  const { totalLen } = model.dims;
  const D = config.hidden;
  for (let k = 1; k <= S; k++) {
    const carry = k === 1 ? undefined : { zH: get(`seg.${k - 1}.zH`), zL: get(`seg.${k - 1}.zL`) };
    let seg: TorchSegment | undefined;
    await tm.run(rows, { segments: 1, latents: true, carry }, (s) => { seg = s; });
    assert.ok(seg?.zH && seg.zL && seg.hStates);
    const diffs: Record<string, number> = {
      logits: maxDiff(seg.logits, get(`seg.${k}.logits`)),
      q: maxDiff(seg.q, get(`seg.${k}.q`)),
      zH: maxDiff(seg.zH, get(`seg.${k}.zH`)),
      zL: maxDiff(seg.zL, get(`seg.${k}.zL`)),
    };
    // hStates come [B, H - 1, S_total, D] (the last H-update is zH); the engine's seg.k.h.j.zH [B, S_total, D] per H-cycle j.
    const state = totalLen * D;
    const H = config.H_cycles;
    assert.equal(seg.hStates.length, B * (H - 1) * state);
    for (let j = 1; j <= H; j++) {
      const mine = new Float32Array(B * state);
      for (let b = 0; b < B; b++) mine.set(j < H ? seg.hStates.subarray((b * (H - 1) + j - 1) * state, (b * (H - 1) + j) * state) : seg.zH.subarray(b * state, (b + 1) * state), b * state);
      diffs[`h.${j}.zH`] = maxDiff(mine, get(`seg.${k}.h.${j}.zH`));
    }
    for (const [what, d] of Object.entries(diffs)) assert.ok(d <= TOLERANCE, `segment ${k} ${what}: max |torch − engine| = ${d}`);
  }
  model.dispose();
}

test('HRM (RoPE, one prefix position, two L blocks): teacher-forced segments agree within 1e-4', async () => {
  await teacherForced(makeConfig({
    gridSize: 6, hidden: 32, heads: 2, expansion: 2, interMultiple: 16, H_layers: 1, L_layers: 2, H_cycles: 2, L_cycles: 2,
    haltMaxSteps: 4, positions: 'rope', puzzleEmbLen: 1, variant: 'hrm',
  }), 7);
});

test('TRM (shared net, 16 prefix positions, 3 L-steps per cycle): teacher-forced segments agree within 1e-4', async () => {
  await teacherForced(makeConfig({
    gridSize: 4, hidden: 32, heads: 4, expansion: 4, interMultiple: 32, H_layers: 0, L_layers: 2, H_cycles: 2, L_cycles: 3,
    haltMaxSteps: 4, positions: 'rope', puzzleEmbLen: 16, variant: 'trm',
  }), 11);
});

test('HRM with learned positions and no prefix: teacher-forced segments agree within 1e-4', async () => {
  await teacherForced(makeConfig({
    gridSize: 4, hidden: 16, heads: 1, expansion: 2, interMultiple: 8, H_layers: 2, L_layers: 1, H_cycles: 3, L_cycles: 2,
    haltMaxSteps: 4, positions: 'learned', puzzleEmbLen: 0, variant: 'hrm',
  }), 13);
});
