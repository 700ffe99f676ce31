/**
 * Votes over passes (docs/analyses.md §Votes: oracle and label-free): one pass = one forward run (16 segments) of one
 * checkpoint on one perturbed copy of a puzzle, read at its last segment, with the answer mapped back to the original
 * puzzle's digits/cells.
 *
 * ORACLE rule (the official evaluator; label-dependent — it needs the solution):
 *   per checkpoint: solved iff 2·#(halted ∧ exact) > #halted (strict majority of halted passes; none halted → unsolved);
 *   across checkpoints: solved iff ANY checkpoint solves it (OR).
 * LABEL-FREE plurality (deployable; an operational definition, docs/analyses.md §Votes: oracle and label-free):
 *   pool = the halted passes, or ALL passes when none halted (so a vote always exists when there is a pass);
 *   the most frequent answer wins; ties → lower E, then higher q_halt, then the lexicographically smaller answer
 *   string (digits, blank as '0'). Within an answer group E is the group's minimum and q_halt its maximum.
 * LABEL-FREE per-cell plurality: same pool; each cell takes its most frequent digit; ties between digits go to the
 *   digit backed by the best-ranked pass, passes ranked by lower E, then higher q_halt, then earlier pass order.
 * halted = q_halt > q_continue (strict) at the last segment.
 * Answers are treated as immutable once inside a Pass (their vote keys are cached per array).
 */
import { type Grid, type GridSize, geometry, gridToString } from '../sudoku/geometry';
import { conflictEnergy } from '../sudoku/energy';
import { type SudokuTransform, mapBack } from '../sudoku/symmetry';
import { decodeDigits } from '../analysis/decode';
import type { PuzzleTrace, SegmentCapture } from '../analysis/trace';

export interface Pass {
  /** Answer in the ORIGINAL puzzle's frame (mapped back). */
  answer: Grid;
  /** q_halt > q_continue at the last segment. */
  halted: boolean;
  /** Raw q_halt logit at the last segment. */
  qHalt: number;
  /** Conflict energy of the answer. */
  energy: number;
  qContinue?: number;
}

/** A pass from the last segment of a run on the transformed puzzle `transform(puzzle)` (identity when absent). */
export function makePass(last: SegmentCapture, n: GridSize, transform?: SudokuTransform): Pass {
  const digits = decodeDigits(last.logits, n);
  const answer = transform ? mapBack(digits, transform) : digits;
  return {
    answer,
    halted: last.qHalt > last.qContinue,
    qHalt: last.qHalt,
    qContinue: last.qContinue,
    energy: conflictEnergy(answer, geometry(n)),
  };
}

/** A pass from a recorded trace of the transformed puzzle (its last segment). */
export function passFromTrace(trace: PuzzleTrace, transform?: SudokuTransform): Pass {
  const last = trace.segments[trace.segments.length - 1];
  if (!last) throw new RangeError('passFromTrace: the trace has no segments');
  return makePass(last, trace.n, transform);
}

export function answersEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface OracleVote {
  solved: boolean;
  passes: number;
  halted: number;
  haltedExact: number;
}

/** Oracle rule for one checkpoint: 2·#(halted ∧ exact) > #halted. */
export function oracleCheckpointVote(passes: readonly Pass[], solution: ArrayLike<number>): OracleVote {
  let halted = 0;
  let haltedExact = 0;
  for (const p of passes) {
    if (!p.halted) continue;
    halted++;
    if (answersEqual(p.answer, solution)) haltedExact++;
  }
  return { solved: 2 * haltedExact > halted, passes: passes.length, halted, haltedExact };
}

/** Oracle rule across checkpoints: OR of the per-checkpoint votes. */
export function oracleSolved(byCheckpoint: readonly (readonly Pass[])[], solution: ArrayLike<number>): boolean {
  return byCheckpoint.some((passes) => oracleCheckpointVote(passes, solution).solved);
}

export interface LabelFreeVote {
  /** Winning answer (null when there are no passes). */
  answer: Grid | null;
  /** Passes that gave the winning answer. */
  votes: number;
  pool: 'halted' | 'all';
  poolSize: number;
  distinctAnswers: number;
}

