/**
 * The error landscape (docs/analyses.md §Error landscape): a grid on the PC1/PC2 plane of one puzzle's z_H trajectory,
 * centred at its last state, with heights, one-segment flow arrows and optional basin labels.
 *
 * Plane and back-mapping (the choice that matters, following the reference code `visualization/landscape.py`):
 *   c  = z_H carry after segment S (the centre; NOT the PCA mean), c_L = the z_L carry after segment S;
 *   v1, v2 = the first two PCA components (unit vectors in the flattened [seq·hidden] z_H space), by default fitted on
 *            the puzzle's own z_H after every H-update (per-puzzle PCA; docs/analyses.md §PCA trajectories), or a
 *            basis given by the caller;
 *   s  = step (default √(seq·hidden)/8, the reference's unit; 25.61 at 82×512);
 *   grid point (i, j), i, j ∈ −r..r (size = 2r + 1):  z_H = c + (i·v1 + j·v2)·s,   z_L = c_L.
 * So the plane is a 2-D affine slice of z_H space through c: the other seq·hidden − 2 coordinates of z_H are those of
 * c, and z_L is not on the plane at all — every grid point shares the centre's z_L, as in the reference. (Nothing else
 * is known about how the paper fills z_L; resetting it to L_init would be another, equally arbitrary, choice.)
 * No bf16 rounding is applied (the reference casts z to bf16; TF.js runs float32).
 *
 * Per grid point (arrays row-major [j + r][i + r], i.e. PC2 rows, PC1 columns):
 *   height      E of the decoded grid of lm_head(z_H) (output head only; no segment is run). Not clipped: the
 *               reference clips at 40 for colour, that is the viewer's job.
 *   flow        run `flowSegments` (default 1) full segments from (z_H, c_L) with the puzzle as input; the new z_H is
 *               projected back: dest = ((z_H' − c)·v1, (z_H' − c)·v2) / s, in grid units (the arrow goes (i, j) → dest).
 *   flowEnergy  E of the destination's decoded grid; offPlane = ‖z_H' − c − projection‖ / s, how far the update
 *               leaves the plane (large values mean the 2-D arrow hides most of the motion).
 *   basin       (optional) keep iterating segments from the grid point until the decoded grid has stayed the same
 *               for `patience` consecutive segments (and, when `tolerance` is given, the relative z_H step
 *               ‖Δz_H‖/‖z_H‖ of the last one is below it); the label is frozen at the first segment where that holds.
 *               Labels: 0 = the solution (or, with no unique solution, a valid grid keeping the givens), k ≥ 1 =
 *               spurious fixed point #k (numbered by basin size, largest first, ties by first grid point), −1 = still
 *               moving after `maxSegments`. Labels do not depend on the batch size.
 * All grid points go through runSegment in batches (`batch` rows per forward). Progress is reported per batch;
 * an aborted signal stops at the next segment with an AbortError. Every tensor is disposed (numTensors stays flat).
 */
import { tf } from '../tf';
import { type Carry, type HrmModel, disposeCarry, outputHeads } from '../model';
import { runSegmentParallel } from '../train/data-parallel-segment';
import { type Grid, type GridSize, geometry, givensMatch, gridToString, gridToTokens, isValidSolution, tokensToGrid } from '../sudoku/geometry';
import { conflictEnergy } from '../sudoku/energy';
import { solve } from '../sudoku/solver';
import { captureTraceSteps } from './capture-trace';
import { runSteps, runStepsAsync, type Steps } from '../util/steps';
import { type PcaBasis, fitPcaBasis, zHTrajectory } from './pca';
import { decodeDigits } from './decode';
import type { LandscapeAttractor } from './analysis-protocol';
import type { PuzzleTrace, SegmentCapture } from './trace';

export interface BasinOptions {
  /** Segments to iterate at most (default 16). */
  maxSegments?: number;
  /** Consecutive unchanged decoded grids that count as settled (default 3). */
  patience?: number;
  /** Optional bound on the relative z_H step of the last segment. */
  tolerance?: number;
}

