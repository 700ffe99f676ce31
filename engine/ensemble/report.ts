/**
 * Ensemble evaluation report (docs/analyses.md §Ensemble report): from a pass matrix puzzle × checkpoint ×
 * perturbation and the solutions, accuracies of the four configurations under both rules of votes.ts.
 *
 * Configurations (b = baseline checkpoint, default the last; id = identity perturbation, default index 0):
 *   baseline     checkpoint b,          perturbation id
 *   relabeling   checkpoint b,          all perturbations
 *   checkpoints  all checkpoints,       perturbation id
 *   both         all checkpoints,       all perturbations
 * Under the ORACLE rule a configuration solves a puzzle iff some selected checkpoint's strict majority of halted
 * selected passes is exact; under the LABEL-FREE rule the plurality answer over ALL selected passes, pooled across
 * checkpoints (halted ones, or all when none halted), equals the solution. Note: a lone non-halted pass never counts
 * under the oracle rule, but it does under the label-free rule.
 * Curves: accuracy vs the number of relabelings k = 1..P (the FIRST k perturbations, in the given order) with
 * checkpoint b and with all checkpoints; vs the number of checkpoints k = 1..C (the LAST k) with perturbation id and
 * with all perturbations.
 * Per-puzzle bits (row-major [puzzle][checkpoint][perturbation]): halted, exact (answer == solution, halted or not).
 * Per-checkpoint solved sets: each checkpoint alone with all perturbations; pairwise Jaccard |A∩B| / |A∪B| (1 when both
 * sets are empty), for each rule.
 * Rating bands: edges e_0 < e_1 < … (default 0, 1, 10, 100, ∞); band i holds ratings in [e_i, e_{i+1}).
 * Accuracies over no puzzles are NaN (null in JSON, empty in CSV). Writers return strings; the caller writes files.
 */
import type { Grid } from '../sudoku/geometry';
import type { EnsembleConfig, EnsembleDetail } from './report-types';
import { type Pass, answersEqual, labelFreeVote, oracleCheckpointVote } from './votes';

export interface PassMatrix {
  /** passes[puzzle][checkpoint][perturbation], answers mapped back to the original puzzle. */
  passes: readonly (readonly (readonly Pass[])[])[];
  solutions: readonly Grid[];
  checkpointNames?: readonly string[];
  perturbationNames?: readonly string[];
  /** Difficulty per puzzle, for rating bands. */
  ratings?: readonly number[];
  /** Puzzle identifiers for the report and the per-puzzle CSVs. */
  puzzleIds?: readonly string[];
}

export interface ReportOptions {
  /** Checkpoint index of the baseline (default: the last). */
  baselineCheckpoint?: number;
  /** Index of the identity perturbation (default 0). */
  identityPerturbation?: number;
  /** Rating band edges, ascending (default [0, 1, 10, 100, Infinity]). */
  ratingBands?: readonly number[];
}

export interface RuleAccuracy {
  oracle: number;
  labelFree: number;
}

export type ConfigName = EnsembleConfig;
export const CONFIG_NAMES: readonly ConfigName[] = ['baseline', 'relabeling', 'checkpoints', 'both'];

export interface SolvedBits {
  oracle: Uint8Array;
  labelFree: Uint8Array;
}

export interface CurvePoint extends RuleAccuracy {
  k: number;
}

export interface BandRow {
  lo: number;
  hi: number;
  count: number;
  summary: Record<ConfigName, RuleAccuracy>;
}

export interface EnsembleReport {
  puzzles: number;
  checkpoints: number;
  perturbations: number;
  baselineCheckpoint: number;
  identityPerturbation: number;
  checkpointNames: string[];
  perturbationNames: string[];
  /** From the matrix, or the puzzle index as text. */
  puzzleIds: string[];
  summary: Record<ConfigName, RuleAccuracy>;
  /** Per configuration, per puzzle: 1 = solved. */
  solved: Record<ConfigName, SolvedBits>;
  curves: {
    relabelings: CurvePoint[];
    relabelingsAllCheckpoints: CurvePoint[];
    checkpoints: CurvePoint[];
    checkpointsAllRelabelings: CurvePoint[];
  };
  /** Row-major [puzzle][checkpoint][perturbation]. */
  passHalted: Uint8Array;
  passExact: Uint8Array;
  /** Row-major [checkpoint][puzzle]: each checkpoint alone, all perturbations. */
  checkpointSolved: SolvedBits;
  /** Row-major C×C. */
  jaccard: { oracle: Float64Array; labelFree: Float64Array };
  bands?: BandRow[];
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i);
}

