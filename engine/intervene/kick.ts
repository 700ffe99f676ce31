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
  /** Kicked rows whose start states are held at once (kickManySteps; default MAX_KICK_ROWS): puzzles go in chunks. */
  chunkRows?: number;
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

/** One puzzle of a batched kick (kickManySteps). */
export interface KickItem {
  puzzle: Grid;
  /** Default: the solver's when unique. */
  solution?: Grid;
}

/** Kicked rows per chunk of puzzles in kickManySteps: bounds the start states held at once (≈ 170 MB at 9×9, D 64). */
const MAX_KICK_ROWS = 4096;

/** The kicks as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch. */
export function* kickSteps(map: RecurrentMap, puzzle: Grid, opts: KickOptions = {}): Steps<KickResult> {
  const [r] = yield* kickManySteps(map, [{ puzzle, solution: opts.solution }], opts);
  return r;
}

/**
 * The kicks of many puzzles, batched: the unkicked runs of every puzzle as rows of one run, then the kicked copies of
 * as many puzzles as fit MAX_KICK_ROWS as rows of one run. Every puzzle is kicked along the same random directions
 * (the seed's) and its own principal ones; each result equals kickSteps on that puzzle alone.
 */
export function* kickManySteps(map: RecurrentMap, items: readonly KickItem[], opts: KickOptions = {}): Steps<KickResult[]> {
  const t0 = performance.now();
  const { S, runOn, epsilons, directions, pcs, part, seed } = kickSettings(map, opts);
  const n = map.n as GridSize;
  const cells = n * n;
  items.forEach((it, i) => {
    if (it.puzzle.length !== cells) throw new RangeError(`kick: ${items.length > 1 ? `puzzle ${i} has` : 'the puzzle has'} ${it.puzzle.length} cells, the model's grid ${cells}`);
  });
  const solutions = items.map((it) => it.solution ?? uniqueSolution(it.puzzle, n));
  const perEps = directions + 2 * pcs;
  const rowsPer = 1 + epsilons.length * perEps;
  const total = items.length * (S + rowsPer * runOn);
  let base = 0;
  const run = function* (puzzles: Grid[], o: Parameters<typeof trajectorySteps>[2]): Steps<Trajectories> {
    const r = yield* trajectorySteps(map, puzzles, { ...o, batch: opts.batch, signal: opts.signal, onProgress: (d) => opts.onProgress?.(base + d, total) });
    base += r.segments.reduce((a, b) => a + b, 0);
    return r;
  };

  const own = yield* run(items.map((it) => it.puzzle), { segments: S, keep: pcs > 0 ? 'all' : [S] });
  const width = map.positions * map.hidden;
  const dim = part === 'both' ? 2 * width : width;
  const random = randomDirections(dim, directions, seed);
  const geo = geometry(n);
  const results: KickResult[] = [];
  const chunk = Math.max(1, Math.floor((opts.chunkRows ?? MAX_KICK_ROWS) / rowsPer));
  for (let c0 = 0; c0 < items.length; c0 += chunk) {
    throwIfAborted(opts.signal, 'kick');
    const ids = Array.from({ length: Math.min(chunk, items.length - c0) }, (_, j) => c0 + j);
    const rows = ids.length * rowsPer;
    const zH = new Float32Array(rows * width);
    const zL = new Float32Array(rows * width);
    const norms: number[] = [];
    ids.forEach((i, q) => {
      const end = stateAt(own, i, S);
      const z = partVector(end, part);
      let sq = 0;
      for (const v of z) sq += v * v;
      const stateNorm = Math.sqrt(sq);
      norms.push(stateNorm);
      const principal = pcs > 0 ? principalDirections(Array.from({ length: S }, (_, k) => partVector(stateAt(own, i, k + 1), part)), pcs) : [];
      const dirs = [...random, ...principal];
      // Row 0 of the puzzle: the unkicked state; then per ε (ascending) its random kicks, then its principal ones.
      const first = q * rowsPer;
      for (let r = 0; r < rowsPer; r++) { zH.set(end.zH, (first + r) * width); zL.set(end.zL, (first + r) * width); }
      epsilons.forEach((eps, e) => {
        dirs.forEach((u, j) => {
          const r = first + 1 + e * perEps + j;
          const scale = eps * stateNorm;
          const hOff = part === 'zL' ? -1 : 0;
          const lOff = part === 'zH' ? -1 : part === 'zL' ? 0 : width;
          if (hOff >= 0) for (let x = 0; x < width; x++) zH[r * width + x] += scale * u[hOff + x];
          if (lOff >= 0) for (let x = 0; x < width; x++) zL[r * width + x] += scale * u[lOff + x];
        });
      });
    });
    const after = yield* run(ids.flatMap((i) => new Array<Grid>(rowsPer).fill(items[i].puzzle)), { segments: runOn, from: { rows, zH, zL } });
    ids.forEach((i, q) => {
      const first = q * rowsPer;
      const solution = solutions[i];
      const reference = finalGrid(after, first);
      const curve: KickPoint[] = epsilons.map((epsilon, e) => {
        let randomBack = 0;
        let principalBack = 0;
        const escapes = new Map<string, { grid: string; count: number; energy: number; exact: boolean | null }>();
        for (let j = 0; j < perEps; j++) {
          const g = finalGrid(after, first + 1 + e * perEps + j);
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
      const outcome = interventionOutcome(n, items[i].puzzle, solution, own.grids[i]);
      results.push({
        outcome, stateNorm: norms[q], reference: { grid: gridToString(reference), exact: solution ? sameGrid(reference, solution) : null },
        curve, basinRadius, basinLevel: BASIN_LEVEL, seconds: 0, text: '',
      });
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  results.forEach((r, i) => {
    r.seconds = seconds;
    r.text = formatKick(r, { label: opts.label ?? 'model', puzzle: gridToString(items[i].puzzle), segments: S, runOn, part, reference: r.reference.grid });
  });
  return results;
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
