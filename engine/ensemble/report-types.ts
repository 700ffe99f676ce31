/**
 * The ensemble report as it travels: from the engine (`ensemble` → EnsembleResult.detail, engine/ensemble/report.ts
 * ensembleDetail) through the extension host to the ensemble panel's webview (webview/protocol.ts EnsembleView).
 * Types only, and no imports: webview/ imports this file with `import type`.
 */

/** The four configurations of the ablation (engine/ensemble/report.ts). */
export type EnsembleConfig = 'baseline' | 'relabeling' | 'checkpoints' | 'both';

/** Accuracy under the oracle rule and the label-free vote; null over no puzzles. */
export interface RuleFigures {
  oracle: number | null;
  labelFree: number | null;
}

/** Accuracy of an ensemble of the first k relabelings or the last k checkpoints; null over no puzzles. */
export interface EnsembleCurvePoint extends RuleFigures {
  k: number;
}

/** The accuracy curves: against the relabelings (baseline checkpoint, or all) and the checkpoints (identity, or all). */
export type EnsembleCurveName = 'relabelings' | 'relabelingsAllCheckpoints' | 'checkpoints' | 'checkpointsAllRelabelings';

/** What the ensemble report panel draws: names, curves, every pass, the solved sets. Compact and JSON-safe. */
export interface EnsembleDetail {
  checkpointNames: string[];
  perturbationNames: string[];
  puzzleIds: string[];
  /** Index of the baseline checkpoint (the last) and of the identity relabeling. */
  baselineCheckpoint: number;
  identityPerturbation: number;
  curves: Record<EnsembleCurveName, EnsembleCurvePoint[]>;
  /**
   * One digit per pass, row-major [puzzle][checkpoint][perturbation]: exact + 2 · halted ('0' wrong, '1' exact,
   * '2' wrong and halted, '3' exact and halted). A string keeps 200 × 5 × 9 passes small on the wire.
   */
  passes: string;
  /** Per configuration, one digit per puzzle: oracle + 2 · label-free (1 = solved by the oracle rule only, …). */
  solved: Record<EnsembleConfig, string>;
  /** Row-major C × C Jaccard overlap of the puzzles each checkpoint solves (all relabelings), per rule. */
  jaccard: { oracle: (number | null)[]; labelFree: (number | null)[] };
}
