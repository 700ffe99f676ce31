/**
 * Engine methods for the paper's analyses over many puzzles (engine/protocol.ts `EngineMethods`): the easy-puzzle
 * fixed-point probe and the ensemble report (relabelings × checkpoints, oracle and label-free votes). Each returns
 * the figures the host shows plus the same text report the CLI prints (`hrm-lens probe`, `hrm-lens ensemble`).
 * Types only: bundled into the extension host, and imported (`import type`) by webview/protocol.ts.
 */
import type { EnsembleConfig, EnsembleDetail } from '../ensemble/report-types';
import type { TorchParams } from '../torch/torch-protocol';

export type { EnsembleConfig, EnsembleCurvePoint, EnsembleCurveName, EnsembleDetail, RuleFigures } from '../ensemble/report-types';

export interface ProbeParams {
  /** One checkpoint, or two to compare (e.g. trained without and with data mixing). */
  checkpoints: string[];
  /** Masks: `cell`, `row`, `box`, `random:K` (default: cell, row, box, random:5). */
  masks?: string[];
  /** Solved grids per mask (default 100; with `data`, its first `count` rows). */
  count?: number;
  /** A dataset file whose solved grids are probed (the answers, or solved); default: generated grids. */
  data?: string;
  /** Segments (default: the model's haltMaxSteps). */
  segments?: number;
  seed?: number;
  /** Run the forward passes on the PyTorch worker (engine/torch/torch-protocol.ts); absent: TF.js. */
  torch?: TorchParams;
}

export interface ProbeFigures {
  checkpoint: string;
  mask: string;
  puzzles: number;
  finalAccuracy: number;
  /** null when no puzzle was ever exact. */
  stabilityRate: number | null;
  corruptionEvents: number;
  exactBySegment: number[];
}

export interface ProbeResult {
  /** Per checkpoint and mask, then one row per checkpoint with mask 'all'. */
  rows: ProbeFigures[];
  segments: number;
  seconds: number;
  /** The report as `hrm-lens probe` prints it. */
  text: string;
}

export interface EnsembleParams {
  /** Checkpoint files, or run folders (their last `last` checkpoints). */
  sources: string[];
  /** Checkpoints per run folder (default 10, the paper's: engine/ensemble/defaults.ts). */
  last?: number;
  /** 'shifts' (the paper's cyclic relabelings, default), 'relabel', 'symmetries', 'mixed'. */
  perturb?: 'shifts' | 'relabel' | 'symmetries' | 'mixed';
  /** Perturbations (default: n for shifts, else 9). */
  count?: number;
  /** A dataset file (CSV / one per line, with answers); default: `generate` generated puzzles. */
  data?: string;
  generate?: number;
  limit?: number;
  segments?: number;
  seed?: number;
  /** Run the forward passes on the PyTorch worker (engine/torch/torch-protocol.ts); absent: TF.js. */
  torch?: TorchParams;
}

export interface EnsembleResult {
  puzzles: number;
  checkpoints: number;
  perturbations: number;
  /** Accuracy per configuration: baseline, relabeling, checkpoints, both; oracle and label-free. */
  summary: Record<EnsembleConfig, { oracle: number; labelFree: number }>;
  seconds: number;
  /** The report as `hrm-lens ensemble` prints it. */
  text: string;
  /** What the ensemble report panel draws: names, curves, every pass, the solved sets. */
  detail: EnsembleDetail;
}

export interface LandscapeParams {
  checkpoint: string;
  /** 16/36/81 characters, '.' or '0' blanks. */
  puzzle: string;
  /** Grid points per side, odd (default 41). */
  size?: number;
  /** Grid unit in z_H norm (default √(seq·hidden)/8). */
  step?: number;
  /** Segments of the trace (default: the model's haltMaxSteps). */
  segments?: number;
  /** Basin labels (iterate every point until its decoded grid settles). */
  basins?: boolean;
  /** Run the forward passes on the PyTorch worker (engine/torch/torch-protocol.ts); absent: TF.js. */
  torch?: TorchParams;
}

/** A fixed point that points of the landscape settle into: the solution's basin (label 0) or spurious #k (k ≥ 1). */
export interface LandscapeAttractor {
  label: number;
  kind: 'solution' | 'spurious';
  /** The decoded grid it settles to. */
  grid: string;
  /** Its conflict energy E. */
  energy: number;
  /** Grid points in its basin. */
  points: number;
}

export interface LandscapeResult {
  size: number;
  radius: number;
  step: number;
  segments: number;
  /** Row-major [j + r][i + r]: conflict energy E of the decoded grid at each point. */
  heights: Int16Array;
  /** Destination (i, j) of each point after one segment, in grid units, [point][2]. */
  flow: Float32Array;
  /** z_H after every H-update relative to the centre, in grid units, [update][2]. */
  trajectory: Float32Array;
  segmentEnds: number[];
  explainedVarianceRatio: number[];
  centreEnergy: number;
  /** Per point: 0 solution, k ≥ 1 spurious fixed point #k, −1 still moving (with `basins`). */
  basins: { labels: Int16Array; attractors: LandscapeAttractor[]; moving: number } | null;
  seconds: number;
}

export interface AnalysisMethods {
  /** The error landscape of one puzzle on its PC1/PC2 plane (progress per batch of points; cancellable). */
  landscape: { params: LandscapeParams; result: LandscapeResult; progress: { done: number; total: number } };
  probe: { params: ProbeParams; result: ProbeResult; progress: { done: number; total: number } };
  ensemble: { params: EnsembleParams; result: EnsembleResult; progress: { done: number; total: number } };
}
