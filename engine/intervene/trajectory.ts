/**
 * Trajectories of a RecurrentMap for a batch of rows (docs/analyses.md §Interventions): each row is a puzzle run for
 * its own number of segments, from the map's initial state or from a given state, and decoded after every segment.
 * What the interventions build on: the receiver and donor runs of a patch, the patched copies, the kicked copies.
 *
 * - Decoding: the read-out's logits [B, cells, n + 2] restricted to the digit tokens 2..n+1, argmax (lowest digit on
 *   ties), so every cell decodes to a digit 1..n (PAD / blank never win: an intervention's end state is always a
 *   full grid).
 * - States: z_H and z_L at the end of the segments asked for (`keep`), read back as Float32Arrays flattened
 *   [position][hidden] per row (the layout of engine/analysis/trace.ts and of a latents export).
 * - Batching: rows go through the map `batch` at a time (default 128), longest runs first; inside a batch the rows
 *   that reached their last segment are dropped, so a batch of runs of different lengths costs Σ segments row-steps.
 *   A row's results do not depend on the batch it ran in.
 * - Written once as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch; an aborted
 *   signal stops it there with an AbortError. Every tensor is freed on every path (numTensors stays flat).
 * - A map on the PyTorch worker (`map.torch`) runs each batch as one worker request instead
 *   (engine/torch/trajectory-torch.ts), with the same rows, order, decoding and kept states.
 */
import { tf } from '../tf';
import type { HrmModel } from '../model';
import { type Grid, type GridSize, gridToTokens } from '../sudoku/geometry';
import { loadModel } from '../train/load-model';
import { runSteps, runStepsAsync, type Steps, throwIfAborted } from '../util/steps';
import { decodeLogitRows, torchHeadsSteps, torchTrajectorySteps } from '../torch/trajectory-torch';
import { type Carry, type RecurrentMap, hrmMap } from './recurrent-map';

/** States of `rows` rows: z_H and z_L each flattened row-major [row][position][hidden]. */
export interface StateRows {
  rows: number;
  zH: Float32Array;
  zL: Float32Array;
}

/** One row's state at the end of a segment, each flattened [position][hidden]. */
export interface RowState {
  zH: Float32Array;
  zL: Float32Array;
}

export interface TrajectoryOptions {
  /** Segments per row: one number for every row, or one per row (each ≥ 1). */
  segments: number | readonly number[];
  /** Start states, one per row (default: the map's initial state). A Carry is read back once and not disposed. */
  from?: StateRows | Carry;
  /** Keep the state at the end of these segments (1-based), or of every segment ('all'); default none. */
  keep?: 'all' | readonly number[];
  /** Rows per forward batch (default 128). */
  batch?: number;
  /** Row-segments done of the total Σ segments, after every segment of every batch. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface Trajectories {
  rows: number;
  n: GridSize;
  cells: number;
  /** Segments run per row. */
  segments: number[];
  /** Decoded digits 1..n per row, [segment][cell] (segments[row] · cells). */
  grids: Grid[];
  /** Kept states per row, by segment (1-based). */
  states: Map<number, RowState>[];
}

/** The decoded grid of `row` at the end of `segment` (1-based), a view. */
export function gridAt(t: Trajectories, row: number, segment: number): Grid {
  const S = t.segments[row];
  if (!Number.isInteger(segment) || segment < 1 || segment > S) throw new RangeError(`gridAt: segment must be in 1..${S}, got ${segment}`);
  return t.grids[row].subarray((segment - 1) * t.cells, segment * t.cells);
}

/** The decoded grid of `row` at its last segment, a view. */
export function finalGrid(t: Trajectories, row: number): Grid {
  return gridAt(t, row, t.segments[row]);
}

/** The kept state of `row` at the end of `segment`; throws when it was not kept. */
export function stateAt(t: Trajectories, row: number, segment: number): RowState {
  const s = t.states[row].get(segment);
  if (!s) throw new RangeError(`trajectory: the state of row ${row} at segment ${segment} was not kept`);
  return s;
}

/**
 * Decoded digits per cell [B, cells] (int32, 1..n) of a batch of z_H: argmax of the read-out over the digit tokens.
 * A new tensor; `zH` is not disposed.
 */
