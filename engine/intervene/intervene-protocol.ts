/**
 * Engine methods for interventions on the latent state (engine/protocol.ts `EngineMethods`;
 * docs/analyses.md §Interventions): activation patching, kicks, the one-segment map's Jacobian spectrum, compute
 * sweeps and the logit lens inside a segment. Each returns the figures the inspector draws plus the text `hrm-lens patch | kick |
 * spectrum | sweep | lens` prints; each reports progress and is cancellable.
 * Types only: bundled into the extension host, and imported (`import type`) by webview/protocol.ts.
 */
import type { ReasoningMode } from '../analysis/mode-types';
import type { Proportion } from '../paper/report-types';
import type { TorchParams } from '../torch/torch-protocol';

/** Which half of the state (z_H, z_L) an intervention touches. */
export type StatePart = 'zH' | 'zL' | 'both';

/**
 * Where a patch's state comes from. The donor trajectory is run like the receiver (same segments, from the initial
 * state) and its state at the end of segment k replaces the receiver's.
 * - `trace`: another trajectory: another puzzle and/or another checkpoint of the same shape (absent fields: the
 *   receiver's own); what the Trajectories view holds.
 * - `relabel`: the receiver's puzzle under a digit relabeling (`perm[d-1]` is digit d's new digit). Positions are the
 *   same, so the state is patched position by position; the donor's decoded grid is mapped back through perm⁻¹.
 * - `latents`: a state saved by `--save-latents` (safetensors or .npy): its z_H / z_L at `segment` (1-based,
 *   default the last), batch row `row` (default 0).
 */
export type PatchSource =
  | { kind: 'trace'; checkpoint?: string; puzzle?: string }
  | { kind: 'relabel'; perm: number[] }
  | { kind: 'latents'; file: string; segment?: number; row?: number };

/** What a run from the initial state (or from a patched / kicked state) ends at. */
export interface InterventionOutcome {
  /** The decoded grid at the last segment, row-major digits ('.' never appears: every cell is decoded). */
  grid: string;
  /** Against the solution when it is known or unique; null when the puzzle has none to compare with. */
  exact: boolean | null;
  /** Wrong cells against the solution (null as `exact`). */
  wrongCells: number | null;
  /** Conflict energy E of the final grid (rule violations; 0 for a valid full grid). */
  energy: number;
  /** The reasoning mode of the whole trajectory (docs/analyses.md §Four reasoning modes). */
  mode: ReasoningMode;
  /** First segment (1-based) from which the decoded grid stays exact to the end; null if it never does. */
  segmentsToExact: number | null;
  /** Exact per segment (null entries where there is no solution to compare with). */
  exactBySegment: (boolean | null)[];
  /** Wrong cells per segment (null entries as above). */
  wrongBySegment: (number | null)[];
}

export interface PatchParams {
  checkpoint: string;
  /** The receiving trajectory's puzzle: 16/36/81 characters, '.' or '0' blanks. */
  puzzle: string;
  source: PatchSource;
  /** Default 'both'. */
  part?: StatePart;
  /** 0-based cell indices (row-major) to patch; default all positions, the puzzle prefix included. */
  cells?: number[];
  /** Segments k (1-based) after which the state is patched; default every k from 1 to segments − 1 (the sweep). */
  atSegments?: number[];
  /** Segments of every run (default: the model's haltMaxSteps). */
  segments?: number;
  /** Run the segments on the PyTorch worker (engine/torch/torch-protocol.ts); absent: TF.js. */
  torch?: TorchParams;
}

export interface PatchPoint extends InterventionOutcome {
  /** The state was replaced at the end of this segment (1-based). */
  atSegment: number;
  /** The patched run ends at the donor's final grid / at the receiver's own final grid. */
  endsAtDonor: boolean;
  endsAtReceiver: boolean;
}