function checkMatrix(m: PassMatrix): { C: number; P: number } {
  const N = m.passes.length;
  if (m.solutions.length !== N) throw new RangeError(`ensemble report: ${N} puzzles but ${m.solutions.length} solutions`);
  if (m.ratings && m.ratings.length !== N) throw new RangeError(`ensemble report: ${N} puzzles but ${m.ratings.length} ratings`);
  const C = N > 0 ? m.passes[0].length : (m.checkpointNames?.length ?? 0);
  const P = N > 0 && C > 0 ? m.passes[0][0].length : (m.perturbationNames?.length ?? 0);
  m.passes.forEach((byC, i) => {
    if (byC.length !== C) throw new RangeError(`ensemble report: puzzle ${i} has ${byC.length} checkpoints, expected ${C}`);
    byC.forEach((byP, c) => {
      if (byP.length !== P) throw new RangeError(`ensemble report: puzzle ${i}, checkpoint ${c} has ${byP.length} perturbations, expected ${P}`);
    });
  });
  return { C, P };
}

/** Whether puzzle i is solved using the selected checkpoints and perturbations, under each rule. */
export function solvedWith(m: PassMatrix, puzzle: number, checkpoints: readonly number[], perturbations: readonly number[]): { oracle: boolean; labelFree: boolean } {
  const sol = m.solutions[puzzle];
  let oracle = false;
  const pooled: Pass[] = [];
  for (const c of checkpoints) {
    const sel = perturbations.map((p) => m.passes[puzzle][c][p]);
    if (!oracle && oracleCheckpointVote(sel, sol).solved) oracle = true;
    pooled.push(...sel);
  }
  const v = labelFreeVote(pooled);
  return { oracle, labelFree: v.answer !== null && answersEqual(v.answer, sol) };
}

function solvedBits(m: PassMatrix, puzzles: readonly number[], checkpoints: readonly number[], perturbations: readonly number[]): SolvedBits {
  const oracle = new Uint8Array(puzzles.length);
  const labelFree = new Uint8Array(puzzles.length);
  puzzles.forEach((i, j) => {
    const s = solvedWith(m, i, checkpoints, perturbations);
    oracle[j] = s.oracle ? 1 : 0;
    labelFree[j] = s.labelFree ? 1 : 0;
  });
  return { oracle, labelFree };
}

function mean(bits: Uint8Array, subset?: readonly number[]): number {
  const idx = subset ?? range(0, bits.length);
  if (idx.length === 0) return NaN;
  let s = 0;
  for (const i of idx) s += bits[i];
  return s / idx.length;
}

function accuracy(b: SolvedBits, subset?: readonly number[]): RuleAccuracy {
  return { oracle: mean(b.oracle, subset), labelFree: mean(b.labelFree, subset) };
}

/** Accuracy of one selection of checkpoints × perturbations over all puzzles. */
export function ensembleAccuracy(m: PassMatrix, checkpoints: readonly number[], perturbations: readonly number[]): RuleAccuracy {
  return accuracy(solvedBits(m, range(0, m.passes.length), checkpoints, perturbations));
}

function jaccard(rows: Uint8Array, C: number, N: number): Float64Array {
  const out = new Float64Array(C * C);
  for (let a = 0; a < C; a++) {
    for (let b = 0; b < C; b++) {
      let inter = 0;
      let union = 0;
      for (let i = 0; i < N; i++) {
        const x = rows[a * N + i];
        const y = rows[b * N + i];
        if (x && y) inter++;
        if (x || y) union++;
      }
      out[a * C + b] = union === 0 ? 1 : inter / union;
    }
  }
  return out;
}