function votePool(passes: readonly Pass[]): { pool: 'halted' | 'all'; members: number[] } {
  const halted: number[] = [];
  passes.forEach((p, i) => { if (p.halted) halted.push(i); });
  return halted.length > 0 ? { pool: 'halted', members: halted } : { pool: 'all', members: passes.map((_, i) => i) };
}

/** Answer strings, cached per answer array (answers are treated as immutable once in a Pass). */
const keyCache = new WeakMap<Grid, string>();

function answerKey(g: Grid): string {
  let k = keyCache.get(g);
  if (k === undefined) { k = gridToString(g, '0'); keyCache.set(g, k); }
  return k;
}

/** Label-free plurality over whole answers. */
export function labelFreeVote(passes: readonly Pass[]): LabelFreeVote {
  const { pool, members } = votePool(passes);
  const groups = new Map<string, { count: number; energy: number; qHalt: number; first: number }>();
  for (const i of members) {
    const p = passes[i];
    const key = answerKey(p.answer);
    const g = groups.get(key);
    if (!g) groups.set(key, { count: 1, energy: p.energy, qHalt: p.qHalt, first: i });
    else {
      g.count++;
      if (p.energy < g.energy) g.energy = p.energy;
      if (p.qHalt > g.qHalt) g.qHalt = p.qHalt;
    }
  }
  let bestKey: string | null = null;
  let best: { count: number; energy: number; qHalt: number; first: number } | null = null;
  for (const [key, g] of groups) {
    const better = best === null || bestKey === null
      || g.count > best.count
      || (g.count === best.count && (g.energy < best.energy
        || (g.energy === best.energy && (g.qHalt > best.qHalt
          || (g.qHalt === best.qHalt && key < bestKey)))));
    if (better) { best = g; bestKey = key; }
  }
  return {
    answer: best ? Int8Array.from(passes[best.first].answer) : null,
    votes: best ? best.count : 0,
    pool,
    poolSize: members.length,
    distinctAnswers: groups.size,
  };
}

export interface LabelFreeCellVote {
  answer: Grid | null;
  /** Per cell: passes that gave the winning digit. */
  votesPerCell: Int16Array;
  pool: 'halted' | 'all';
  poolSize: number;
}

/** Label-free per-cell plurality (ties → the digit of the best-ranked pass: lower E, higher q_halt, earlier). */
export function labelFreeCellVote(passes: readonly Pass[]): LabelFreeCellVote {
  const { pool, members } = votePool(passes);
  if (members.length === 0) return { answer: null, votesPerCell: new Int16Array(0), pool, poolSize: 0 };
  const cells = passes[members[0]].answer.length;
  const ranked = [...members].sort((a, b) => passes[a].energy - passes[b].energy || passes[b].qHalt - passes[a].qHalt || a - b);
  const rankOf = new Map<number, number>(ranked.map((p, r) => [p, r]));
  let maxDigit = 0;
  for (const i of members) {
    if (passes[i].answer.length !== cells) throw new RangeError('labelFreeCellVote: answers differ in length');
    for (let c = 0; c < cells; c++) if (passes[i].answer[c] > maxDigit) maxDigit = passes[i].answer[c];
  }
  const answer = new Int8Array(cells);
  const votesPerCell = new Int16Array(cells);
  const count = new Int32Array(maxDigit + 1);
  const bestRank = new Int32Array(maxDigit + 1);
  for (let c = 0; c < cells; c++) {
    count.fill(0);
    bestRank.fill(0x7fffffff);
    for (const i of members) {
      const d = passes[i].answer[c];
      count[d]++;
      const r = rankOf.get(i) ?? 0;
      if (r < bestRank[d]) bestRank[d] = r;
    }
    let win = -1;
    for (let d = 0; d <= maxDigit; d++) {
      if (count[d] === 0) continue;
      if (win < 0 || count[d] > count[win] || (count[d] === count[win] && bestRank[d] < bestRank[win])) win = d;
    }
    answer[c] = win;
    votesPerCell[c] = count[win];
  }
  return { answer, votesPerCell, pool, poolSize: members.length };
}

/** Whether the label-free plurality answer equals the solution. */
export function labelFreeSolved(passes: readonly Pass[], solution: ArrayLike<number>): boolean {
  const v = labelFreeVote(passes);
  return v.answer !== null && answersEqual(v.answer, solution);
}