export interface PatchResult {
  segments: number;
  part: StatePart;
  /** Cells patched; null = all positions. */
  cells: number[] | null;
  receiver: InterventionOutcome;
  donor: InterventionOutcome;
  /** One point per patched segment, ascending. */
  curve: PatchPoint[];
  /** The last k whose patch still ends at the donor's answer when the receiver's own run ends elsewhere; null if none. */
  rescuedUpTo: number | null;
  /** The first k from which no later patch leaves the receiver's own final grid; null if none. */
  inescapableFrom: number | null;
  seconds: number;
  /** The report as `hrm-lens patch` prints it. */
  text: string;
}

export interface KickParams extends KickSettings {
  checkpoint: string;
  puzzle: string;
  /** Run the segments on the PyTorch worker (engine/torch/torch-protocol.ts); absent: TF.js. */
  torch?: TorchParams;
}

/** How a kick is made (`intervene.kick`, `intervene.kickData`): when, how far, along which directions. */
export interface KickSettings {
  /** Segments run before the kick (default: the model's haltMaxSteps). */
  segments?: number;
  /** Segments run after the kick (default: the same as `segments`). */
  runOn?: number;
  /** Kick sizes ε, relative to the state's norm ‖z‖ (default 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1). */
  epsilons?: number[];
  /** Random unit directions per ε (default 16). */
  directions?: number;
  /** Top principal directions of the trajectory, each pushed both ways (default 2). */
  pcs?: number;
  /** Default 'both'. */
  part?: StatePart;
  seed?: number;
}

export interface KickPoint {
  epsilon: number;
  /** Kicks along random directions that came back to the same decoded grid, of `total`. */
  random: { returned: number; total: number };
  /** Kicks along ± the trajectory's principal directions that came back, of `total`. */
  principal: { returned: number; total: number };
  /** Decoded grids the escaped kicks ended at (distinct), each with its count and energy. */
  escapes: { grid: string; count: number; energy: number; exact: boolean | null }[];
}

export interface KickResult {
  /** The unkicked run's end. */
  outcome: InterventionOutcome;
  /** ‖z‖ at the kicked state (absolute scale of ε = 1). */
  stateNorm: number;
  /**
   * The grid a kick must come back to: the unkicked state's own after the run-on segments (the outcome's grid at a
   * fixed point), and whether it is the solution (null without one).
   */
  reference: { grid: string; exact: boolean | null };
  curve: KickPoint[];
  /** The largest ε at which at least `basinLevel` of all kicks came back (null: not even the smallest). */
  basinRadius: number | null;
  basinLevel: number;
  seconds: number;
  text: string;
}

export interface SpectrumParams extends SpectrumSettings {
  checkpoint: string;
  puzzle: string;
}

/** How the spectrum is computed (`intervene.spectrum`, engine/intervene/spectrum.ts). */
export interface SpectrumSettings {
  /** The state at the end of this segment (1-based; default: the model's haltMaxSteps). */
  atSegment?: number;
  /** Leading eigenvalues wanted (default 6). */
  count?: number;
  /**
   * Stop when every wanted Ritz pair's relative residual is below this (default 1e-4). The residuals are measured on
   * Jᵀ's Ritz vectors (Arnoldi on v ↦ Jᵀv: reverse mode, exact; the same eigenvalues as J).
   */
  tolerance?: number;
  /** Krylov dimension cap (default 60). */
  maxIterations?: number;
  part?: StatePart;
  seed?: number;
}

export interface SpectrumResult {
  atSegment: number;
  part: StatePart;
  /** Dimension of the state the map acts on. */
  dimension: number;
  /** |λ₁|: the spectral radius estimate. */
  spectralRadius: number;
  /** Leading eigenvalues by modulus, descending. */
  eigenvalues: { re: number; im: number; residual: number }[];
  iterations: number;
  converged: boolean;
  tolerance: number;
  /** The state's own end: exact or not (the map is linearised at it). */
  outcome: InterventionOutcome;
  /** ‖F(z) − z‖ / ‖z‖ at the state: how close it is to a fixed point. */
  fixedPointResidual: number;
  seconds: number;
  text: string;
}

