/**
 * Kicks (docs/analyses.md §Interventions): how far the end state of a run can be pushed and still come back to the
 * same answer. The puzzle runs `segments` segments from the initial state; its state z there (z_H, z_L or both, as
 * one vector) is pushed to z + ε‖z‖u and run on `runOn` more segments:
 * - u: `directions` seeded random unit vectors (Gaussian, normalised; the same directions for every ε, so the curve
 *   over ε compares like with like), and ± the top `pcs` principal directions of the run's own states (the
 *   segment-end states 1..segments of the kicked part; engine/analysis/pca.ts, its sign convention and its
 *   completion past the rank);
 * - a kick "came back" when its decoded grid after `runOn` segments equals the unkicked state's own after the same
 *   `runOn` segments (one extra row of the batch; at a fixed point that is the outcome's grid);
 * - escapes: the distinct grids the other kicks ended at, with their counts, E and exactness;
 * - basinRadius: the largest ε of the (ascending) sweep such that at that ε and every smaller one at least
 *   BASIN_LEVEL of all kicks (random and principal) came back; null when even the smallest ε does not.
 * Every kicked copy of every ε runs in one batch of rows (engine/intervene/trajectory.ts, `batch` rows per forward).
 */
import { Rng } from '../util/rng';
import { type Grid, type GridSize, gridToString } from '../sudoku/geometry';
import { conflictEnergy } from '../sudoku/energy';
import { geometry } from '../sudoku/geometry';
import { fitPcaBasis } from '../analysis/pca';
import { type Steps, throwIfAborted } from '../util/steps';
import type { KickPoint, KickResult, StatePart } from './intervene-protocol';
import { interventionOutcome, outcomeLine, sameGrid, uniqueSolution } from './outcome';
import type { RecurrentMap } from './recurrent-map';
import { type RowState, type Trajectories, finalGrid, stateAt, trajectorySteps } from './trajectory';
import { BASIN_LEVEL, KICK_DEFAULTS } from './kick-defaults';

export { BASIN_LEVEL, KICK_DEFAULTS } from './kick-defaults';

export interface KickOptions {
  /** Segments before the kick (default: the map's). */
  segments?: number;
  /** Segments after the kick (default: `segments`). */
  runOn?: number;
  epsilons?: readonly number[];
  directions?: number;
  pcs?: number;
  part?: StatePart;
  seed?: number;
  /** The puzzle's solution (default: the solver's when unique). */
  solution?: Grid;
  /** What the report's first line names (e.g. the checkpoint file). */
  label?: string;
  /** Rows per forward batch (default 128). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The kicked part of a state as one vector (z_H, then z_L for 'both'). */
export function partVector(s: RowState, part: StatePart): Float32Array {
  if (part === 'zH') return s.zH;
  if (part === 'zL') return s.zL;
  const v = new Float32Array(s.zH.length + s.zL.length);
  v.set(s.zH);
  v.set(s.zL, s.zH.length);
  return v;
}

/** `count` seeded random unit vectors of dimension `dim` (Gaussian entries, normalised; float64). */
export function randomDirections(dim: number, count: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const u = Float64Array.from({ length: dim }, () => rng.normal());
    let norm = 0;
    for (const x of u) norm += x * x;
    norm = Math.sqrt(norm);
    for (let i = 0; i < dim; i++) u[i] /= norm;
    return u;
  });
}

/** The top `count` principal directions of `states` (unit, orthogonal; completed past the rank), each as +u then −u. */
export function principalDirections(states: readonly ArrayLike<number>[], count: number): Float64Array[] {
  if (count === 0) return [];
  const basis = fitPcaBasis(states, { components: count });
  return basis.components.flatMap((u) => [u, u.map((x) => -x)]);
}