export function decodeStates(map: RecurrentMap, zH: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const logits = map.readout(zH);
    const [B, cells] = logits.shape;
    const digits = tf.slice(logits, [0, 0, 2], [B, cells, map.n]);
    return tf.add(tf.argMax(digits, 2), tf.scalar(1, 'int32')) as tf.Tensor2D;
  });
}

function checkSegments(segments: TrajectoryOptions['segments'], rows: number): number[] {
  const list = typeof segments === 'number' ? new Array<number>(rows).fill(segments) : [...segments];
  if (list.length !== rows) throw new RangeError(`trajectory: ${list.length} segment counts for ${rows} rows`);
  list.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1) throw new RangeError(`trajectory: row ${i} must run an integer >= 1 segments, got ${s}`);
  });
  return list;
}

function fromRows(map: RecurrentMap, from: StateRows | Carry, rows: number): StateRows {
  const width = map.positions * map.hidden;
  let s: StateRows;
  if (from.zH instanceof Float32Array && from.zL instanceof Float32Array) s = from as StateRows;
  else {
    const c = from as Carry;
    s = { rows: c.zH.shape[0], zH: c.zH.dataSync() as Float32Array, zL: c.zL.dataSync() as Float32Array };
  }
  if (s.rows !== rows) throw new RangeError(`trajectory: ${s.rows} start states for ${rows} rows`);
  if (s.zH.length !== rows * width || s.zL.length !== rows * width) {
    throw new RangeError(`trajectory: start states must be [${rows}, ${map.positions}, ${map.hidden}] for z_H and z_L`);
  }
  return s;
}

/**
 * Decoded digits (1..n) of the read-out of `rows` states, `batch` rows at a time: Int8Array [row][cell]. On TF.js
 * each batch is one tidy read-out; on the PyTorch worker one `heads` request.
 */
export function* decodeRowsSteps(map: RecurrentMap, rows: StateRows, batch = 128): Steps<Int8Array> {
  const cells = map.n * map.n;
  const width = map.positions * map.hidden;
  const out = new Int8Array(rows.rows * cells);
  for (let s0 = 0; s0 < rows.rows; s0 += batch) {
    const nb = Math.min(batch, rows.rows - s0);
    const zH = rows.zH.subarray(s0 * width, (s0 + nb) * width);
    if (map.torch) out.set(decodeLogitRows(yield* torchHeadsSteps(map.torch, zH), nb, map.n), s0 * cells);
    else out.set(tf.tidy(() => decodeStates(map, tf.tensor3d(zH, [nb, map.positions, map.hidden])).dataSync()), s0 * cells);
    yield;
  }
  return out;
}

/** Run `puzzles` (one per row) through `map` and decode every segment (synchronously). */
export function runTrajectories(map: RecurrentMap, puzzles: readonly Grid[], opts: TrajectoryOptions): Trajectories {
  return runSteps(trajectorySteps(map, puzzles, opts));
}

/** runTrajectories with the event loop turning between segments; an aborted signal stops it (AbortError). */
export function runTrajectoriesAsync(map: RecurrentMap, puzzles: readonly Grid[], opts: TrajectoryOptions): Promise<Trajectories> {
  return runStepsAsync(trajectorySteps(map, puzzles, opts), opts.signal, 'trajectory');
}