export interface SweepParams {
  checkpoint: string;
  /** Puzzles (with answers after a comma where known); or `data`. */
  puzzles?: string[];
  data?: string;
  /** Puzzles taken from `data` (default 100). */
  count?: number;
  /** H-cycle counts to try (default: the trained one, −1, +1, ×2). */
  hCycles?: number[];
  lCycles?: number[];
  segments?: number[];
}

export interface SweepCell {
  hCycles: number;
  lCycles: number;
  segments: number;
  /** Updates per puzzle: segments × H_cycles × (L_cycles + 1). */
  compute: number;
  exact: number;
  cell: number;
  modes: Record<ReasoningMode, number>;
  trained: boolean;
}

export interface SweepResult {
  puzzles: number;
  trained: { hCycles: number; lCycles: number; segments: number };
  cells: SweepCell[];
  seconds: number;
  text: string;
}

export interface LensParams {
  checkpoint: string;
  puzzle: string;
  segments?: number;
}

/** One update inside a segment, decoded through the output head. */
export interface LensStep {
  segment: number;
  /** H-cycle (1-based). */
  h: number;
  /** L-step (1-based) for a z_L update; null for the H-update that closes H-cycle h. */
  l: number | null;
  /** The state decoded: z_H (the head's own input) or z_L (through the same head, an off-distribution read). */
  state: 'zH' | 'zL';
  grid: string;
  wrongCells: number | null;
  energy: number;
  /** Mean probability of the argmax digit over blank cells. */
  confidence: number;
}

export interface LensResult {
  segments: number;
  steps: LensStep[];
  /** The update (index into `steps`, z_H reads only) where the wrong cells drop the most; null when nothing drops. */
  jump: number | null;
  seconds: number;
  text: string;
}

/**
 * The puzzles of a dataset-level intervention: the first `limit` rows of a dataset file (solutions from the file or
 * the solver), or `generate` unique-solution puzzles generated with `seed`.
 */
export interface InterventionPuzzles {
  data?: string;
  limit?: number;
  generate?: number;
  seed?: number;
}

/**
 * Patching over a dataset: every puzzle's receiver run on `checkpoint` is patched, after every k, with the state of
 * the same puzzle on another checkpoint (`trace` with a checkpoint) or under a digit relabeling (`relabel`).
 */
export interface PatchDataParams {
  checkpoint: string;
  source: { kind: 'trace'; checkpoint: string } | { kind: 'relabel'; perm: number[] };
  puzzles: InterventionPuzzles;
  part?: StatePart;
  cells?: number[];
  atSegments?: number[];
  segments?: number;
  /** Run the segments on the PyTorch worker (engine/torch/torch-protocol.ts); absent: TF.js. */
  torch?: TorchParams;
}

/** The patching curve over a dataset at one k. */
export interface PatchDataPoint {
  atSegment: number;
  /** Of the puzzles the receiver gets wrong and the donor right, those whose patched run ends exact (95% Wilson). */
  rescued: Proportion;
  /** Of the puzzles the receiver gets right and the donor wrong, those whose patched run no longer ends exact. */
  corrupted: Proportion;
  /** Of all puzzles, those whose patched run ends at the receiver's own final grid. */
  endsAtReceiver: Proportion;
}

/** One puzzle of a dataset-level patch. */
export interface PatchDataRow {
  /** Where the puzzle came from ("line 12", "gen 3"). */
  id: string;
  receiverExact: boolean;
  donorExact: boolean;
  rescuedUpTo: number | null;
  inescapableFrom: number | null;
}

export interface PatchDataResult {
  segments: number;
  part: StatePart;
  cells: number[] | null;
  /** What the puzzles were (the file, or "N generated n×n puzzles (seed S)"). */
  source: string;
  puzzles: number;
  receiverExact: Proportion;
  donorExact: Proportion;
  curve: PatchDataPoint[];
  /** Over the puzzles the donor rescues at some k: the last such k (rescuedUpTo), its quartiles. */
  rescuedUpTo: { puzzles: number; median: number | null; q1: number | null; q3: number | null };
  rows: PatchDataRow[];
  seconds: number;
  text: string;
}

