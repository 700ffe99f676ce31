/**
 * The reproduction report as it travels (`hrm-lens reproduce` → report.json; later the engine process and the VS Code
 * panel): the ONE definition of its wire types. Types only, and only type imports of types-only files: webview/
 * imports this file with `import type`. Every number is JSON-safe: a value that does not exist (a rate over nothing,
 * an interval over no data) is null, never NaN.
 *
 * Conventions (engine/paper/*.ts compute them; engine/paper/markdown.ts renders them):
 *   Proportion   k of n, value = k / n, with the 95% Wilson score interval [lo, hi] (z = 1.959964); all null when n = 0.
 *   SeedSpread   one value per training run (seed) of an arm: mean, sample standard deviation and the 95% Student-t
 *                interval mean ± t(0.975, r − 1)·sd/√r over the r runs that have a value, clipped to [0, 1] for
 *                rates; null where r < 2.
 *   Quartiles    n values: mean, and the quartiles by linear interpolation between order statistics (position
 *                (n − 1)·p, 0-based; the "type 7" rule); null when n = 0.
 *   Segments are 1-based. Per-pass and per-segment strings hold one character per entry ('0' / '1').
 *   `recompute` strings are command lines (`hrm-lens …`) that recompute the numbers beside them from the same files.
 */
import type { EnsembleConfig, EnsembleCurveName } from '../ensemble/report-types';

export type PaperArm = 'baseline' | 'mixing';

/** The four reasoning modes (engine/analysis/modes.ts). */
export type PaperReasoningMode = 'trivial-success' | 'non-trivial-success' | 'trivial-failure' | 'non-trivial-failure';

/** The report's sections, for figure references. */
export type PaperSection = 'heldOut' | 'factA' | 'factB' | 'factC' | 'guessScaling';

export interface Proportion {
  k: number;
  n: number;
  value: number | null;
  lo: number | null;
  hi: number | null;
}

export interface SeedSpread {
  /** Per run, in the arm's order (null where the run has no value). */
  values: (number | null)[];
  /** Runs with a value. */
  runs: number;
  mean: number | null;
  sd: number | null;
  min: number | null;
  max: number | null;
  lo: number | null;
  hi: number | null;
}

export interface Quartiles {
  n: number;
  mean: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
}

// ------------------------------------------------------------------ inputs

export interface PaperRunInput {
  arm: PaperArm;
  /** The run folder (absolute). */
  dir: string;
  /** From run.json (null when it does not say: an imported run). */
  preset: string | null;
  seed: number | null;
  mixing: boolean | null;
  mixingMode: string | null;
  /** The newest checkpoint: "the model" of this run. */
  checkpoint: string;
  step: number;
  /** step-N.safetensors files in the folder. */
  checkpointsAvailable: number;
  /** The checkpoints of the bootstrap ensemble, oldest first (the first run of each arm only; empty otherwise). */
  ensembleCheckpoints: string[];
}

export type PaperDataInput =
  | { kind: 'file'; file: string; puzzles: number }
  | {
    kind: 'generated';
    /** The generator seed (hrm-lens data generate --seed). */
    seed: number;
    minClues: number | null;
    maxClues: number | null;
    puzzles: number;
    /** The run whose run.json gave the generation settings. */
    from: string;
  };

export interface PaperOptions {
  /** Relabelings per puzzle, the identity included. */
  relabelings: number;
  /** Cyclic digit shifts (the paper's) when relabelings ≤ n, else the identity and random digit permutations. */
  perturbation: 'shifts' | 'relabel';
  /** Checkpoints of the bootstrap ensemble (the last N of a run). */
  checkpoints: number;
  segments: number;
  landscapeSample: number;
  /** Landscape grid points per side. */
  landscapeSize: number;
  /** K: a failure is stuck when its decoded grid is identical over the last K segments. */
  stuckWindow: number;
  /** Success from a segment ≤ this on is trivial (the modes' K). */
  trivialWithin: number;
  /** Offsets −w…+w of the curves aligned at the critical segment. */
  alignWindow: number;
  probeMasks: string[];
  /** Puzzles per forward batch (probe, traces, evaluation) and rows per ensemble batch. */
  batch: number;
  maxRows: number;
}

export interface PaperInputs {
  runs: Record<PaperArm, PaperRunInput[]>;
  gridSize: number;
  data: PaperDataInput;
  /** The held-out puzzles as written into the report folder (CSV with answers). */
  heldOutFile: string;
  puzzles: number;
  seeds: { heldOut: number; probe: number; sample: number };
  options: PaperOptions;
}

