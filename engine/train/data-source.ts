/**
 * Where training examples come from. Every draw is a pure function of (seed, draw index), so a resumed run draws
 * exactly the examples the uninterrupted run would have drawn: the only state to save is the draw counter.
 *
 * - generated: an endless stream of fresh puzzles from the seeded generator (each draw its own generator seed), or
 *   a fixed set of `fixedSetSize` generated puzzles (the paper's small-sample "1k" regime);
 * - pool: a fixed list of puzzles (e.g. read from a dataset file and subsampled), visited in a seeded order, one
 *   permutation per epoch.
 * Options: symmetry augmentation, applied to puzzle and solution together: a random transform per draw (`augment`), or
 * `augmentCopies` A fixed copies per pool puzzle as the reference dataset builder writes them (the puzzle itself plus A
 * transforms drawn from (seed, puzzle, copy) alone; a draw takes one member of the puzzle's group uniformly); and
 * data mixing (docs/model.md §Data mixing with hint twins): each draw is replaced by its hint twin with probability
 * 1/2, the 1:1 mix the reference sampler produces by drawing one member of each (puzzle, twin) group. Mixing mode
 * 'fixed' (the default, as the reference builds its dataset): every training puzzle has ONE twin, drawn from
 * (seed, puzzle, copy) alone, so the mixed set is fixed for the run; a per-draw symmetry moves the twin with its
 * puzzle.
 * Mode 'resample': a fresh twin per draw, from the draw's own Rng. Puzzles in `exclude` (e.g. a held-out evaluation
 * set, keyed by their grid string) are never drawn.
 */
import { type Grid, type GridSize, geometry, gridToString } from '../sudoku/geometry';
import { PuzzleGenerator } from '../sudoku/generator';
import { applyTransform, randomTransform, type SudokuTransform } from '../sudoku/symmetry';
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

/** How hint twins are drawn under data mixing: once per training puzzle for the run (fixed), or per draw (resample). */
export type MixingMode = 'fixed' | 'resample';
export const MIXING_MODES: readonly MixingMode[] = ['fixed', 'resample'];

export interface TrainDataOptions {
  seed: number;
  mixing: boolean;
  /** Default 'fixed'. */
  mixingMode?: MixingMode;
  augment: boolean;
  /** Fixed augmented copies per pool puzzle (takes the place of `augment`); needs a pool. */
  augmentCopies?: number;
  exclude?: ReadonlySet<string>;
}