/**
 * Kicks over a dataset (one or two checkpoints on the same puzzles): every puzzle's end state is kicked as
 * `intervene.kick` does (the same directions for every puzzle and checkpoint), and the basin radii are summarised
 * for the answers that are correct and for those that are wrong; with two checkpoints, paired on the puzzles both
 * answer correctly.
 */
export interface KickDataParams extends KickSettings {
  /** One checkpoint, or two of the same grid size to compare. */
  checkpoints: string[];
  puzzles: InterventionPuzzles;
  /** Run the segments on the PyTorch worker (engine/torch/torch-protocol.ts); absent: TF.js. */
  torch?: TorchParams;
}

/** Basin radii of one class of answers (correct or wrong) of one checkpoint. */
export interface BasinClass {
  puzzles: number;
  /** How many puzzles have each radius: one entry per ε of the sweep, then `epsilon: null` for "below the smallest ε". */
  radius: { epsilon: number | null; count: number }[];
  /** The median radius (null when below the smallest ε, or when the class is empty). */
  medianRadius: number | null;
  /** Per ε: the mean share of kicks that came back, with a 95% normal interval over the puzzles (null when empty). */
  returned: { epsilon: number; mean: number | null; lo: number | null; hi: number | null }[];
  /** Per ε: the mean share of kicks that ended at the puzzle's solution. */
  toExact: { epsilon: number; mean: number | null }[];
}

export interface KickDataCheckpoint {
  /** The checkpoint's file name. */
  label: string;
  checkpoint: string;
  exact: Proportion;
  correct: BasinClass;
  wrong: BasinClass;
}

/** Two checkpoints' basin radii on the puzzles both answer correctly (radii compared as ranks of the ε sweep). */
export interface KickDataComparison {
  paired: number;
  /** Puzzles where the second checkpoint's radius is larger / smaller / the same. */
  wider: number;
  narrower: number;
  same: number;
  /** Two-sided exact sign test of wider against narrower (ties dropped); null without any untied pair. */
  signTestP: number | null;
}

export interface KickDataRow {
  id: string;
  /** Per checkpoint: the run ended exact. */
  exact: boolean[];
  /** Per checkpoint: the basin radius (null: below the smallest ε). */
  radius: (number | null)[];
}

export interface KickDataResult {
  source: string;
  puzzles: number;
  epsilons: number[];
  /** Kicks per ε per puzzle (random + 2 · principal). */
  kicksPerEpsilon: number;
  basinLevel: number;
  checkpoints: KickDataCheckpoint[];
  comparison: KickDataComparison | null;
  rows: KickDataRow[];
  seconds: number;
  text: string;
}

/** Patching and kicks (engine/intervene/patch.ts, kick.ts). */
export interface PatchKickMethods {
  'intervene.patch': { params: PatchParams; result: PatchResult; progress: { done: number; total: number } };
  'intervene.kick': { params: KickParams; result: KickResult; progress: { done: number; total: number } };
  'intervene.patchData': { params: PatchDataParams; result: PatchDataResult; progress: { done: number; total: number } };
  'intervene.kickData': { params: KickDataParams; result: KickDataResult; progress: { done: number; total: number } };
}

/** The map's local stability, compute sweeps and the logit lens (engine/intervene/spectrum.ts, sweep.ts, lens.ts). */
export interface MapAnalysisMethods {
  'intervene.spectrum': { params: SpectrumParams; result: SpectrumResult; progress: { done: number; total: number } };
  'intervene.sweep': { params: SweepParams; result: SweepResult; progress: { done: number; total: number } };
  'intervene.lens': { params: LensParams; result: LensResult; progress: { done: number; total: number } };
}

export interface InterventionMethods extends PatchKickMethods, MapAnalysisMethods {}