// ------------------------------------------------------------------ held-out evaluation

export interface HeldOutRun {
  arm: PaperArm;
  run: string;
  checkpoint: string;
  step: number;
  /** Exact at the last segment (all cells right, givens included; halting off). */
  exact: Proportion;
  /** Mean over puzzles of the fraction of right cells at the last segment. */
  cell: number;
  /** q_halt > q_continue at the last segment. */
  halted: Proportion;
  /** Per puzzle: wrong cells at the last segment. */
  wrong: number[];
  /** Per puzzle: '1' when halted at the last segment. */
  haltedFlags: string;
  recompute: string;
}

export interface HeldOutSection {
  puzzles: number;
  segments: number;
  /** Cells per puzzle (n²). */
  cells: number;
  runs: HeldOutRun[];
  recompute: string[];
}

// ------------------------------------------------------------------ fact (a)

export interface ProbeStats {
  puzzles: number;
  everExact: number;
  /** Stable = exact at every segment from the first exact one to the last; over the puzzles ever exact. */
  stable: Proportion;
  finalExact: Proportion;
  /** Puzzles with at least one corruption (exact at k − 1, not at k); over all puzzles. */
  corrupted: Proportion;
  corruptionEvents: number;
  exactBySegment: Proportion[];
}

export interface ProbePuzzleRaw {
  id: string;
  mask: string;
  blanks: number;
  /** Per segment: '1' exact. */
  exact: string;
  firstExact: number | null;
  stableFrom: number | null;
  corruptions: number[];
}

export interface FactARun {
  arm: PaperArm;
  run: string;
  checkpoint: string;
  overall: ProbeStats;
  byMask: (ProbeStats & { mask: string })[];
  raw: ProbePuzzleRaw[];
  recompute: string;
}

export interface FactAArm {
  arm: PaperArm;
  runs: number;
  /** Fewer than 3 training runs: no meaningful across-seed spread. */
  fewRuns: boolean;
  /** Every run's probe puzzles together. */
  pooled: ProbeStats;
  /** Null with one run. */
  acrossSeeds: { stabilityRate: SeedSpread; corruptedRate: SeedSpread; finalAccuracy: SeedSpread } | null;
}

export interface FactASection {
  definitions: string[];
  masks: string[];
  /** Solved grids (each blanked once per mask). */
  solvedGrids: number;
  segments: number;
  runs: FactARun[];
  arms: FactAArm[];
  notes: string[];
  recompute: string[];
}

// ------------------------------------------------------------------ fact (b)

export interface FactBPuzzleRaw {
  id: string;
  puzzle: string;
  wrong: number[];
  loss: number[];
  criticalSegment: number | null;
  criticalDrop: number;
  bestSegment: number;
  totalFall: number;
  /** Null when excluded (no fall). */
  suddenness: number | null;
}

export interface AlignedPoint {
  offset: number;
  wrong: Quartiles;
  loss: Quartiles;
}

export interface FactBArm {
  arm: PaperArm;
  run: string;
  checkpoint: string;
  puzzles: number;
  included: number;
  /** Puzzles whose wrong cells never fall below segment 1's count. */
  excludedNoFall: number;
  /** Included puzzles whose critical fall exceeds the total fall (they rose first): suddenness clipped to 1. */
  clipped: number;
  criticalHistogram: { segment: number; count: number }[];
  suddennessHistogram: { lo: number; hi: number; count: number }[];
  suddenness: Quartiles;
  aligned: AlignedPoint[];
  raw: FactBPuzzleRaw[];
  recompute: string[];
}

export interface FactBSection {
  definitions: string[];
  segments: number;
  arms: FactBArm[];
  recompute: string[];
}

// ------------------------------------------------------------------ fact (c)

export interface FactCPuzzleRaw {
  id: string;
  finalExact: boolean;
  mode: PaperReasoningMode;
  /** Decoded grid identical over the last K segments. */
  gridStable: boolean;
  /** The modes' settled: gridStable and the late z_H drift below τ. */
  settled: boolean;
  late: number | null;
  finalEnergy: number;
  finalWrong: number | null;
}

export interface LandscapeAttractorRaw {
  label: number;
  kind: 'solution' | 'spurious';
  grid: string;
  energy: number;
  points: number;
}

