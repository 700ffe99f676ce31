/**
 * Engine methods for the paper's analyses over many puzzles (engine/protocol.ts `EngineMethods`): the easy-puzzle
 * fixed-point probe and the ensemble report (relabelings × checkpoints, oracle and label-free votes). Each returns
 * the figures the host shows plus the same text report the CLI prints (`hrm-lens probe`, `hrm-lens ensemble`).
 * Types only: bundled into the extension host.
 */

export interface ProbeParams {
  /** One checkpoint, or two to compare (e.g. trained without and with data mixing). */
  checkpoints: string[];
  /** Masks: `cell`, `row`, `box`, `random:K` (default: cell, row, box, random:5). */
  masks?: string[];
  /** Solved grids per mask (default 100). */
  count?: number;
  /** Segments (default: the model's haltMaxSteps). */
  segments?: number;
  seed?: number;
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
  /** Checkpoints per run folder (default 5). */
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
}

export interface EnsembleResult {
  puzzles: number;
  checkpoints: number;
  perturbations: number;
  /** Accuracy per configuration: baseline, relabeling, checkpoints, both; oracle and label-free. */
  summary: Record<'baseline' | 'relabeling' | 'checkpoints' | 'both', { oracle: number; labelFree: number }>;
  seconds: number;
  /** The report as `hrm-lens ensemble` prints it. */
  text: string;
}

export interface AnalysisMethods {
  probe: { params: ProbeParams; result: ProbeResult; progress: { done: number; total: number } };
  ensemble: { params: EnsembleParams; result: EnsembleResult; progress: { done: number; total: number } };
}
