/**
 * Where training examples come from. Every draw is a pure function of (seed, draw index), so a resumed run draws
 * exactly the examples the uninterrupted run would have drawn: the only state to save is the draw counter.
 *
 * - generated: an endless stream of fresh puzzles from the seeded generator (each draw its own generator seed), or
 *   a fixed set of `fixedSetSize` generated puzzles (the paper's small-sample "1k" regime);
 * - pool: a fixed list of puzzles (e.g. read from a dataset file and subsampled), visited in a seeded order, one
 *   permutation per epoch.
 * Options: on-the-fly symmetry augmentation (a random transform per draw, applied to puzzle and solution together), and
 * data mixing (docs/model.md §Data mixing with hint twins): each draw is replaced by its hint twin with probability
 * 1/2, the 1:1 mix the reference sampler produces by drawing one member of each (puzzle, twin) group. Puzzles in
 * `exclude` (e.g. a held-out evaluation set, keyed by their grid string) are never drawn.
 */
import { type Grid, type GridSize, geometry, gridToString } from '../sudoku/geometry';
import { PuzzleGenerator } from '../sudoku/generator';
import { applyTransform, randomTransform } from '../sudoku/symmetry';
import { hintTwin } from '../sudoku/hint-twins';
import { Rng } from '../util/rng';
import { deriveSeed } from '../util/hash-seed';

export interface TrainExample {
  puzzle: Grid;
  solution: Grid;
  /** True when this draw is a hint twin (data mixing). */
  twin: boolean;
}

export type TrainDataSpec =
  | { kind: 'generated'; size: GridSize; minClues?: number; maxClues?: number; fixedSetSize?: number }
  | { kind: 'pool'; size: GridSize; puzzles: readonly { puzzle: Grid; solution: Grid }[]; description: string };

export interface TrainDataOptions {
  seed: number;
  mixing: boolean;
  augment: boolean;
  exclude?: ReadonlySet<string>;
}

const PURPOSE_PUZZLE = 1;
const PURPOSE_ORDER = 2;
const PURPOSE_DRAW = 3;
const MAX_REDRAWS = 10_000;

export class TrainDataSource {
  readonly size: GridSize;
  private readonly pool: readonly { puzzle: Grid; solution: Grid }[] | undefined;
  private orderEpoch = -1;
  private order: Int32Array = new Int32Array(0);

  constructor(readonly spec: TrainDataSpec, readonly options: TrainDataOptions) {
    this.size = spec.size;
    if (spec.kind === 'pool') {
      if (spec.puzzles.length === 0) throw new Error(`training data ${spec.description}: no puzzles`);
      this.pool = spec.puzzles;
    } else if (spec.fixedSetSize !== undefined) {
      const gen = new PuzzleGenerator({ n: spec.size, seed: deriveSeed(options.seed, PURPOSE_PUZZLE, -1), minClues: spec.minClues, maxClues: spec.maxClues });
      const set: { puzzle: Grid; solution: Grid }[] = [];
      for (let guard = 0; set.length < spec.fixedSetSize && guard < spec.fixedSetSize * 100; guard++) {
        const p = gen.next();
        if (!options.exclude?.has(gridToString(p.puzzle))) set.push({ puzzle: p.puzzle, solution: p.solution });
      }
      this.pool = set;
    }
  }

  /** A JSON-friendly description for run.json. */
  describe(): Record<string, unknown> {
    const { spec, options } = this;
    const base = { size: spec.size, mixing: options.mixing, augment: options.augment, excluded: options.exclude?.size ?? 0 };
    return spec.kind === 'pool'
      ? { kind: 'pool', source: spec.description, puzzles: spec.puzzles.length, ...base }
      : { kind: 'generated', minClues: spec.minClues, maxClues: spec.maxClues, fixedSetSize: spec.fixedSetSize, ...base };
  }

  /** Draw number k (0-based). Deterministic in (seed, k). */
  draw(k: number): TrainExample {
    const rng = new Rng(deriveSeed(this.options.seed, PURPOSE_DRAW, k));
    let base = this.base(k, 0);
    for (let r = 1; this.options.exclude?.has(gridToString(base.puzzle)); r++) {
      if (r > MAX_REDRAWS) throw new Error('training data: every candidate puzzle is in the excluded (held-out) set');
      base = this.base(k, r);
    }
    let { puzzle, solution } = base;
    if (this.options.augment) {
      const t = randomTransform(geometry(this.size), rng);
      puzzle = applyTransform(puzzle, t);
      solution = applyTransform(solution, t);
    }
    if (this.options.mixing && rng.float() < 0.5) {
      const twin = hintTwin(puzzle, solution, rng);
      if (twin) return { puzzle: twin, solution, twin: true };
    }
    return { puzzle, solution, twin: false };
  }

  private base(k: number, redraw: number): { puzzle: Grid; solution: Grid } {
    if (this.pool) {
      // Redraws (held-out collisions) walk forward in the same epoch order.
      const idx = k + redraw;
      const epoch = Math.floor(idx / this.pool.length);
      if (epoch !== this.orderEpoch) {
        this.order = new Rng(deriveSeed(this.options.seed, PURPOSE_ORDER, epoch)).permutation(this.pool.length);
        this.orderEpoch = epoch;
      }
      return this.pool[this.order[idx % this.pool.length]];
    }
    const spec = this.spec as Extract<TrainDataSpec, { kind: 'generated' }>;
    const p = new PuzzleGenerator({ n: spec.size, seed: deriveSeed(this.options.seed, PURPOSE_PUZZLE, k, redraw), minClues: spec.minClues, maxClues: spec.maxClues }).next();
    return { puzzle: p.puzzle, solution: p.solution };
  }
}