export function buildEnsembleReport(m: PassMatrix, opts: ReportOptions = {}): EnsembleReport {
  const { C, P } = checkMatrix(m);
  const N = m.passes.length;
  const b = opts.baselineCheckpoint ?? C - 1;
  const id = opts.identityPerturbation ?? 0;
  if (C > 0 && !(Number.isInteger(b) && b >= 0 && b < C)) throw new RangeError(`ensemble report: baselineCheckpoint must be in 0..${C - 1}, got ${b}`);
  if (P > 0 && !(Number.isInteger(id) && id >= 0 && id < P)) throw new RangeError(`ensemble report: identityPerturbation must be in 0..${P - 1}, got ${id}`);
  const allC = range(0, C);
  const allP = range(0, P);
  const puzzles = range(0, N);
  const select: Record<ConfigName, [number[], number[]]> = {
    baseline: [C > 0 ? [b] : [], P > 0 ? [id] : []],
    relabeling: [C > 0 ? [b] : [], allP],
    checkpoints: [allC, P > 0 ? [id] : []],
    both: [allC, allP],
  };
  const solved = {} as Record<ConfigName, SolvedBits>;
  const summary = {} as Record<ConfigName, RuleAccuracy>;
  for (const name of CONFIG_NAMES) {
    solved[name] = solvedBits(m, puzzles, select[name][0], select[name][1]);
    summary[name] = accuracy(solved[name]);
  }
  const curve = (ks: number, sel: (k: number) => [number[], number[]]): CurvePoint[] =>
    range(1, ks + 1).map((k) => ({ k, ...ensembleAccuracy(m, ...sel(k)) }));
  const curves = {
    relabelings: curve(P, (k) => [[b], range(0, k)]),
    relabelingsAllCheckpoints: curve(P, (k) => [allC, range(0, k)]),
    checkpoints: curve(C, (k) => [range(C - k, C), [id]]),
    checkpointsAllRelabelings: curve(C, (k) => [range(C - k, C), allP]),
  };
  const passHalted = new Uint8Array(N * C * P);
  const passExact = new Uint8Array(N * C * P);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < P; p++) {
        const pass = m.passes[i][c][p];
        passHalted[(i * C + c) * P + p] = pass.halted ? 1 : 0;
        passExact[(i * C + c) * P + p] = answersEqual(pass.answer, m.solutions[i]) ? 1 : 0;
      }
    }
  }
  const checkpointSolved: SolvedBits = { oracle: new Uint8Array(C * N), labelFree: new Uint8Array(C * N) };
  for (let c = 0; c < C; c++) {
    const bits = solvedBits(m, puzzles, [c], allP);
    checkpointSolved.oracle.set(bits.oracle, c * N);
    checkpointSolved.labelFree.set(bits.labelFree, c * N);
  }
  let bands: BandRow[] | undefined;
  if (m.ratings) {
    const edges = opts.ratingBands ?? [0, 1, 10, 100, Infinity];
    for (let e = 1; e < edges.length; e++) if (!(edges[e] > edges[e - 1])) throw new RangeError('ensemble report: ratingBands must be strictly ascending');
    const ratings = m.ratings;
    bands = range(0, edges.length - 1).map((e) => {
      const lo = edges[e];
      const hi = edges[e + 1];
      const members = puzzles.filter((i) => ratings[i] >= lo && ratings[i] < hi);
      const s = {} as Record<ConfigName, RuleAccuracy>;
      for (const name of CONFIG_NAMES) s[name] = accuracy(solved[name], members);
      return { lo, hi, count: members.length, summary: s };
    });
  }
  return {
    puzzles: N, checkpoints: C, perturbations: P,
    baselineCheckpoint: b, identityPerturbation: id,
    checkpointNames: allC.map((c) => m.checkpointNames?.[c] ?? `checkpoint ${c + 1}`),
    perturbationNames: allP.map((p) => m.perturbationNames?.[p] ?? `p=${p}`),
    puzzleIds: puzzles.map((i) => m.puzzleIds?.[i] ?? String(i)),
    summary, solved, curves, passHalted, passExact, checkpointSolved,
    jaccard: { oracle: jaccard(checkpointSolved.oracle, C, N), labelFree: jaccard(checkpointSolved.labelFree, C, N) },
    bands,
  };
}

// ---------------------------------------------------------------- writers

/** JSON text: typed arrays become arrays; NaN and ±Infinity become null. */
export function reportToJson(r: EnsembleReport, space = 2): string {
  return JSON.stringify(r, (_key, value: unknown) => {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
    return value;
  }, space);
}