/** The settings with their defaults, checked (RangeError naming the option). */
export function kickSettings(map: RecurrentMap, opts: KickOptions): { S: number; runOn: number; epsilons: number[]; directions: number; pcs: number; part: StatePart; seed: number } {
  const S = opts.segments ?? map.segments;
  const runOn = opts.runOn ?? S;
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`kick: ${name} must be an integer >= ${min}, got ${v}`);
  };
  int('segments', S, 1);
  int('runOn', runOn, 1);
  const directions = opts.directions ?? KICK_DEFAULTS.directions;
  const pcs = opts.pcs ?? KICK_DEFAULTS.pcs;
  int('directions', directions, 0);
  int('pcs', pcs, 0);
  if (directions + pcs === 0) throw new RangeError('kick: directions and pcs are both 0: nothing to kick with');
  const epsilons = [...new Set(opts.epsilons ?? KICK_DEFAULTS.epsilons)].sort((a, b) => a - b);
  if (epsilons.length === 0) throw new RangeError('kick: epsilons must list at least one size');
  for (const e of epsilons) if (!(Number.isFinite(e) && e > 0)) throw new RangeError(`kick: every epsilon must be a number > 0, got ${e}`);
  const part = opts.part ?? KICK_DEFAULTS.part;
  if (part !== 'zH' && part !== 'zL' && part !== 'both') throw new RangeError(`kick: part must be zH, zL or both, got ${String(part)}`);
  const seed = opts.seed ?? KICK_DEFAULTS.seed;
  int('seed', seed, 0);
  return { S, runOn, epsilons, directions, pcs, part, seed };
}

/** The kicks as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch. */
export function* kickSteps(map: RecurrentMap, puzzle: Grid, opts: KickOptions = {}): Steps<KickResult> {
  const t0 = performance.now();
  const { S, runOn, epsilons, directions, pcs, part, seed } = kickSettings(map, opts);
  const n = map.n as GridSize;
  const cells = n * n;
  if (puzzle.length !== cells) throw new RangeError(`kick: the puzzle has ${puzzle.length} cells, the model's grid ${cells}`);
  const solution = opts.solution ?? uniqueSolution(puzzle, n);
  const perEps = directions + 2 * pcs;
  const rows = 1 + epsilons.length * perEps;
  const total = S + rows * runOn;
  let base = 0;
  const run = function* (puzzles: Grid[], o: Parameters<typeof trajectorySteps>[2]): Steps<Trajectories> {
    const r = yield* trajectorySteps(map, puzzles, { ...o, batch: opts.batch, signal: opts.signal, onProgress: (d) => opts.onProgress?.(base + d, total) });
    base += r.segments.reduce((a, b) => a + b, 0);
    return r;
  };

  const own = yield* run([puzzle], { segments: S, keep: pcs > 0 ? 'all' : [S] });
  const outcome = interventionOutcome(n, puzzle, solution, own.grids[0]);
  const end = stateAt(own, 0, S);
  const z = partVector(end, part);
  let sq = 0;
  for (const v of z) sq += v * v;
  const stateNorm = Math.sqrt(sq);
  throwIfAborted(opts.signal, 'kick');
  const random = randomDirections(z.length, directions, seed);
  const principal = pcs > 0 ? principalDirections(Array.from({ length: S }, (_, k) => partVector(stateAt(own, 0, k + 1), part)), pcs) : [];
  const dirs = [...random, ...principal];

  // Row 0: the unkicked state; then per ε (ascending) its random kicks, then its principal ones.
  const width = end.zH.length;
  const zH = new Float32Array(rows * width);
  const zL = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) { zH.set(end.zH, r * width); zL.set(end.zL, r * width); }
  epsilons.forEach((eps, e) => {
    dirs.forEach((u, j) => {
      const r = 1 + e * perEps + j;
      const scale = eps * stateNorm;
      const hOff = part === 'zL' ? -1 : 0;
      const lOff = part === 'zH' ? -1 : part === 'zL' ? 0 : width;
      if (hOff >= 0) for (let i = 0; i < width; i++) zH[r * width + i] += scale * u[hOff + i];
      if (lOff >= 0) for (let i = 0; i < width; i++) zL[r * width + i] += scale * u[lOff + i];
    });
  });
  const after = yield* run(new Array<Grid>(rows).fill(puzzle), { segments: runOn, from: { rows, zH, zL } });
  const reference = finalGrid(after, 0);

  const geo = geometry(n);
  const curve: KickPoint[] = epsilons.map((epsilon, e) => {
    let randomBack = 0;
    let principalBack = 0;
    const escapes = new Map<string, { grid: string; count: number; energy: number; exact: boolean | null }>();
    for (let j = 0; j < perEps; j++) {
      const g = finalGrid(after, 1 + e * perEps + j);
      if (sameGrid(g, reference)) {
        if (j < directions) randomBack++;
        else principalBack++;
        continue;
      }
      const key = gridToString(g);
      const hit = escapes.get(key);
      if (hit) hit.count++;
      else escapes.set(key, { grid: key, count: 1, energy: conflictEnergy(g, geo), exact: solution ? sameGrid(g, solution) : null });
    }
    return {
      epsilon,
      random: { returned: randomBack, total: directions },
      principal: { returned: principalBack, total: 2 * pcs },
      escapes: [...escapes.values()].sort((a, b) => b.count - a.count || (a.grid < b.grid ? -1 : 1)),
    };
  });
  let basinRadius: number | null = null;
  for (const p of curve) {
    if (p.random.returned + p.principal.returned < BASIN_LEVEL * (p.random.total + p.principal.total)) break;
    basinRadius = p.epsilon;
  }
  const result: KickResult = {
    outcome, stateNorm, curve, basinRadius, basinLevel: BASIN_LEVEL, seconds: (performance.now() - t0) / 1000, text: '',
  };
  result.text = formatKick(result, { label: opts.label ?? 'model', puzzle: gridToString(puzzle), segments: S, runOn, part, reference: gridToString(reference) });
  return result;
}

