/**
 * The error landscape (engine/analysis/landscape.ts) with its forward passes on the PyTorch worker: the same plan,
 * plane, grid points, flow arrows and basin labels, computed from the worker's outputs.
 *
 * Per batch of grid points the start states z_H = c + (i·v1 + j·v2)·s (float32, as the TF.js path forms them) and
 * z_L = c_L go to the worker; heights come from its output heads on z_H (no segment run), then one segment per
 * worker run from the carry the previous run returned, until the flow segments are done and every point is labelled
 * (or maxSegments). The projection onto the plane, the relative z_H step and the decoding are computed here from the
 * returned float32 carries.
 */
import { gridToTokens, type Grid } from '../sudoku/geometry';
import { type Landscape, type LandscapeOptions, LandscapeGrid, finishLandscape, landscapePlane, planLandscape } from '../analysis/landscape';
import { throwIfAborted } from '../util/steps';
import { captureTracesTorch } from './recorder';
import type { TorchModel } from './torch-model';

/** Argmax over the last axis of row-major [rows, vocab] logits (the first maximum wins, as tf.argMax). */
export function argmaxRows(logits: Float32Array, vocab: number): Int32Array {
  const rows = logits.length / vocab;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bv = logits[r * vocab];
    for (let v = 1; v < vocab; v++) {
      const x = logits[r * vocab + v];
      if (x > bv) { bv = x; best = v; }
    }
    out[r] = best;
  }
  return out;
}

/** The landscape of one puzzle with the model in the PyTorch worker. */
export async function computeLandscapeTorch(model: TorchModel, puzzle: Grid, opts: LandscapeOptions = {}): Promise<Landscape> {
  const t0 = performance.now();
  const plan = planLandscape(model, puzzle, opts);
  const { dim, S, step: s, flowSegments, basin, batch: B, iterations, cells } = plan;
  const vocab = model.dims.vocab;
  throwIfAborted(opts.signal, 'landscape');
  const [trace] = await captureTracesTorch(model, [{ puzzle, solution: plan.solution }], { segments: S, latents: true });
  opts.onProgress?.({ phase: 'trace', done: 1, total: 1 });
  const plane = landscapePlane(plan, trace, model.config.H_cycles, opts.basis);
  const { c, cL } = plane;
  const v1 = Float32Array.from(plane.v1);
  const v2 = Float32Array.from(plane.v2);
  const d1 = v1.map((x) => Math.fround(x * s));
  const d2 = v2.map((x) => Math.fround(x * s));
  const grid = new LandscapeGrid(plan);
  const P = grid.points;
  const tokens = gridToTokens(puzzle);
  for (let start = 0; start < P; start += B) {
    throwIfAborted(opts.signal, 'landscape');
    const nb = Math.min(B, P - start);
    const { a, b } = grid.offsets(start, nb);
    let zH: Float32Array = new Float32Array(nb * dim);
    let zL: Float32Array = new Float32Array(nb * dim);
    for (let q = 0; q < nb; q++) {
      const off = q * dim;
      for (let i = 0; i < dim; i++) zH[off + i] = c[i] + Math.fround(Math.fround(a[q] * d1[i]) + Math.fround(b[q] * d2[i]));
      zL.set(cL, off);
    }
    const rows = Array.from({ length: nb }, () => tokens);
    grid.startBatch(start, argmaxRows((await model.heads(zH)).logits, vocab), nb);
    for (let it = 1; it <= iterations; it++) {
      throwIfAborted(opts.signal, 'landscape');
      let seg: { logits: Float32Array; zH: Float32Array; zL: Float32Array } | undefined;
      await model.run(rows, { segments: 1, latents: 'carry', carry: { zH, zL } }, (x) => {
        if (x.zH && x.zL) seg = { logits: x.logits, zH: x.zH, zL: x.zL };
      });
      if (!seg) throw new Error('landscape: the PyTorch worker returned no carry');
      let rel: Float64Array | undefined;
      if (basin?.tolerance !== undefined) {
        rel = new Float64Array(nb);
        for (let q = 0; q < nb; q++) {
          let step = 0;
          let norm = 0;
          for (let i = q * dim; i < (q + 1) * dim; i++) {
            const d = seg.zH[i] - zH[i];
            step += d * d;
            norm += zH[i] * zH[i];
          }
          rel[q] = Math.sqrt(step) / Math.sqrt(norm);
        }
      }
      zH = seg.zH;
      zL = seg.zL;
      const dec = argmaxRows(seg.logits, vocab);
      if (it === flowSegments) {
        for (let q = 0; q < nb; q++) {
          let x = 0;
          let y = 0;
          let sq = 0;
          for (let i = 0; i < dim; i++) {
            const dz = zH[q * dim + i] - c[i];
            x += dz * v1[i];
            y += dz * v2[i];
            sq += dz * dz;
          }
          grid.flowTo(q, x, y, sq, dec.subarray(q * cells, (q + 1) * cells));
        }
      }
      const open = grid.basinStep(it, dec, rel);
      if (it >= flowSegments && open === 0) break;
    }
    opts.onProgress?.({ phase: 'grid', done: start + nb, total: P });
  }
  return finishLandscape(plan, plane, grid, puzzle, opts.basis !== undefined, t0);
}
