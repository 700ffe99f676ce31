/**
 * The interventions' trajectories on the PyTorch worker (engine/intervene/trajectory.ts for a map with `torch`): the
 * same rows, order and results as on TF.js, each batch one worker request that streams its segments back.
 *
 * - A batch holds rows of different lengths (longest first) and runs for its longest; a row's segments after its
 *   own last are computed and dropped (the TF.js path drops such rows from the batch instead).
 * - Decoding as decodeStates: argmax of the logits over the digit tokens 2..n+1, the lowest digit on ties.
 * - States come back only when some segment of the batch is kept (the worker then sends z_H and z_L every segment).
 * - The generator waits for the worker through engine/util/steps.ts `waitFor`: it needs runStepsAsync. An aborted
 *   signal stops it between batches.
 */
import type { Grid, GridSize } from '../sudoku/geometry';
import { gridToTokens } from '../sudoku/geometry';
import { type Steps, throwIfAborted, waitFor } from '../util/steps';
import type { StateRows, Trajectories } from '../intervene/trajectory';
import type { TorchModel } from './torch-model';

export interface TorchTrajectoryPlan {
  /** The rows in the order they run: longest first. */
  order: readonly number[];
  /** Σ segments over the rows (the progress total). */
  total: number;
  /** Start states per row (checked by the caller); default the model's initial state. */
  from?: StateRows;
  /** Whether the state at the end of segment s (1-based) is kept. */
  kept: (s: number) => boolean;
  batch: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Digits 1..n per cell from logits [rows, cells, vocab] (tokens 2..n+1 are the digits): Int8Array [row][cell]. */
export function decodeLogitRows(logits: Float32Array, rows: number, n: number): Int8Array {
  const cells = n * n;
  const vocab = logits.length / (rows * cells);
  if (!Number.isInteger(vocab) || vocab < n + 2) throw new RangeError(`decode: ${logits.length} logits do not hold ${rows} rows of ${cells} cells and ${n + 2} tokens`);
  const out = new Int8Array(rows * cells);
  for (let i = 0; i < rows * cells; i++) {
    const o = i * vocab;
    let best = 2;
    for (let t = 3; t <= n + 1; t++) if (logits[o + t] > logits[o + best]) best = t;
    out[i] = best - 1;
  }
  return out;
}

/** The read-out logits [B, cells, vocab] of states z_H [B, positions, hidden] on the worker. */
export function* torchHeadsSteps(model: TorchModel, zH: Float32Array): Steps<Float32Array> {
  const { logits } = yield* waitFor(model.heads(zH));
  return logits;
}

/**
 * Runs `puzzles` (one per row) on the worker and decodes every segment into `out` (trajectorySteps's, its grids
 * allocated for out.segments per row); returns it.
 */
export function* torchTrajectorySteps(model: TorchModel, puzzles: readonly Grid[], out: Trajectories, plan: TorchTrajectoryPlan): Steps<Trajectories> {
  const { order, total, from, kept, batch } = plan;
  const { segments, cells, rows } = out;
  const n = out.n as GridSize;
  const width = model.dims.totalLen * model.config.hidden;
  const { vocab } = model.dims;
  let done = 0;
  for (let start = 0; start < rows; start += batch) {
    throwIfAborted(plan.signal, 'trajectory');
    const ids = order.slice(start, start + batch);
    const nb = ids.length;
    const longest = segments[ids[0]];
    let carry: { zH: Float32Array; zL: Float32Array } | undefined;
    if (from) {
      carry = { zH: new Float32Array(nb * width), zL: new Float32Array(nb * width) };
      for (let q = 0; q < nb; q++) {
        carry.zH.set(from.zH.subarray(ids[q] * width, (ids[q] + 1) * width), q * width);
        carry.zL.set(from.zL.subarray(ids[q] * width, (ids[q] + 1) * width), q * width);
      }
    }
    let keepAny = false;
    for (let s = 1; s <= longest && !keepAny; s++) keepAny = kept(s);
    let active = nb;
    yield* waitFor(model.run(ids.map((r) => gridToTokens(puzzles[r])), { segments: longest, latents: keepAny ? 'carry' : false, carry }, (seg) => {
      const s = seg.k;
      while (active > 0 && segments[ids[active - 1]] < s) active--;
      const digits = decodeLogitRows(seg.logits.subarray(0, active * cells * vocab), active, n);
      for (let q = 0; q < active; q++) out.grids[ids[q]].set(digits.subarray(q * cells, (q + 1) * cells), (s - 1) * cells);
      if (kept(s) && seg.zH && seg.zL) {
        for (let q = 0; q < active; q++) {
          out.states[ids[q]].set(s, { zH: seg.zH.slice(q * width, (q + 1) * width), zL: seg.zL.slice(q * width, (q + 1) * width) });
        }
      }
      done += active;
      plan.onProgress?.(done, total);
    }));
  }
  return out;
}