export interface FactCLandscapePuzzle {
  id: string;
  puzzle: string;
  /** Basin label per grid point, row-major (0 solution, k ≥ 1 spurious #k, −1 still moving). */
  labels: number[];
  attractors: LandscapeAttractorRaw[];
  /** Distinct spurious fixed points (labels ≥ 1). */
  spurious: number;
  solutionPoints: number;
  movingPoints: number;
  recompute: string;
}

export interface FactCLandscape {
  size: number;
  step: number;
  maxSegments: number;
  patience: number;
  /** Failing puzzles, and how many were sampled (seeded). */
  failing: number;
  sampled: number;
  puzzles: FactCLandscapePuzzle[];
  spurious: Quartiles;
}

export interface FactCArm {
  arm: PaperArm;
  run: string;
  checkpoint: string;
  puzzles: number;
  failures: number;
  /** Failures whose decoded grid is identical over the last K segments, of all failures. */
  stuck: Proportion;
  /** Failures the modes call settled (also the drift below τ). */
  settled: number;
  moving: number;
  tau: number | null;
  tauSource: 'given' | 'otsu' | 'none';
  modes: Record<PaperReasoningMode, number>;
  landscape: FactCLandscape;
  raw: FactCPuzzleRaw[];
  recompute: string[];
}

export interface FactCSection {
  definitions: string[];
  window: number;
  arms: FactCArm[];
  recompute: string[];
}

// ------------------------------------------------------------------ guess scaling

export type GuessConfig =
  | 'baseline' | 'relabelings' | 'checkpoints' | 'relabelingsCheckpoints'
  | 'mixing' | 'mixingCheckpoints' | 'mixingRelabelings' | 'allThree';

export interface GuessRow {
  config: GuessConfig;
  label: string;
  arm: PaperArm;
  /** Which configuration of the arm's ensemble report it is. */
  ensemble: EnsembleConfig;
  checkpoints: number;
  relabelings: number;
  oracle: Proportion;
  labelFree: Proportion;
  /** The paper's exact accuracy in % (null where the paper has no such row). */
  paper: number | null;
  paperNote: string | null;
}

export interface GuessCurve {
  arm: PaperArm;
  curve: EnsembleCurveName;
  points: { k: number; oracle: number | null; labelFree: number | null }[];
}

/** One puzzle's passes, row-major [checkpoint][perturbation]. */
export interface EnsemblePuzzleRaw {
  id: string;
  solution: string;
  /** The distinct answers (digits, blank as '0'), in order of first appearance. */
  answers: string[];
  /** Conflict energy E of each distinct answer. */
  energies: number[];
  /** Per pass: index into `answers`. */
  pass: number[];
  /** Per pass: '1' when q_halt > q_continue at the last segment. */
  halted: string;
  /** Per pass: the raw q_halt logit. */
  qHalt: number[];
}

export interface GuessArmRaw {
  arm: PaperArm;
  run: string;
  checkpointNames: string[];
  perturbationNames: string[];
  puzzles: EnsemblePuzzleRaw[];
  recompute: string;
}

export interface GuessScalingSection {
  definitions: string[];
  perturbation: { kind: 'shifts' | 'relabel'; count: number; seed: number };
  rows: GuessRow[];
  curves: GuessCurve[];
  raw: GuessArmRaw[];
  notes: string[];
  recompute: string[];
}

// ------------------------------------------------------------------ agreement

export interface AgreementItem {
  fact: 'a' | 'b' | 'c' | 'guessScaling';
  title: string;
  verdict: 'agrees' | 'differs' | 'inconclusive';
  /** The rule, as applied. */
  rule: string;
  sentence: string;
}

export interface AgreementSection {
  items: AgreementItem[];
  recompute: string[];
}

// ------------------------------------------------------------------ the report

export interface FigureRef {
  name: string;
  title: string;
  section: PaperSection;
  /** Relative to the report folder. */
  png: string;
  svg: string;
}

export interface PaperReport {
  format: 'hrm-lens-paper-report';
  version: 1;
  created: string;
  engineVersion: string;
  /** The command that recomputes the whole report. */
  command: string;
  inputs: PaperInputs;
  heldOut: HeldOutSection;
  factA: FactASection;
  factB: FactBSection;
  factC: FactCSection;
  guessScaling: GuessScalingSection;
  agreement: AgreementSection;
  figures: FigureRef[];
  notes: string[];
  seconds: number;
}