/** The report `hrm-lens kick` prints. */
export function formatKick(r: KickResult, o: { label: string; puzzle: string; segments: number; runOn: number; part: StatePart; reference: string }): string {
  const partName = o.part === 'both' ? 'z_H and z_L' : o.part === 'zH' ? 'z_H' : 'z_L';
  const lines = [
    `kick ${o.label}: ${partName} after segment ${o.segments}, run on ${o.runOn} segments, ‖z‖ = ${r.stateNorm.toPrecision(4)}, ${r.seconds.toFixed(2)} s`,
    `puzzle    ${o.puzzle}`,
    `end       ${r.outcome.grid}  ${outcomeLine(r.outcome)}`,
  ];
  if (o.reference !== r.outcome.grid) lines.push(`unkicked  ${o.reference}  after ${o.runOn} more segments (the grid a kick must come back to)`);
  lines.push('', '       ε  random   principal  escapes (grid ×count, E)');
  for (const p of r.curve) {
    const esc = p.escapes.slice(0, 3).map((x) => `${x.grid} ×${x.count} E${x.energy}${x.exact ? ' exact' : ''}`).join('; ');
    const more = p.escapes.length > 3 ? `; … ${p.escapes.length - 3} more` : '';
    lines.push(`${p.epsilon.toPrecision(3).padStart(8)}  ${`${p.random.returned}/${p.random.total}`.padStart(6)}  ${`${p.principal.returned}/${p.principal.total}`.padStart(9)}  ${esc}${more}`);
  }
  lines.push('', r.basinRadius === null
    ? `basin radius: below the smallest ε (fewer than ${Math.round(r.basinLevel * 100)}% of its kicks came back)`
    : `basin radius ε = ${r.basinRadius} (${Math.round(r.basinLevel * 100)}% of the kicks came back at it and every smaller ε): ‖δz‖ = ${(r.basinRadius * r.stateNorm).toPrecision(4)}`);
  return `${lines.join('\n')}\n`;
}