function csvCell(v: string | number | boolean): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : (Number.isNaN(v) ? '' : (v > 0 ? 'inf' : '-inf'));
  if (typeof v === 'boolean') return v ? '1' : '0';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csv(rows: readonly (readonly (string | number | boolean)[])[]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** configuration,checkpoints,perturbations,oracle,labelFree */
export function summaryCsv(r: EnsembleReport): string {
  const sizes: Record<ConfigName, [number, number]> = {
    baseline: [1, 1], relabeling: [1, r.perturbations], checkpoints: [r.checkpoints, 1], both: [r.checkpoints, r.perturbations],
  };
  return csv([['configuration', 'checkpoints', 'perturbations', 'oracle', 'labelFree'],
    ...CONFIG_NAMES.map((n) => [n, ...sizes[n], r.summary[n].oracle, r.summary[n].labelFree])]);
}

/** curve,k,oracle,labelFree */
export function curvesCsv(r: EnsembleReport): string {
  const rows: (string | number)[][] = [['curve', 'k', 'oracle', 'labelFree']];
  for (const [name, pts] of Object.entries(r.curves) as [string, CurvePoint[]][]) {
    for (const p of pts) rows.push([name, p.k, p.oracle, p.labelFree]);
  }
  return csv(rows);
}

/** puzzle,checkpoint,perturbation,halted,exact — one row per pass. */
export function passesCsv(r: EnsembleReport): string {
  const rows: (string | number)[][] = [['puzzle', 'checkpoint', 'perturbation', 'halted', 'exact']];
  const { checkpoints: C, perturbations: P } = r;
  for (let i = 0; i < r.puzzles; i++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < P; p++) {
        const j = (i * C + c) * P + p;
        rows.push([r.puzzleIds[i], r.checkpointNames[c], r.perturbationNames[p], r.passHalted[j], r.passExact[j]]);
      }
    }
  }
  return csv(rows);
}

/** puzzle, then <config>_oracle and <config>_labelFree for each configuration (1 = solved). */
export function solvedCsv(r: EnsembleReport): string {
  const header = ['puzzle', ...CONFIG_NAMES.flatMap((n) => [`${n}_oracle`, `${n}_labelFree`])];
  const rows: (string | number)[][] = [header];
  for (let i = 0; i < r.puzzles; i++) {
    rows.push([r.puzzleIds[i], ...CONFIG_NAMES.flatMap((n) => [r.solved[n].oracle[i], r.solved[n].labelFree[i]])]);
  }
  return csv(rows);
}

/** C×C Jaccard matrix with checkpoint names as header and first column. */
export function jaccardCsv(r: EnsembleReport, rule: 'oracle' | 'labelFree' = 'oracle'): string {
  const C = r.checkpoints;
  const J = r.jaccard[rule];
  return csv([['checkpoint', ...r.checkpointNames], ...range(0, C).map((a) => [r.checkpointNames[a], ...range(0, C).map((b) => J[a * C + b])])]);
}

/** lo,hi,count, then <config>_oracle and <config>_labelFree; empty when the matrix had no ratings. */
export function bandsCsv(r: EnsembleReport): string {
  const header = ['lo', 'hi', 'count', ...CONFIG_NAMES.flatMap((n) => [`${n}_oracle`, `${n}_labelFree`])];
  return csv([header, ...(r.bands ?? []).map((b) => [b.lo, b.hi, b.count, ...CONFIG_NAMES.flatMap((n) => [b.summary[n].oracle, b.summary[n].labelFree])])]);
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The report as the ensemble panel receives it (engine `ensemble` → EnsembleResult.detail): compact and JSON-safe. */
export function ensembleDetail(r: EnsembleReport): EnsembleDetail {
  const curve = (pts: readonly CurvePoint[]) => pts.map((p) => ({ k: p.k, oracle: finiteOrNull(p.oracle), labelFree: finiteOrNull(p.labelFree) }));
  let passes = '';
  for (let i = 0; i < r.passExact.length; i++) passes += String(r.passExact[i] + 2 * r.passHalted[i]);
  const solved = {} as Record<ConfigName, string>;
  for (const name of CONFIG_NAMES) {
    const s = r.solved[name];
    solved[name] = Array.from(s.oracle, (o, i) => String(o + 2 * s.labelFree[i])).join('');
  }
  return {
    checkpointNames: r.checkpointNames, perturbationNames: r.perturbationNames, puzzleIds: r.puzzleIds,
    baselineCheckpoint: r.baselineCheckpoint, identityPerturbation: r.identityPerturbation,
    curves: {
      relabelings: curve(r.curves.relabelings), relabelingsAllCheckpoints: curve(r.curves.relabelingsAllCheckpoints),
      checkpoints: curve(r.curves.checkpoints), checkpointsAllRelabelings: curve(r.curves.checkpointsAllRelabelings),
    },
    passes, solved,
    jaccard: { oracle: Array.from(r.jaccard.oracle, finiteOrNull), labelFree: Array.from(r.jaccard.labelFree, finiteOrNull) },
  };
}