/** runTrajectories as a step generator: one `yield` after every segment of every batch. */
export function* trajectorySteps(map: RecurrentMap, puzzles: readonly Grid[], opts: TrajectoryOptions): Steps<Trajectories> {
  const rows = puzzles.length;
  const cells = map.n * map.n;
  const segments = checkSegments(opts.segments, rows);
  puzzles.forEach((p, i) => {
    if (p.length !== cells) throw new RangeError(`trajectory: puzzle ${i} has ${p.length} cells, the map's grid ${cells}`);
  });
  const B = opts.batch ?? 128;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`trajectory: batch must be an integer >= 1, got ${B}`);
  const from = opts.from ? fromRows(map, opts.from, rows) : undefined;
  const keepAll = opts.keep === 'all';
  const keepSet = new Set<number>(opts.keep === undefined || opts.keep === 'all' ? [] : opts.keep);
  const kept = (s: number): boolean => keepAll || keepSet.has(s);
  const P = map.positions;
  const D = map.hidden;
  const width = P * D;

  const out: Trajectories = {
    rows, n: map.n, cells, segments,
    grids: segments.map((s) => new Int8Array(s * cells)),
    states: segments.map(() => new Map<number, RowState>()),
  };
  // Longest runs first, so the rows of a batch that are done are always its tail.
  const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => segments[b] - segments[a] || a - b);
  const total = segments.reduce((a, b) => a + b, 0);
  if (map.torch) return yield* torchTrajectorySteps(map.torch, puzzles, out, { order, total, from, kept, batch: B, signal: opts.signal, onProgress: opts.onProgress });
  let done = 0;

  for (let start = 0; start < rows; start += B) {
    throwIfAborted(opts.signal, 'trajectory');
    const ids = order.slice(start, start + B);
    const nb = ids.length;
    const tokens = new Int32Array(nb * cells);
    ids.forEach((r, q) => tokens.set(gridToTokens(puzzles[r]), q * cells));
    let x: tf.Tensor3D = tf.tidy(() => map.embed(tf.tensor2d(tokens, [nb, cells], 'int32')));
    let carry: Carry;
    try {
      if (from) {
        const zH = new Float32Array(nb * width);
        const zL = new Float32Array(nb * width);
        ids.forEach((r, q) => {
          zH.set(from.zH.subarray(r * width, (r + 1) * width), q * width);
          zL.set(from.zL.subarray(r * width, (r + 1) * width), q * width);
        });
        carry = { zH: tf.tensor3d(zH, [nb, P, D]), zL: tf.tensor3d(zL, [nb, P, D]) };
      } else {
        carry = map.initial(nb);
      }
    } catch (err) {
      x.dispose();
      throw err;
    }
    try {
      let active = nb;
      for (let s = 1; active > 0; s++) {
        const next: Carry = map.step(carry, x);
        tf.dispose([carry.zH, carry.zL]);
        carry = next;
        const digits = decodeStates(map, carry.zH);
        const data = digits.dataSync();
        digits.dispose();
        for (let q = 0; q < active; q++) out.grids[ids[q]].set(data.subarray(q * cells, (q + 1) * cells), (s - 1) * cells);
        if (kept(s)) {
          const zH = carry.zH.dataSync() as Float32Array;
          const zL = carry.zL.dataSync() as Float32Array;
          for (let q = 0; q < active; q++) {
            out.states[ids[q]].set(s, { zH: zH.slice(q * width, (q + 1) * width), zL: zL.slice(q * width, (q + 1) * width) });
          }
        }
        done += active;
        let still = active;
        while (still > 0 && segments[ids[still - 1]] <= s) still--;
        if (still !== active && still > 0) {
          const keep = still;
          const [zH, zL, xs] = [carry.zH, carry.zL, x].map((t) => tf.slice(t, [0, 0, 0], [keep, P, D]) as tf.Tensor3D);
          tf.dispose([carry.zH, carry.zL, x]);
          carry = { zH, zL };
          x = xs;
        }
        active = still;
        opts.onProgress?.(done, total);
        yield;
      }
    } finally {
      tf.dispose([carry.zH, carry.zL, x]);
    }
  }
  return out;
}

/** A checkpoint opened as a RecurrentMap (the HRM's one-segment map); dispose() frees what it holds. */
export interface OpenedMap {
  map: RecurrentMap;
  /** The checkpoint file as opened. */
  file: string;
  dispose(): void;
}

/** How a run opens its checkpoints: `openMap` (TF.js), or on the PyTorch worker (engine/torch/torch-map.ts). */
export type MapOpener = (file: string) => Promise<OpenedMap>;

/** Loads `file` (engine/train/load-model.ts: config and weights checked) and wraps it with hrmMap. */
export async function openMap(file: string): Promise<OpenedMap & { model: HrmModel }> {
  const { model, checkpoint } = await loadModel(file);
  return { map: hrmMap(model), model, file: checkpoint.file, dispose: () => model.dispose() };
}