const PURPOSE_PUZZLE = 1;
const PURPOSE_ORDER = 2;
const PURPOSE_DRAW = 3;
const PURPOSE_TWIN = 4;
const PURPOSE_COPY = 5;
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
    const copies = options.augmentCopies;
    if (copies !== undefined) {
      if (!Number.isInteger(copies) || copies < 0) throw new RangeError(`training data: augmentCopies must be an integer >= 0, got ${copies}`);
      if (!this.pool) throw new RangeError('training data: augmentCopies needs a fixed training set (fixedSetSize or a dataset file)');
    }
  }

  /** A JSON-friendly description for run.json. */
  describe(): Record<string, unknown> {
    const { spec, options } = this;
    const base = {
      size: spec.size, mixing: options.mixing, ...(options.mixing ? { mixingMode: this.mixingMode } : {}), augment: options.augment,
      ...(options.augmentCopies !== undefined ? { augmentCopies: options.augmentCopies } : {}), excluded: options.exclude?.size ?? 0,
    };
    return spec.kind === 'pool'
      ? { kind: 'pool', source: spec.description, puzzles: spec.puzzles.length, ...base }
      : { kind: 'generated', minClues: spec.minClues, maxClues: spec.maxClues, fixedSetSize: spec.fixedSetSize, ...base };
  }

  get mixingMode(): MixingMode {
    return this.options.mixingMode ?? 'fixed';
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
    let t: SudokuTransform | undefined;
    let key = base.key;
    const copies = this.options.augmentCopies;
    if (copies !== undefined) {
      // One member of the group: copy 0 is the puzzle itself, copy a >= 1 its a-th fixed transform.
      const copy = rng.int(copies + 1);
      key = [...base.key, copy];
      t = copy === 0 ? undefined : this.copyTransform(base.key, copy);
    } else if (this.options.augment) {
      t = randomTransform(geometry(this.size), rng);
    }
    if (t) {
      puzzle = applyTransform(puzzle, t);
      solution = applyTransform(solution, t);
    }
    if (this.options.mixing && rng.float() < 0.5) {
      if (this.mixingMode === 'fixed') {
        const twin = fixedTwin(base, this.options.seed, key);
        if (twin) return { puzzle: t ? applyTransform(twin, t) : twin, solution, twin: true };
      } else {
        const twin = hintTwin(puzzle, solution, rng);
        if (twin) return { puzzle: twin, solution, twin: true };
      }
    }
    return { puzzle, solution, twin: false };
  }

  /**
   * The fixed-mode hint twin of pool puzzle `index` (a file's puzzles or the fixed generated set), before any
   * augmentation (with augmentCopies: of copy 0, the puzzle itself); undefined when it has fewer than 2 blanks.
   */
  poolTwin(index: number): Grid | undefined {
    if (!this.pool) throw new Error('training data: generated puzzles have no pool');
    const p = this.pool[index];
    if (!p) throw new RangeError(`training data: pool index ${index} outside 0…${this.pool.length - 1}`);
    return fixedTwin(p, this.options.seed, this.options.augmentCopies === undefined ? [index] : [index, 0]);
  }

  /** Fixed copy `copy` (1…augmentCopies) of the puzzle with key `key`: a function of (seed, key, copy) only. */
  private copyTransform(key: readonly number[], copy: number): SudokuTransform {
    return randomTransform(geometry(this.size), new Rng(deriveSeed(this.options.seed, PURPOSE_COPY, ...key, copy)));
  }

  /**
   * The fixed copies of pool puzzle `index` as drawn (copy 0 = the puzzle itself), with their fixed-mode hint twins:
   * the group the reference builder writes for one puzzle. Needs augmentCopies.
   */
  poolGroup(index: number): { puzzle: Grid; solution: Grid; twin: Grid | undefined }[] {
    const copies = this.options.augmentCopies;
    if (copies === undefined || !this.pool) throw new Error('training data: no fixed augmented copies (augmentCopies)');
    const p = this.pool[index];
    if (!p) throw new RangeError(`training data: pool index ${index} outside 0…${this.pool.length - 1}`);
    return Array.from({ length: copies + 1 }, (_, copy) => {
      const t = copy === 0 ? undefined : this.copyTransform([index], copy);
      const twin = fixedTwin(p, this.options.seed, [index, copy]);
      const move = (g: Grid) => (t ? applyTransform(g, t) : g);
      return { puzzle: move(p.puzzle), solution: move(p.solution), twin: twin && move(twin) };
    });
  }

  private base(k: number, redraw: number): { puzzle: Grid; solution: Grid; key: number[] } {
    if (this.pool) {
      // Redraws (held-out collisions) walk forward in the same epoch order.
      const idx = k + redraw;
      const epoch = Math.floor(idx / this.pool.length);
      if (epoch !== this.orderEpoch) {
        this.order = new Rng(deriveSeed(this.options.seed, PURPOSE_ORDER, epoch)).permutation(this.pool.length);
        this.orderEpoch = epoch;
      }
      const index = this.order[idx % this.pool.length];
      return { ...this.pool[index], key: [index] };
    }
    const spec = this.spec as Extract<TrainDataSpec, { kind: 'generated' }>;
    const p = new PuzzleGenerator({ n: spec.size, seed: deriveSeed(this.options.seed, PURPOSE_PUZZLE, k, redraw), minClues: spec.minClues, maxClues: spec.maxClues }).next();
    return { puzzle: p.puzzle, solution: p.solution, key: [-1, k, redraw] };
  }
}

/** The one twin of a training puzzle in fixed mode: a function of (seed, the puzzle's key) only. */
function fixedTwin(p: { puzzle: Grid; solution: Grid }, seed: number, key: readonly number[]): Grid | undefined {
  return hintTwin(p.puzzle, p.solution, new Rng(deriveSeed(seed, PURPOSE_TWIN, ...key)));
}