export interface LandscapeOptions {
  /** Segments of the trace; the centre is the carry after the last one (default: haltMaxSteps). */
  segments?: number;
  /** Grid points per side, odd (default 41: i, j ∈ −20..20). */
  size?: number;
  /** Grid unit s in z_H norm (default √(seq·hidden)/8). */
  step?: number;
  /** Fixed basis (≥ 2 components, dim seq·hidden); default: PCA of this puzzle's z_H after every H-update. */
  basis?: PcaBasis;
  /** Segments per flow arrow (default 1). */
  flowSegments?: number;
  /** Basin labels (off by default). */
  basins?: boolean | BasinOptions;
  /** The solution, for the basin label 0 (default: the solver's, when unique). */
  solution?: Grid;
  /** Grid points per forward batch (default 128). */
  batch?: number;
  onProgress?: (p: { phase: 'trace' | 'grid'; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/** A fixed point and the size of its basin (the wire type of the `landscape` method). */
export type Attractor = LandscapeAttractor;

export interface BasinMap {
  /** Per grid point: 0 solution, k ≥ 1 spurious #k, −1 still moving. */
  labels: Int16Array;
  /** Per grid point: the segment at which it was labelled (−1 when still moving). */
  settledAt: Int16Array;
  attractors: Attractor[];
  moving: number;
  maxSegments: number;
  patience: number;
  tolerance: number | null;
}

export interface Landscape {
  n: GridSize;
  size: number;
  radius: number;
  step: number;
  segments: number;
  flowSegments: number;
  puzzle: string;
  solution: string | null;
  /** Decoded grid and E at the centre (= the last segment's output). */
  centreGrid: string;
  centreEnergy: number;
  basisSource: 'trajectory' | 'given';
  explainedVarianceRatio: number[];
  /** Row-major [j + r][i + r]. */
  heights: Int16Array;
  /** Destination (i, j) in grid units, [point][2]. */
  flow: Float32Array;
  flowEnergy: Int16Array;
  offPlane: Float32Array;
  /** The trace's z_H after every H-update, in grid units relative to the centre, [point][2]. */
  trajectory: Float32Array;
  /** Index in `trajectory` of each segment's end state. */
  segmentEnds: number[];
  basins?: BasinMap;
  seconds: number;
}

function abortError(): Error {
  const e = new Error('landscape cancelled');
  e.name = 'AbortError';
  return e;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function basinSettings(b: LandscapeOptions['basins']): Required<Omit<BasinOptions, 'tolerance'>> & { tolerance?: number } | undefined {
  if (!b) return undefined;
  const o: BasinOptions = b === true ? {} : b;
  const maxSegments = o.maxSegments ?? 16;
  const patience = o.patience ?? 3;
  if (!Number.isInteger(maxSegments) || maxSegments < 1) throw new RangeError(`landscape: basins.maxSegments must be an integer >= 1, got ${maxSegments}`);
  if (!Number.isInteger(patience) || patience < 1) throw new RangeError(`landscape: basins.patience must be an integer >= 1, got ${patience}`);
  return { maxSegments, patience, tolerance: o.tolerance };
}

/** Computes the landscape of one puzzle (synchronously). */
export function computeLandscape(model: HrmModel, puzzle: Grid, opts: LandscapeOptions = {}): Landscape {
  return runSteps(landscapeSteps(model, puzzle, opts));
}

/**
 * The same computation, yielding to the event loop after every segment, so that a host's cancel message or other
 * requests can arrive while it runs (the engine's `landscape` method).
 */
export function computeLandscapeAsync(model: HrmModel, puzzle: Grid, opts: LandscapeOptions = {}): Promise<Landscape> {
  return runStepsAsync(landscapeSteps(model, puzzle, opts), opts.signal, 'landscape');
}

/** The checked settings of one landscape, and the puzzle's solution: what every recorder of a landscape shares. */
export interface LandscapePlan {
  n: GridSize;
  geo: ReturnType<typeof geometry>;
  /** S_total, cells, hidden, S_total·hidden. */
  T: number;
  cells: number;
  D: number;
  dim: number;
  /** Segments of the trace. */
  S: number;
  size: number;
  radius: number;
  step: number;
  flowSegments: number;
  basin: ReturnType<typeof basinSettings>;
  batch: number;
  /** Segments run per grid point at most. */
  iterations: number;
  solution: Grid | undefined;
  isSolution: (g: Grid) => boolean;
}

/** The options checked against a model's sizes (RangeError naming the option), the solution found when unique. */
export function planLandscape(
  model: { config: { gridSize: number; hidden: number; haltMaxSteps: number }; dims: { totalLen: number; cells: number } },
  puzzle: Grid, opts: LandscapeOptions,
): LandscapePlan {
  const n = model.config.gridSize as GridSize;
  const geo = geometry(n);
  const { totalLen: T, cells } = model.dims;
  const D = model.config.hidden;
  const dim = T * D;
  const S = opts.segments ?? model.config.haltMaxSteps;
  const size = opts.size ?? 41;
  if (!Number.isInteger(size) || size < 1 || size % 2 !== 1) throw new RangeError(`landscape: size must be an odd integer >= 1, got ${size}`);
  const s = opts.step ?? Math.sqrt(dim) / 8;
  if (!(s > 0)) throw new RangeError(`landscape: step must be > 0, got ${s}`);
  const flowSegments = opts.flowSegments ?? 1;
  if (!Number.isInteger(flowSegments) || flowSegments < 1) throw new RangeError(`landscape: flowSegments must be an integer >= 1, got ${flowSegments}`);
  const basin = basinSettings(opts.basins);
  const B = opts.batch ?? 128;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`landscape: batch must be an integer >= 1, got ${B}`);
  if (puzzle.length !== cells) throw new RangeError(`landscape: puzzle has ${puzzle.length} cells, expected ${cells}`);
  let solution: Grid | undefined = opts.solution;
  if (!solution) {
    const sol = solve(puzzle, geo, { limit: 2 });
    if (sol.solutions === 1 && sol.solution) solution = sol.solution;
  }
  const known = solution;
  const isSolution = (g: Grid): boolean => (known ? g.every((d, i) => d === known[i]) : isValidSolution(g, geo) && givensMatch(puzzle, g));
  return {
    n, geo, T, cells, D, dim, S, size, radius: (size - 1) / 2, step: s, flowSegments, basin, batch: B,
    iterations: Math.max(flowSegments, basin?.maxSegments ?? 0), solution, isSolution,
  };
}

/** The plane of a landscape, from the puzzle's recorded trace (latents included). */
export interface LandscapePlane {
  /** The trace's last segment (its output is the centre's). */
  last: SegmentCapture;
  /** z_H and z_L after the last segment. */
  c: Float32Array;
  cL: Float32Array;
  basis: PcaBasis;
  v1: Float64Array;
  v2: Float64Array;
  trajectory: Float32Array;
  segmentEnds: number[];
}

/** The centre, the basis (the given one, else PCA of the trace's z_H after every H-update) and the trajectory overlay. */
export function landscapePlane(plan: LandscapePlan, trace: PuzzleTrace, H: number, given?: PcaBasis): LandscapePlane {
  const { S, dim, step: s } = plan;
  const last = trace.segments[S - 1];
  if (!last?.zH || !last.zL) throw new Error('landscape: the trace has no latents');
  const c = last.zH;
  const points = zHTrajectory(trace, 'h-updates');
  const basis = given ?? fitPcaBasis(points, { components: 2 });
  if (basis.dim !== dim) throw new RangeError(`landscape: the basis has dim ${basis.dim}, the model's z_H has ${dim}`);
  if (basis.components.length < 2) throw new RangeError('landscape: the basis needs at least 2 components');
  const [v1, v2] = basis.components;
  // Trajectory overlay: ((t − c)·v_k) / s.
  const trajectory = new Float32Array(points.length * 2);
  const diff = new Float64Array(dim);
  points.forEach((p, k) => {
    for (let i = 0; i < dim; i++) diff[i] = p[i] - c[i];
    trajectory[2 * k] = dot(diff, v1) / s;
    trajectory[2 * k + 1] = dot(diff, v2) / s;
  });
  return { last, c, cL: last.zL, basis, v1, v2, trajectory, segmentEnds: Array.from({ length: S }, (_, k) => (k + 1) * H - 1) };
}

/** The per-point results of a landscape, filled batch by batch (row-major [j + r][i + r]). */
export class LandscapeGrid {
  readonly heights: Int16Array;
  readonly flow: Float32Array;
  readonly flowEnergy: Int16Array;
  readonly offPlane: Float32Array;
  /** Per point: the decoded grid it settled on ('0' blanks), or null. */
  readonly labelKey: (string | null)[];
  readonly settledAt: Int16Array;
  private prevGrid: Grid[] = [];
  private streak = new Int16Array(0);
  private start = 0;

  constructor(private readonly plan: LandscapePlan) {
    const P = plan.size * plan.size;
    this.heights = new Int16Array(P);
    this.flow = new Float32Array(P * 2);
    this.flowEnergy = new Int16Array(P);
    this.offPlane = new Float32Array(P);
    this.labelKey = new Array<string | null>(P).fill(null);
    this.settledAt = new Int16Array(P).fill(-1);
  }

  get points(): number {
    return this.heights.length;
  }

  /** Grid offsets (i, j) of points start … start + nb − 1 (PC1, PC2 units). */
  offsets(start: number, nb: number): { a: Float32Array; b: Float32Array } {
    const { size, radius: r } = this.plan;
    const a = new Float32Array(nb);
    const b = new Float32Array(nb);
    for (let q = 0; q < nb; q++) {
      const p = start + q;
      a[q] = (p % size) - r;
      b[q] = Math.floor(p / size) - r;
    }
    return { a, b };
  }

  /** Starts a batch at `start`: its heights from the decoded tokens of its start states (argmax of lm_head, [nb·cells]). */
  startBatch(start: number, tokens: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, nb: number): void {
    const { cells, geo } = this.plan;
    this.start = start;
    this.prevGrid = [];
    this.streak = new Int16Array(nb);
    for (let q = 0; q < nb; q++) {
      const g = tokensToGrid(tokens.subarray(q * cells, (q + 1) * cells));
      this.heights[start + q] = conflictEnergy(g, geo);
      this.prevGrid.push(g);
    }
  }

  /** The flow arrow of point start + q: the projection (x, y) of z_H' − c, ‖z_H' − c‖² and the decoded grid after the flow segments. */
  flowTo(q: number, x: number, y: number, sq: number, tokens: ArrayLike<number>): void {
    const p = this.start + q;
    const s = this.plan.step;
    this.flow[2 * p] = x / s;
    this.flow[2 * p + 1] = y / s;
    this.offPlane[p] = Math.sqrt(Math.max(0, sq - x * x - y * y)) / s;
    this.flowEnergy[p] = conflictEnergy(tokensToGrid(tokens), this.plan.geo);
  }

  /**
   * After segment `it` of the batch: the decoded tokens [nb·cells] and (with a tolerance) the relative z_H steps;
   * labels the points that settled. Returns how many points of the batch are still unlabelled (0 without basins).
   */
  basinStep(it: number, tokens: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, rel: ArrayLike<number> | undefined): number {
    const basin = this.plan.basin;
    if (!basin) return 0;
    const { cells } = this.plan;
    let open = 0;
    for (let q = 0; q < this.prevGrid.length; q++) {
      const p = this.start + q;
      const g = tokensToGrid(tokens.subarray(q * cells, (q + 1) * cells));
      const same = g.every((d, i) => d === this.prevGrid[q][i]);
      this.streak[q] = same ? this.streak[q] + 1 : 0;
      this.prevGrid[q] = g;
      if (this.labelKey[p] === null) {
        if (this.streak[q] >= basin.patience && (rel === undefined || (basin.tolerance !== undefined && rel[q] < basin.tolerance))) {
          this.labelKey[p] = gridToString(g, '0');
          this.settledAt[p] = it;
        } else open++;
      }
    }
    return open;
  }
}

/** The landscape from its plan, plane and filled grid (basins numbered, the centre decoded). */
export function finishLandscape(plan: LandscapePlan, plane: LandscapePlane, grid: LandscapeGrid, puzzle: Grid, givenBasis: boolean, t0: number): Landscape {
  const { geo, n, basin } = plan;
  let basins: BasinMap | undefined;
  if (basin) {
    const groups = new Map<string, { count: number; first: number }>();
    grid.labelKey.forEach((k, p) => {
      if (k === null) return;
      const g = groups.get(k);
      if (g) g.count++;
      else groups.set(k, { count: 1, first: p });
    });
    const parse = (k: string): Grid => Int8Array.from(k, (ch) => Number(ch));
    const entries = [...groups.entries()];
    const solKey = entries.find(([k]) => plan.isSolution(parse(k)))?.[0];
    const spurious = entries.filter(([k]) => k !== solKey).sort((x, y) => y[1].count - x[1].count || x[1].first - y[1].first);
    const labelOf = new Map<string, number>();
    const attractors: Attractor[] = [];
    if (solKey !== undefined) {
      labelOf.set(solKey, 0);
      attractors.push({ label: 0, kind: 'solution', grid: gridToString(parse(solKey)), energy: conflictEnergy(parse(solKey), geo), points: groups.get(solKey)?.count ?? 0 });
    }
    spurious.forEach(([k, g], idx) => {
      labelOf.set(k, idx + 1);
      attractors.push({ label: idx + 1, kind: 'spurious', grid: gridToString(parse(k)), energy: conflictEnergy(parse(k), geo), points: g.count });
    });
    const labels = Int16Array.from(grid.labelKey, (k) => (k === null ? -1 : labelOf.get(k) ?? -1));
    basins = {
      labels, settledAt: grid.settledAt, attractors, moving: labels.filter((l) => l === -1).length,
      maxSegments: basin.maxSegments, patience: basin.patience, tolerance: basin.tolerance ?? null,
    };
  }
  const centreGrid = decodeDigits(plane.last.logits, n);
  return {
    n, size: plan.size, radius: plan.radius, step: plan.step, segments: plan.S, flowSegments: plan.flowSegments,
    puzzle: gridToString(puzzle), solution: plan.solution ? gridToString(plan.solution) : null,
    centreGrid: gridToString(centreGrid), centreEnergy: conflictEnergy(centreGrid, geo),
    basisSource: givenBasis ? 'given' : 'trajectory',
    explainedVarianceRatio: Array.from(plane.basis.explainedVarianceRatio.subarray(0, 2)),
    heights: grid.heights, flow: grid.flow, flowEnergy: grid.flowEnergy, offPlane: grid.offPlane,
    trajectory: plane.trajectory, segmentEnds: plane.segmentEnds, basins,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The computation as a generator: one `yield` after every segment (of the trace, and of each batch of grid points). */
function* landscapeSteps(model: HrmModel, puzzle: Grid, opts: LandscapeOptions): Steps<Landscape> {
  const t0 = performance.now();
  const plan = planLandscape(model, puzzle, opts);
  const { T, D, dim, S, step: s, flowSegments, basin, batch: B, iterations, cells } = plan;

  if (opts.signal?.aborted) throw abortError();
  const [trace] = yield* captureTraceSteps(model, [{ puzzle, solution: plan.solution }], { segments: S, latents: true });
  opts.onProgress?.({ phase: 'trace', done: 1, total: 1 });
  const plane = landscapePlane(plan, trace, model.config.H_cycles, opts.basis);
  const { c, cL, v1, v2 } = plane;
  const grid = new LandscapeGrid(plan);
  const P = grid.points;

  const tokens = gridToTokens(puzzle);
  const v1f = Float32Array.from(v1);
  const v2f = Float32Array.from(v2);
  const cT = tf.tensor3d(c, [1, T, D]);
  const cLT = tf.tensor3d(cL, [1, T, D]);
  const d1T = tf.tidy(() => tf.mul(tf.tensor3d(v1f, [1, T, D]), s));
  const d2T = tf.tidy(() => tf.mul(tf.tensor3d(v2f, [1, T, D]), s));
  const VT = tf.tidy(() => tf.transpose(tf.tensor2d([...v1f, ...v2f], [2, dim])) as tf.Tensor2D);
  const decode = (logits: tf.Tensor3D): Int32Array => {
    const am = tf.argMax(logits, 2);
    const data = am.dataSync() as Int32Array;
    am.dispose();
    return data;
  };
  try {
    for (let start = 0; start < P; start += B) {
      if (opts.signal?.aborted) throw abortError();
      const nb = Math.min(B, P - start);
      const { a, b } = grid.offsets(start, nb);
      const zH0 = tf.tidy(() => tf.add(cT, tf.add(tf.mul(tf.tensor3d(a, [nb, 1, 1]), d1T), tf.mul(tf.tensor3d(b, [nb, 1, 1]), d2T))) as tf.Tensor3D);
      const tokRows = new Int32Array(nb * cells);
      for (let q = 0; q < nb; q++) tokRows.set(tokens, q * cells);
      const tok = tf.tensor2d(tokRows, [nb, cells], 'int32');
      let carry: Carry = { zH: zH0, zL: tf.tidy(() => tf.tile(cLT, [nb, 1, 1]) as tf.Tensor3D) };
      try {
        const startTok = tf.tidy(() => tf.argMax(outputHeads(model, zH0).logits, 2));
        const startData = startTok.dataSync() as Int32Array;
        startTok.dispose();
        grid.startBatch(start, startData, nb);
        for (let it = 1; it <= iterations; it++) {
          if (opts.signal?.aborted) throw abortError();
          const out = runSegmentParallel(model, carry, tok);
          let rel: Float32Array | undefined;
          if (basin?.tolerance !== undefined) {
            const relT = tf.tidy(() => {
              const prev = tf.reshape(carry.zH, [nb, dim]);
              const step = tf.sqrt(tf.sum(tf.square(tf.sub(tf.reshape(out.carry.zH, [nb, dim]), prev)), 1));
              return tf.div(step, tf.sqrt(tf.sum(tf.square(prev), 1)));
            });
            rel = relT.dataSync() as Float32Array;
            relT.dispose();
          }
          disposeCarry(carry);
          carry = out.carry;
          const dec = decode(out.logits);
          out.logits.dispose();
          out.qHalt.dispose();
          out.qContinue.dispose();
          if (it === flowSegments) {
            const pr = tf.tidy(() => {
              const dz = tf.reshape(tf.sub(carry.zH, cT), [nb, dim]) as tf.Tensor2D;
              return tf.concat([tf.matMul(dz, VT), tf.reshape(tf.sum(tf.square(dz), 1), [nb, 1])], 1);
            });
            const prData = pr.dataSync() as Float32Array;
            pr.dispose();
            for (let q = 0; q < nb; q++) grid.flowTo(q, prData[3 * q], prData[3 * q + 1], prData[3 * q + 2], dec.subarray(q * cells, (q + 1) * cells));
          }
          const open = grid.basinStep(it, dec, rel);
          if (it >= flowSegments && open === 0) break;
          yield;
        }
      } finally {
        disposeCarry(carry);
        tok.dispose();
      }
      opts.onProgress?.({ phase: 'grid', done: start + nb, total: P });
      yield;
    }
  } finally {
    for (const t of [cT, cLT, d1T, d2T, VT]) t.dispose();
  }
  return finishLandscape(plan, plane, grid, puzzle, opts.basis !== undefined, t0);
}

/** JSON text of a landscape (typed arrays as arrays, non-finite numbers as null). */
export function landscapeToJson(l: Landscape, space?: number): string {
  return JSON.stringify(l, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    return v;
  }, space);
}
